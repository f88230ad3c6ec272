"""The walking network of a workspace's streets, built once and kept beside the workspace.

Building the network from a city's street lines (splitting them at every
junction, joining near-missed ends) takes longer than the living-circle
analysis that walks it.  :func:`workspace_network` builds it the first
time and stores it in a file beside the workspace, ``.<workspace>.network.npz``;
later runs read it back while the streets and the network rules are what
they were.

The file is a cache, never the record: it is keyed by a digest of the
streets layer as stored (its bytes read as Arrow: geometries, columns and
CRS, without reading it into a GeoDataFrame, which costs more), the rules
the network is built with (``join_tolerance``, ``split_crossings``) and the
source of gcgeo's code reading the layer and building the network, and is
used only when all of them match,
so a street edited in QGIS, ``gcgeo add --overwrite``, another rule or
another gcgeo version each build the network afresh (and replace the file).
It is written to a temporary file and renamed into place, so it is whole or
absent; one that cannot be read, or was written by someone else, is
ignored and rebuilt.  It holds plain arrays only (``numpy.load`` with
``allow_pickle=False``): opening a workspace folder received from someone
runs no code from it.

It is a file of its own rather than a table in the GeoPackage: the
workspace is changed by copying it whole (:mod:`gcgeo.workspace`), and tens
of megabytes of derived arrays inside it would make every later change,
export and hand-off slower and larger; beside it, it is written without a
workspace transaction, cannot damage the workspace, can be deleted at any
time, and is not sent along with the data.  A read-only folder simply
keeps no cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from .crs import metric
from .network import Network, network_from_streets

log = logging.getLogger(__name__)

__all__ = ["FORMAT", "NetworkKey", "build_network", "cache_path", "keep_network", "network_key", "stored_network",
           "streets_digest", "unchanged_since", "workspace_network"]

#: Version of the file's layout; part of the key.
FORMAT = "gcgeo-network-2"


def cache_path(workspace: str | os.PathLike) -> Path:
    """The file keeping the network of ``workspace``'s streets (beside the workspace file)."""
    real = Path(os.path.realpath(workspace))
    return real.with_name(f".{real.name}.network.npz")


#: gcgeo's code the stored network depends on: how the streets layer is read and typed, the
#: CRS gate, and the network builder
_CODE = ("network/*.py", "layers/*.py", "crs.py", "values.py", "workspace.py", "network_cache.py")


def _code_digest() -> str:
    """A digest of the code building the network: a changed builder never reads an old network."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for pattern in _CODE:
        for f in sorted(root.glob(pattern)):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def streets_digest(workspace: str | os.PathLike, layer: str = "streets") -> str:
    """A digest of the layer as stored in the workspace: every column, geometry and the CRS.

    The layer is read as Arrow (without making geometries) and its bytes hashed,
    schema included, in a few hundredths of a second for a city.
    """
    import pyarrow as pa

    _, table = pyogrio.read_arrow(workspace, layer=layer)
    h = hashlib.sha256()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    h.update(sink.getvalue())
    return h.hexdigest()


@dataclass(frozen=True)
class NetworkKey:
    """What a stored network is kept under: ``digest`` of the streets as stored, the rules
    and the code; ``stamp``, the workspace file (inode, size, time) before it was read."""

    digest: str
    stamp: tuple[int, int, int]


def _stamp(workspace: str | os.PathLike) -> tuple[int, int, int]:
    st = os.stat(workspace)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def network_key(workspace: str | os.PathLike, *, join_tolerance: float,
                split_crossings: bool) -> NetworkKey:
    """The key of the network of ``workspace``'s streets with these rules (see the module doc)."""
    stamp = _stamp(workspace)
    parts = [FORMAT, _code_digest(), streets_digest(workspace), repr(float(join_tolerance)),
             repr(bool(split_crossings))]
    return NetworkKey(hashlib.sha256("\n".join(parts).encode()).hexdigest(), stamp)


