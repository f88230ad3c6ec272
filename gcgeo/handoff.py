"""A workspace handed on: its layers (and walking network) to files or PostGIS, and back.

:func:`export_workspace` is ``gcgeo export``: the chosen layers of a
workspace to a file (the driver from its suffix, :func:`gcgeo.export.export`),
to GraphML (the walking network, :mod:`gcgeo.network_export`), or to a
PostGIS database named by a ``postgresql://`` URL (:mod:`gcgeo.postgis`).
The layer name ``network`` stands for the walking network built from
``streets``: its ``nodes`` and ``edges`` layers, as OSMnx writes them.

:func:`read_each` is what ``gcgeo add`` reads: one file, several files of
one layer (the per-geometry Shapefiles of a mixed layer), or a table of a
database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import io, postgis
from . import workspace as ws
from ._errors import InputError
from .export import ExportReport, export, output_crs
from .gpkg_styles import LAYER_STYLES
from .gpkg_write import typed_booleans
from .network_export import NETWORK_LAYER, graph_layers, save_graphml, walking_graph

__all__ = ["export_workspace", "read_each"]


def _layer_kinds(workspace: Path) -> dict[str, str]:
    listing = ws.list_layers(workspace, counts=False)
    return {str(n): str(k) for n, k in zip(listing["layer"], listing["kind"]) if isinstance(k, str)}


def export_workspace(
    workspace: str | os.PathLike,
    output: str | os.PathLike,
    *,
    layers: Sequence[str] | None = None,
    crs: Any = None,
    encoding: str | None = None,
    lang: str = "zh",
    csv_geometry: str | None = None,
    overwrite: bool = False,
    rules: Any = None,
    progress: Callable[[str], None] | None = None,
) -> ExportReport:
    """Export ``layers`` of ``workspace`` (default: every layer) to ``output``.

    ``output`` is a file (.gpkg .shp .geojson .csv .fgb .parquet .kml, or
    .graphml for the walking network) or a ``postgresql://`` URL.  ``layers``
    may name ``network``, the walking network (``rules``: a rules file
    overriding ``network.join_tolerance`` / ``split_crossings``).  See
    :func:`gcgeo.export.export` for ``crs``, ``encoding``, ``lang`` and
    ``csv_geometry``.  Returns what was written.

    A stored scorecard (``scorecard``, ``score_communities``, ``score_county``,
    ``score_history``) that no longer holds is exported as it stands now, as the
    report and the dossiers show it (:func:`gcgeo.score.current`: criteria of stale
    results unknown and marked ``stale``); the returned report's ``warnings`` say why,
    and how to store it.
    """
    workspace = Path(workspace)
    step = progress or (lambda stage: None)
    wanted = [str(n).strip() for n in layers] if layers else None
    if wanted and LAYER_STYLES in wanted:
        raise InputError(
            f"--layers {LAYER_STYLES}: that is the table QGIS keeps layer styles in, not a layer "
            "to export. Export the layers themselves to a .gpkg: it carries each one's QGIS styles "
            "(gcgeo's, in --lang, and any saved in QGIS in the workspace), which QGIS applies when it "
            "opens them (a PostGIS export writes both into the database's public.layer_styles); "
            ".shp, .geojson and the other formats hold no style.")
    network = bool(wanted and NETWORK_LAYER in wanted)
    rest = [n for n in wanted if n != NETWORK_LAYER] if wanted else None
    target = output_crs(crs)
    to_db = postgis.is_url(str(output))
    if not to_db and Path(output).suffix.lower() == ".graphml":
        if rest:
            raise InputError(f"{Path(output).name}: GraphML holds the walking network only; leave out "
                             f"--layers (or give --layers {NETWORK_LAYER}), and export "
                             f"{', '.join(rest)} to another file.")
        step("building the walking network")
        G = walking_graph(_streets(workspace), rules=rules)
        step("writing")
        path = save_graphml(G, output, crs=target, overwrite=overwrite, inputs=[workspace])
        notes = [f"{path.name}: the walking network, {G.number_of_nodes()} nodes and "
                 f"{G.number_of_edges()} street pieces (each both ways), for osmnx.load_graphml; "
                 "lengths in metres"]
        if target is not None:
            notes.append(f"{path.name}: {target.describe()}")
        return ExportReport(files=[path], notes=notes)
    step("reading")
    frames: dict[str, Any] = ws.read_layers(workspace, rest) if rest or wanted is None else {}
    from_workspace = list(frames)
    warnings = _current_scorecard(workspace, frames, lang)
    kinds = _layer_kinds(workspace)
    if network:
        clash = [n for n in ("nodes", "edges") if n in frames]
        if clash:
            raise InputError(f"the walking network is written as layers nodes and edges, but the "
                             f"export already has {', '.join(clash)}; export them separately.")
        step("building the walking network")
        frames.update(graph_layers(walking_graph(_streets(workspace), rules=rules)))
    step("writing")
    ran: dict[str, Any] = {}
    if to_db or Path(output).suffix.lower() == ".gpkg":  # QGIS styles: class breaks at each run's thresholds
        from .maps import rules_ran

        ran, notes = rules_ran(workspace, frames)
        warnings.extend(notes)
    if to_db:
        note = target.describe() if target is not None and target.shift else None
        if target is not None:
            frames = {k: _in_crs(v, target) for k, v in frames.items()}
        # (booleans read with NULLs as booleans again, as the file exports write them)
        frames = {k: typed_booleans(v) for k, v in frames.items()}
        # the styles planners saved in QGIS go with the layers read from the workspace, as to a .gpkg
        carried: list[str] = []
        tables = postgis.export_layers(frames, str(output), overwrite=overwrite, kinds=kinds, note=note,
                                       lang=lang, rules=ran, warn=warnings.append, styles_from=workspace,
                                       style_layers={n: n for n in from_workspace}, inform=carried.append)
        shown = postgis.parse_url(str(output)).shown
        report = ExportReport(notes=[f"wrote table {t} in {shown}" for t in tables] + carried)
        if target is not None:
            report.notes.append(f"{shown}: {target.describe()}")
    else:
        # the styles planners saved in QGIS go with the layers read from the workspace
        report = export(frames, output, overwrite=overwrite, csv_geometry=csv_geometry,
                        inputs=[workspace], crs=crs, encoding=encoding, lang=lang, kinds=kinds, rules=ran,
                        styles_from=workspace, style_layers={n: n for n in from_workspace})
    report.warnings.extend(warnings)
    return report


def _current_scorecard(workspace: Path, frames: dict[str, Any], lang: str) -> list[str]:
    """Put the scorecard as it stands now (:func:`gcgeo.score.current`) in place of the
    stored one among ``frames`` when that no longer holds; return the warnings to give."""
    from .score.current import SHOWN, current

    if not any(k in frames for k in SHOWN):
        return []
    card = current(workspace, layers=frames, lang=lang)
    if card is None:
        return []
    if card.rescored:
        frames.update({k: v for k, v in card.tables.items() if k in frames})
    return list(card.warnings)


def _in_crs(frame: pd.DataFrame, target: Any) -> pd.DataFrame:
    from . import crs as _crs

    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        return frame
    if target.shift:
        return _crs.shift_from_wgs84(frame, target.shift)
    return frame.to_crs(target.crs)


def _streets(workspace: Path) -> gpd.GeoDataFrame | None:
    if "streets" not in set(ws.list_layers(workspace, counts=False)["layer"]):
        return None
    return ws.read_layer(workspace, "streets")


def read_each(
    sources: Sequence[str | os.PathLike],
    **options: Any,
) -> dict[str, gpd.GeoDataFrame]:
    """Read what ``gcgeo add`` adds, file by file: source as recorded → its frame, in order.

    A ``postgresql://…?table=T`` URL reads table T (:func:`gcgeo.postgis.read_table`) and
    is recorded without its password.  ``options`` go to :func:`gcgeo.io.read_vector`.
    Give the frames to :func:`gcgeo.workspace.add_layer` as they are: each file's columns
    are mapped onto the layer kind before they are joined (编号/名称 in one file and
    id/name in another make one id and one name column).
    """
    if not sources:
        raise InputError("give the file (or postgresql://… URL) to add.")
    urls = [s for s in sources if postgis.is_url(str(s))]
    if urls:
        if len(sources) > 1:
            raise InputError("add one database table at a time (one postgresql://…?table=T).")
        given = [k for k, v in options.items() if v is not None]
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            raise InputError(f"{flags}: for files only; a database table is named by ?table= in the "
                             "URL and carries its own CRS.")
        url = str(urls[0])
        return {postgis.parse_url(url).shown: postgis.read_table(url)}
    names = [str(s) for s in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{', '.join(twice)} given more than once; give each file once.")
    return {str(s): io.read_vector(s, **options) for s in sources}