def _load(path: Path, key: str) -> Network | None:
    """The network stored at ``path`` under ``key``, or None (absent, other key, unreadable)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if str(f["key"]) != key:
                return None
            kind = str(f["nodes_kind"])
            raw = f["nodes"]
            ids = raw.astype(np.int64).tolist() if kind == "int" else raw.tolist()
            crs = CRS.from_wkt(str(f["crs"])) if str(f["crs"]) else None
            street = None
            if str(f["street_kind"]) != "none":  # each edge's streets row, as the builder gave it
                street = np.empty(len(f["street"]), dtype=object)
                street[:] = f["street"].tolist()
            return Network(nodes=pd.Index(ids, tupleize_cols=False), x=f["x"], y=f["y"], u=f["u"],
                           v=f["v"], weight=f["weight"], geometry=None,
                           geom_length=f["geom_length"], crs=crs, directed=False, street=street,
                           ragged=(f["coords"], f["offsets"]))
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file is rebuilt, never trusted
        log.info("the stored walking network %s is unreadable (%s); building it again", path, exc)
        return None


def _arrays(net: Network, key: str) -> dict[str, np.ndarray] | None:
    """The network as plain arrays, or None when it holds what they cannot (mixed node ids)."""
    ids = np.asarray(net.nodes.tolist())
    if ids.dtype.kind in "iu":
        kind = "int"
    elif ids.dtype.kind == "U":
        kind = "str"
    else:
        return None
    if net.given_lines is None or net.directed:
        return None
    geom = np.asarray(net.given_lines, dtype=object)
    if len(geom) and not (shapely.get_type_id(geom) == shapely.GeometryType.LINESTRING).all():
        return None
    _, coords, (offsets,) = shapely.to_ragged_array(geom) if len(geom) else \
        (None, np.zeros((0, 2)), (np.zeros(1, dtype=np.int64),))
    if coords.shape[1] != 2:
        return None
    crs = CRS.from_user_input(net.crs).to_wkt() if net.crs is not None else ""
    street, street_kind = _street_labels(net.street)
    return {"key": np.array(key), "nodes_kind": np.array(kind), "nodes": ids, "x": net.x, "y": net.y,
            "u": net.u, "v": net.v, "weight": net.weight, "geom_length": net.geom_length,
            "coords": coords, "offsets": offsets, "crs": np.array(crs),
            "street": street, "street_kind": np.array(street_kind)}


def _street_labels(street: np.ndarray | None) -> tuple[np.ndarray, str]:
    """Each edge's streets row label as a plain array and its kind ("int", "str"), or
    ("none") when the network has none or labels of mixed types (the what-if's street
    changes then rebuild the network, as without a stored one)."""
    if street is None:
        return np.zeros(0, dtype=np.int64), "none"
    labels = np.asarray(street.tolist())
    if labels.dtype.kind in "iu":
        return labels.astype(np.int64), "int"
    if labels.dtype.kind == "U" and all(isinstance(v, str) for v in street.tolist()):
        return labels, "str"
    return np.zeros(0, dtype=np.int64), "none"


def _store(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the arrays to ``path`` whole or not at all (a temporary file renamed into place)."""
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **cast(dict[str, Any], arrays))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stored_network(workspace: str | os.PathLike, key: NetworkKey) -> Network | None:
    """The network kept beside ``workspace`` under ``key`` (:func:`network_key`), or None."""
    path = cache_path(workspace)
    net = _load(path, key.digest)
    if net is not None:
        log.info("walking network read from %s (streets and network rules unchanged)", path.name)
    return net


def build_network(streets: gpd.GeoDataFrame, *, join_tolerance: float, split_crossings: bool) -> Network:
    """:func:`gcgeo.network.network_from_streets` on the layer after the CRS gate
    (:func:`gcgeo.crs.metric`), as the analyses build it."""
    streets = metric(streets, "layer 'streets'")
    return network_from_streets(streets, join_tolerance=join_tolerance, split_crossings=split_crossings)


def unchanged_since(workspace: str | os.PathLike, key: NetworkKey) -> bool:
    """Whether the workspace file is the one ``key`` was taken from (no command replaced or
    changed it since): then the streets read from it now are those the key describes."""
    return _stamp(workspace) == key.stamp


def keep_network(workspace: str | os.PathLike, key: NetworkKey, net: Network) -> bool:
    """Store ``net``, built from the streets ``key`` describes, beside the workspace for
    :func:`stored_network` to find; False when it could not be (a read-only folder, a full
    disk, node ids of mixed types), which only means it is built again next time."""
    path = cache_path(workspace)
    arrays = _arrays(net, key.digest)
    if arrays is None:
        log.info("walking network not kept: its node ids are of mixed types")
        return False
    try:
        _store(path, arrays)
    except Exception as exc:  # noqa: BLE001 - the cache is an extra: a full disk or read-only folder keeps none
        log.info("walking network not kept beside the workspace (%s)", exc)
        return False
    log.info("walking network built from the streets and kept in %s", path.name)
    return True


def workspace_network(workspace: str | os.PathLike, streets: gpd.GeoDataFrame, key: NetworkKey, *,
                      join_tolerance: float, split_crossings: bool) -> Network:
    """The walking network of ``streets``, the workspace's streets layer as read, kept under ``key``.

    :func:`build_network`, then :func:`keep_network` unless the workspace file
    changed since ``key`` was taken (another command replaced it meanwhile:
    ``streets`` may not be what the key describes).
    """
    verified = unchanged_since(workspace, key)
    net = build_network(streets, join_tolerance=join_tolerance, split_crossings=split_crossings)
    if verified:
        keep_network(workspace, key, net)
    else:
        log.info("walking network built from the streets (not kept: the workspace changed meanwhile)")
    return net
