"""A campaign of careless-user cases: nothing lost, nothing silently wrong.

Families (see issue 17, "Workspace safety"):

* read-only workspaces, folders and file systems are refused by every write
  path before anything is written, and a write keeps the workspace's
  permissions and owner;
* no output lands on an input (the workspace, by any spelling or link, a
  Shapefile's sidecars, the per-layer files of an export);
* concurrent writers (real processes): both changes kept, or the second
  refused with a message; never both "succeed" with one lost;
* ``kill -9`` in the middle of a change: the copies left behind are removed
  by the next command, but never while their writer lives;
* a failed export leaves no file; tables without geometry go to CSV; an
  existing ``.dbf`` (any sidecar) is kept without ``overwrite``;
* a full disk (a real small tmpfs, when the tests run as root) is named as
  such, with the file, and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gcgeo import (
    DiskFullError,
    InputError,
    OutputExistsError,
    ReadOnlyError,
    WorkspaceBusyError,
    WorkspaceError,
    io,
)
from gcgeo import workspace as ws

ROOT = Path(__file__).resolve().parents[1]
RASTER = ROOT / "tests" / "data" / "raster" / "olinda_landsat7.tif"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NOBODY = 65534
#: a guard against a hung child process, not a measurement
PATIENCE_S = 300


# --- data ---------------------------------------------------------------------------


def _points(n: int = 3, seed: int = 0, *, text: int = 0) -> gpd.GeoDataFrame:
    """``n`` chargers around Gaotang (lon/lat), with a random text column of ``text`` hex digits."""
    rng = np.random.default_rng(seed)
    data = {"kind": ["car"] * n}
    if text:
        data["note"] = [rng.bytes(text // 2).hex() for _ in range(n)]
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(rng.uniform(116.20, 116.22, n),
                                                              rng.uniform(36.85, 36.86, n)),
                            crs=4326)


def _communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["鱼邱湖社区", "金城社区"], "population": [3200, 4100]},
        geometry=[shapely.box(116.20, 36.85, 116.21, 36.86), shapely.box(116.21, 36.85, 116.22, 36.86)],
        crs=4326)


def _fixable_chargers() -> gpd.GeoDataFrame:
    """A charger layer ``validate --fix`` changes (a MultiPoint is split in two)."""
    return gpd.GeoDataFrame(
        {"id": ["c1", "c2"], "kind": ["car", "car"]},
        geometry=[shapely.MultiPoint([(116.205, 36.855), (116.206, 36.855)]),
                  shapely.Point(116.215, 36.855)], crs=4326)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its content digest."""
    return {str(p.relative_to(folder)): (_digest(p) if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


def _layer_names(path: Path) -> set[str]:
    return {str(n) for n, _ in pyogrio.list_layers(path)}


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory) -> Path:
    """A small workspace: communities, chargers (one to fix), a table; built once."""
    path = tmp_path_factory.mktemp("small") / "w.gpkg"
    ws.init(path, name="小", crs="EPSG:4548")
    ws.add_layer(path, "communities", _communities())
    ws.add_layer(path, "chargers", _fixable_chargers())
    ws.write_layers(path, {"table": pd.DataFrame({"a": [1, 2]})}, kind="result")
    return path


@pytest.fixture(scope="module")
def county_ws(tmp_path_factory) -> Path:
    """The synthetic county's 13 inventory layers and a table without geometry."""
    from gcgeo.testing import synthetic_county

    county = synthetic_county(0, n_communities=2, n_homes=1)
    path = tmp_path_factory.mktemp("county") / "county.gpkg"
    ws.init(path, name="高唐县", crs=county.crs)
    ws.write_layers(path, county.layers, kind={k: k for k in county.layers}, source="synthetic")
    ws.write_layers(path, {"lc_table": pd.DataFrame({"category": ["school", "clinic"],
                                                     "count": [3, 1]})}, kind="result")
    return path


def _copy(src: Path, folder: Path, name: str = "w.gpkg") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / name
    shutil.copyfile(src, dst)
    return dst


# --- every way a workspace is written ------------------------------------------------


def _creating(path: Path) -> None:
    with ws.creating(path) as new:
        if new:
            ws.init(path, name="new")
        ws.write_layers(path, {"imported": _points()}, kind="chargers")


WRITES = {
    "add_layer": lambda p: ws.add_layer(p, "chargers", _points(), name="more_chargers"),
    "add_layer_overwrite": lambda p: ws.add_layer(p, "chargers", _points(), overwrite=True),
    "add_raster": lambda p: ws.add_raster(p, RASTER, bands={"red": 3, "nir": 4}),
    "write_layers": lambda p: ws.write_layers(p, {"result": _points()}, analysis="test"),
    "write_table": lambda p: ws.write_layers(p, {"result_table": pd.DataFrame({"a": [1]})}),
    "validate_fix": lambda p: ws.validate(p, fix=True),
    "init_overwrite": lambda p: ws.init(p, name="again", overwrite=True),
    "creating": _creating,
}


def _changed(path: Path, write: str) -> bool:
    """Whether ``write`` left its mark on the workspace."""
    names = _layer_names(path)
    checks = {
        "add_layer": lambda: "more_chargers" in names,
        "add_layer_overwrite": lambda: len(ws.read_layer(path, "chargers")) == 3,
        "add_raster": lambda: "raster" in ws.info(path)["rasters"],
        "write_layers": lambda: "result" in names,
        "write_table": lambda: "result_table" in names,
        "validate_fix": lambda: len(ws.read_layer(path, "chargers")) == 3,
        "init_overwrite": lambda: ws.info(path)["name"] == "again" and "communities" not in names,
        "creating": lambda: "imported" in names,
    }
    return checks[write]()


# --- read-only workspaces ------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o440, 0o555], ids=oct)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_read_only_workspace_is_refused_before_anything_is_written(tmp_path, small_ws, write,
                                                                     mode):
    path = _copy(small_ws, tmp_path / "data")
    path.chmod(mode)
    before = _snapshot(tmp_path)
    with pytest.raises(ReadOnlyError) as err:
        WRITES[write](path)
    assert isinstance(err.value, PermissionError)
    assert str(path) in str(err.value) and "chmod u+w" in str(err.value)
    assert _snapshot(tmp_path) == before
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_read_only_folder_is_refused(tmp_path, small_ws, write):
    folder = tmp_path / "data"
    path = _copy(small_ws, folder)
    before = _snapshot(tmp_path)
    folder.chmod(0o555)
    try:
        with pytest.raises(ReadOnlyError, match="folder .* is read-only"):
            WRITES[write](path)
    finally:
        folder.chmod(0o755)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o660, 0o664, 0o666], ids=oct)
@pytest.mark.parametrize("write", ["add_layer", "add_raster", "write_layers", "validate_fix",
                                   "init_overwrite"])
def test_a_change_keeps_the_workspace_permissions(tmp_path, small_ws, write, mode):
    path = _copy(small_ws, tmp_path)
    path.chmod(mode)
    WRITES[write](path)
    assert _changed(path, write)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.gpkg"]


def test_a_symbolic_link_to_a_workspace_stays_a_link(tmp_path, small_ws):
    real = _copy(small_ws, tmp_path / "real")
    link = tmp_path / "link.gpkg"
    link.symlink_to(real)
    ws.add_layer(link, "chargers", _points(), name="via_link")
    assert link.is_symlink() and "via_link" in _layer_names(real)
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["w.gpkg"]


# --- as another user (root only: the child drops to 'nobody') --------------------------

_AS_NOBODY = """
import json, os, shutil, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
import test_safety as t
scratch, cases = sys.argv[2], json.loads(sys.argv[3])
for name, write in t.WRITES.items():  # once as root: every lazy import is made now
    work = os.path.join(scratch, name + ".gpkg")
    shutil.copyfile(cases["template"], work)
    write(t.Path(work))
# the raster a write attaches, where 'nobody' can read it (the checkout may be private to root)
t.RASTER = t.Path(shutil.copy(t.RASTER, scratch))
os.chmod(t.RASTER, 0o644)
os.setgroups([])
os.setgid(t.NOBODY)
os.setuid(t.NOBODY)
out = {}
for case, path in cases["paths"].items():
    write = t.WRITES[case.split(":")[1]]
    try:
        write(t.Path(path))
        out[case] = "ok"
    except Exception as exc:
        out[case] = type(exc).__name__ + ": " + str(exc)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def as_nobody(small_ws):
    """Run every write as user 'nobody' on a workspace it does not own, and on one it owns."""
    if not IS_ROOT:
        pytest.skip("needs root to drop to another user")
    top = Path(tempfile.mkdtemp(prefix="gcgeo-nobody-", dir="/tmp"))
    try:
        top.chmod(0o755)
        theirs, mine, scratch = top / "theirs", top / "mine", top / "scratch"
        for folder in (theirs, mine, scratch):
            folder.mkdir()
        theirs.chmod(0o777)  # a shared folder: the files in it are root's
        os.chown(mine, NOBODY, NOBODY)
        paths = {}
        for name in WRITES:
            p = _copy(small_ws, theirs, f"{name}.gpkg")
            p.chmod(0o644)
            paths[f"theirs:{name}"] = str(p)
            q = _copy(small_ws, mine, f"{name}.gpkg")
            q.chmod(0o640)
            os.chown(q, NOBODY, NOBODY)
            paths[f"mine:{name}"] = str(q)
        before = {k: _digest(Path(v)) for k, v in paths.items()}
        run = subprocess.run(
            [sys.executable, "-c", _AS_NOBODY, str(ROOT / "tests"), str(scratch),
             json.dumps({"template": str(small_ws), "paths": paths})],
            check=False, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=PATIENCE_S)
        assert run.returncode == 0, run.stderr[-3000:]
        yield json.loads(run.stdout.strip().splitlines()[-1]), paths, before
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.parametrize("write", sorted(WRITES))
def test_another_users_workspace_is_refused(as_nobody, write):
    results, paths, before = as_nobody
    case = f"theirs:{write}"
    assert results[case].startswith("ReadOnlyError: workspace"), results[case]
    assert "chmod u+w" in results[case]
    path = Path(paths[case])
    assert _digest(path) == before[case] and path.stat().st_uid == 0
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_users_own_workspace_is_changed_and_stays_theirs(as_nobody, write):
    results, paths, _before = as_nobody
    case = f"mine:{write}"
    assert results[case] == "ok"
    path = Path(paths[case])
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o640)
    assert _changed(path, write)


@pytest.mark.skipif(not IS_ROOT, reason="only root can change a file another user owns")
def test_root_changing_a_users_workspace_leaves_it_theirs(tmp_path, small_ws):
    path = _copy(small_ws, tmp_path)
    os.chown(path, NOBODY, NOBODY)
    path.chmod(0o600)
    ws.add_layer(path, "chargers", _points(), name="more_chargers")
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o600)


# --- a small real file system (root only) ----------------------------------------------


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if not IS_ROOT or shutil.which("mount") is None:
        return False
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                          str(folder)], check=False, capture_output=True)
    return run.returncode == 0


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 256 kB file system (a tmpfs) at ``tmp_path / 'disk'``."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "256k"):
        pytest.skip("a small file system needs root and mount (tmpfs)")
    yield disk
    _unmount(disk)


@pytest.fixture
def disk_3mb(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "3m"):
        pytest.skip("a small file system needs root and mount (tmpfs)")
    yield disk
    _unmount(disk)


@pytest.fixture(scope="module")
def read_only_disk(tmp_path_factory, small_ws):
    disk = tmp_path_factory.mktemp("rofs") / "disk"
    if not _mount_tmpfs(disk, "4m"):
        pytest.skip("a read-only file system needs root and mount (tmpfs)")
    try:
        path = _copy(small_ws, disk)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, capture_output=True)
        yield path
    finally:
        _unmount(disk)


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_workspace_on_a_read_only_file_system_is_refused(read_only_disk, write):
    before = _snapshot(read_only_disk.parent)
    with pytest.raises(ReadOnlyError, match="read-only file system"):
        WRITES[write](read_only_disk)
    assert _snapshot(read_only_disk.parent) == before


# --- outputs never land on inputs --------------------------------------------------------


def _spell(path: Path, how: str) -> Path:
    """Another name for ``path``: the same, through '..', a link to it or to its folder."""
    if how == "same":
        return path
    if how == "linked_folder":
        alias = path.parent / "alias_folder"
        alias.symlink_to(path.parent, target_is_directory=True)
        return alias / path.name
    if how == "dotdot":
        (path.parent / "sub").mkdir(exist_ok=True)
        return path.parent / "sub" / ".." / path.name
    if how == "symlink":
        link = path.parent / "alias.gpkg"
        link.symlink_to(path)
        return link
    if how == "hardlink":
        link = path.parent / "hard.gpkg"
        os.link(path, link)
        return link
    if how == "relative":
        return Path(os.path.relpath(path))
    raise AssertionError(how)


def _export_gpkg(workspace: Path, out: Path) -> None:
    io.export(ws.read_layers(workspace), out, overwrite=True, inputs=[workspace])


def _validate_report(workspace: Path, out: Path) -> None:  # validate --report
    with io.atomic_path(out, overwrite=True, inputs=[workspace]) as tmp:
        tmp.write_text("layer,row\n", encoding="utf-8")


def _map_output(workspace: Path, out: Path) -> None:  # map -o
    io.check_output(out, inputs=[workspace], overwrite=True)


def _report(workspace: Path, out: Path) -> None:
    from gcgeo.report import report_workspace

    report_workspace(workspace, out, overwrite=True, lang="en")


ONTO_INPUT = {"export": _export_gpkg, "validate_report": _validate_report, "map": _map_output,
              "report": _report}


@pytest.mark.parametrize("how", ["same", "relative", "dotdot", "symlink", "hardlink",
                                 "linked_folder"])
@pytest.mark.parametrize("command", sorted(ONTO_INPUT))
def test_no_output_lands_on_the_workspace(tmp_path, small_ws, monkeypatch, command, how):
    monkeypatch.chdir(tmp_path)
    path = _copy(small_ws, tmp_path)
    out = _spell(path, how)
    before = _digest(path)
    with pytest.raises(InputError) as err:
        ONTO_INPUT[command](path, out)
    assert str(out) in str(err.value) and str(path) in str(err.value)
    assert "destroy" in str(err.value)
    assert _digest(path) == before and ws.info(path)["name"] == "小"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".html"]


#: the commands a planner types that could write onto their own workspace
CLI_ONTO_INPUT = {
    "export": lambda w, out: ["export", w, out, "--overwrite"],
    "export_shp_layers": lambda w, out: ["export", w, out, "--layers", "communities", "--overwrite"],
    "validate_report": lambda w, out: ["validate", w, "--report", out, "--overwrite"],
    "map": lambda w, out: ["map", w, "-o", out, "--overwrite", "--offline"],
    "report": lambda w, out: ["report", w, "-o", out, "--overwrite"],
}


@pytest.mark.parametrize("how", ["same", "relative", "symlink"])
@pytest.mark.parametrize("command", sorted(CLI_ONTO_INPUT))
def test_no_command_writes_onto_its_workspace(tmp_path, small_ws, monkeypatch, command, how):
    from click.testing import CliRunner

    from gcgeo.cli import main

    monkeypatch.chdir(tmp_path)
    path = _copy(small_ws, tmp_path)
    out = _spell(path, how)
    before = _digest(path)
    args = [str(a) for a in CLI_ONTO_INPUT[command](path, out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert "error:" in res.output and "fault in gcgeo" not in res.output
    assert _digest(path) == before and ws.info(path)["name"] == "小"


@pytest.mark.parametrize("command", sorted(ONTO_INPUT))
def test_an_output_beside_the_workspace_is_written(tmp_path, small_ws, command):
    path = _copy(small_ws, tmp_path)
    out = tmp_path / ("other.gpkg" if command == "export" else "other.html")
    ONTO_INPUT[command](path, out)
    if command != "map":  # map: the check only; the CLI writes the map
        assert out.exists()
    assert ws.info(path)["name"] == "小"


@pytest.mark.parametrize("suffix", [".shp", ".geojson", ".csv", ".fgb", ".parquet", ".kml"])
def test_a_per_layer_export_file_never_replaces_an_input(tmp_path, suffix):
    layers = {"streets": _points(), "parks": _points(seed=1)}
    victim = tmp_path / f"out_parks{suffix}"
    victim.write_bytes(b"an input of this command")
    with pytest.raises(InputError, match="out_parks"):
        io.export(layers, tmp_path / f"out{suffix}", overwrite=True, inputs=[victim])
    assert victim.read_bytes() == b"an input of this command"
    assert sorted(p.name for p in tmp_path.iterdir()) == [victim.name]


@pytest.mark.parametrize("suffix", [".shp", ".geojson", ".fgb", ".kml"])
def test_the_csv_of_a_table_never_replaces_an_input(tmp_path, suffix):
    victim = tmp_path / "out_lc_table.csv"
    victim.write_text("kept", encoding="utf-8")
    layers = {"streets": _points(), "lc_table": pd.DataFrame({"a": [1]})}
    with pytest.raises(InputError, match="out_lc_table.csv"):
        io.export(layers, tmp_path / f"out{suffix}", overwrite=True, inputs=[victim])
    assert victim.read_text(encoding="utf-8") == "kept"


@pytest.mark.parametrize("sidecar", [".shx", ".dbf", ".prj", ".cpg"])
def test_a_shapefile_output_never_writes_over_an_inputs_sidecar(tmp_path, sidecar):
    source = tmp_path / "roads.shp"
    io.export(_points(), source)
    before = _snapshot(tmp_path)
    with pytest.raises(InputError, match=f"roads{sidecar}"):
        io.check_output(tmp_path / "roads.shp", inputs=[source.with_suffix(sidecar)],
                        overwrite=True)
    with pytest.raises(InputError, match="roads.shp"):
        io.export(_points(seed=2), tmp_path / "roads.shp", overwrite=True, inputs=[source])
    assert _snapshot(tmp_path) == before


def test_check_output_says_what_exists_and_returns_what_is_occupied(tmp_path):
    occupied = io.check_output(tmp_path / "a.shp")
    assert [p.name for p in occupied] == ["a.shp", "a.shx", "a.dbf", "a.prj", "a.cpg", "a.qix",
                                          "a.sbn", "a.sbx", "a.fieldmap.csv"]
    (tmp_path / "a.dbf").write_bytes(b"x")
    with pytest.raises(OutputExistsError, match=r"a\.dbf \(part of .*a\.shp\).*--overwrite"):
        io.check_output(tmp_path / "a.shp")
    assert io.check_output(tmp_path / "a.shp", overwrite=True) == occupied


# --- concurrent writers (real processes) ---------------------------------------------------

_CLI_AFTER_GO = """
import os, sys, time
from gcgeo.cli import main
go = sys.argv[1]
open(go + ".ready." + str(os.getpid()), "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
main(sys.argv[2:], prog_name="gcgeo")
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GCGEO_LOCK_TIMEOUT"}
    return {**env, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **extra}


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _race(tmp_path: Path, *commands: list[str], env: dict[str, str] | None = None):
    """Start the commands together (each waits at a barrier) and return their results."""
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _CLI_AFTER_GO, str(go), *map(str, cmd)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env or _env(), cwd=tmp_path) for cmd in commands]
    _wait_for(lambda: len(list(tmp_path.glob("go.ready.*"))) == len(procs), "the writers to start")
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=PATIENCE_S)
        results.append((p.returncode, out + err))
    return results


@pytest.mark.parametrize("trial", range(5))
def test_two_adds_at_once_both_keep_their_layer(tmp_path, small_ws, trial):
    path = _copy(small_ws, tmp_path)
    files = []
    for k, n in enumerate((3, 5)):
        f = tmp_path / f"fac_{k}.geojson"
        _points(n, seed=trial * 10 + k).to_file(f)
        files.append(f)
    results = _race(tmp_path, ["add", path, "chargers", files[0], "--name", "fac_a"],
                    ["add", path, "chargers", files[1], "--name", "fac_b"])
    assert [code for code, _ in results] == [0, 0], results
    layers = ws.list_layers(path).set_index("layer")["features"]
    assert (layers["fac_a"], layers["fac_b"]) == (3, 5)
    assert {"communities", "chargers", "table"} <= set(layers.index)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("trial", range(5))
def test_the_same_name_twice_at_once_is_refused_once(tmp_path, small_ws, trial):
    path = _copy(small_ws, tmp_path)
    files = []
    for k, n in enumerate((3, 5)):
        f = tmp_path / f"fac_{k}.geojson"
        _points(n, seed=trial * 10 + k).to_file(f)
        files.append(f)
    results = _race(tmp_path, *(["add", path, "chargers", f, "--name", "poi"] for f in files))
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    winner = next(n for (code, _), n in zip(results, (3, 5)) if code == 0)
    loser_text = next(text for code, text in results if code == 2)
    assert "already has layer(s) poi" in " ".join(loser_text.split())
    assert ws.list_layers(path).set_index("layer").loc["poi", "features"] == winner


def test_two_overwrites_at_once_leave_one_whole_layer(tmp_path, small_ws):
    path = _copy(small_ws, tmp_path)
    files = []
    for k, n in enumerate((3, 5)):
        f = tmp_path / f"c_{k}.geojson"
        _points(n, seed=k).to_file(f)
        files.append(f)
    results = _race(tmp_path, *(["add", path, "chargers", f, "--overwrite"] for f in files))
    assert [code for code, _ in results] == [0, 0], results
    assert len(ws.read_layer(path, "chargers")) in (3, 5)
    assert {"communities", "table"} <= _layer_names(path)


@pytest.mark.parametrize("command", ["add", "init", "validate_fix"])
def test_a_busy_workspace_is_named_when_the_wait_runs_out(tmp_path, small_ws, command):
    path = _copy(small_ws, tmp_path)
    f = tmp_path / "c.geojson"
    _points().to_file(f)
    args = {"add": ["add", path, "chargers", f, "--name", "late"],
            "init": ["init", path, "--name", "x", "--overwrite"],
            "validate_fix": ["validate", path, "--fix"]}[command]
    before = _digest(path)
    with ws.lock(path):
        run = subprocess.run([sys.executable, "-c", "from gcgeo.cli import main; main()", *map(str, args)],
                             check=False, capture_output=True, text=True, env=_env(GCGEO_LOCK_TIMEOUT="0"),
                             timeout=PATIENCE_S)
    text = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 2, text
    assert "is busy: another gcgeo command is writing it" in text and str(path) in text
    assert _digest(path) == before


def test_the_lock_waits_then_gives_up_in_process(tmp_path, small_ws, monkeypatch):
    path = _copy(small_ws, tmp_path)
    lock_file = tmp_path / ".w.gpkg.lock"
    with ws.lock(path):
        assert lock_file.exists()
        with ws.lock(path):  # the same thread may take it again
            pass
        import threading

        caught: list[BaseException] = []

        def other() -> None:
            try:
                ws.add_layer(path, "chargers", _points(), name="from_thread")
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                caught.append(exc)

        monkeypatch.setenv("GCGEO_LOCK_TIMEOUT", "0")
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert len(caught) == 1 and isinstance(caught[0], WorkspaceBusyError)
    assert not lock_file.exists()
    assert "from_thread" not in _layer_names(path)


@pytest.mark.parametrize("value", ["soon", "-1", "inf", "nan"])
def test_a_bad_lock_timeout_setting_is_named(tmp_path, small_ws, monkeypatch, value):
    path = _copy(small_ws, tmp_path)
    monkeypatch.setenv("GCGEO_LOCK_TIMEOUT", value)
    with pytest.raises(WorkspaceError, match="GCGEO_LOCK_TIMEOUT"):
        ws.add_layer(path, "chargers", _points(), name="x")


# --- kill -9 in the middle of a change ----------------------------------------------------

_KILLED_MID_CHANGE = """
import sqlite3, sys, time
import pyogrio
sys.path.insert(0, sys.argv[4])
import test_safety as t
path, signal_file, journal = sys.argv[1], sys.argv[2], sys.argv[3] == "journal"
real = pyogrio.write_dataframe

def stop_here(df, target, *args, **kwargs):
    if journal:  # halfway through SQLite's own transaction on the copy
        real(df, target, *args, **kwargs)
        con = sqlite3.connect(target)
        con.execute("BEGIN IMMEDIATE")
        con.execute("CREATE TABLE interrupted(a)")
        con.execute("INSERT INTO interrupted VALUES (zeroblob(200000))")
    open(signal_file, "w").close()
    time.sleep(3600)

pyogrio.write_dataframe = stop_here
t.ws.add_layer(t.Path(path), "chargers", t._points(), name="doomed")
"""


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".w."))


def _stopped_writer(folder: Path, path: Path, where: str) -> subprocess.Popen:
    sig = folder.parent / f"stopped-{where}"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_MID_CHANGE, str(path), str(sig), where,
                             str(ROOT / "tests")], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: sig.exists() or proc.poll() is not None, "the writer to stop mid-change")
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    return proc


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=PATIENCE_S)
    assert proc.returncode == -signal.SIGKILL


NEXT_COMMANDS = {
    "info": lambda p: ws.info(p),
    "list_layers": lambda p: ws.list_layers(p),
    "read_layer": lambda p: ws.read_layer(p, "communities"),
    "read_layers": lambda p: ws.read_layers(p),
    "validate": lambda p: ws.validate(p),
    "validate_fix": WRITES["validate_fix"],
    "add_layer": WRITES["add_layer"],
    "write_layers": WRITES["write_layers"],
    "add_raster": WRITES["add_raster"],
    "init_overwrite": WRITES["init_overwrite"],
}


@pytest.mark.parametrize("where", ["copy", "journal"])
@pytest.mark.parametrize("command", sorted(NEXT_COMMANDS))
def test_copies_left_by_kill_9_are_removed_by_the_next_command(tmp_path, small_ws, command,
                                                               where):
    folder = tmp_path / "data"
    path = _copy(small_ws, folder)
    before = _digest(path)
    proc = _stopped_writer(folder, path, where)
    try:
        left = _leftovers(folder)
        assert any(n.endswith(".gpkg") for n in left) and ".w.gpkg.lock" in left
        if where == "journal":
            assert any(n.endswith(".gpkg-journal") for n in left)
    finally:
        _kill(proc)
    assert _digest(path) == before  # kill -9 never touches the workspace itself
    NEXT_COMMANDS[command](path)
    assert _leftovers(folder) == []
    assert "doomed" not in _layer_names(path)


def test_copies_of_a_live_writer_are_left_alone(tmp_path, small_ws):
    folder = tmp_path / "data"
    path = _copy(small_ws, folder)
    proc = _stopped_writer(folder, path, "journal")
    try:
        left = _leftovers(folder)
        assert len(ws.list_layers(path)) == 3  # readers go on while it writes
        ws.read_layers(path)
        assert _leftovers(folder) == left
        with pytest.raises(WorkspaceBusyError), ws.lock(path, timeout=0):
            pass
        assert _leftovers(folder) == left
    finally:
        _kill(proc)
    ws.info(path)
    assert _leftovers(folder) == []


def test_kill_9_leftovers_are_removed_by_the_next_cli_command(tmp_path, small_ws):
    folder = tmp_path / "data"
    path = _copy(small_ws, folder)
    _kill(_stopped_writer(folder, path, "journal"))
    assert _leftovers(folder)
    run = subprocess.run([sys.executable, "-c", "from gcgeo.cli import main; main()", "layers",
                          str(path)], check=False, capture_output=True, text=True, env=_env(),
                         timeout=PATIENCE_S)
    assert run.returncode == 0, run.stderr
    assert _leftovers(folder) == []


@pytest.mark.parametrize("name", [".other.abcdefgh.gpkg", ".w.abcdefgh.gpkg.bak", "w.abcdefgh.gpkg",
                                  ".w.abcdefg.gpkg", ".w.ABCDEFGH.gpkg", ".w.gpkg.lock.txt"])
def test_only_this_workspaces_copies_are_removed(tmp_path, small_ws, name):
    path = _copy(small_ws, tmp_path)
    other = tmp_path / name
    other.write_bytes(b"not ours")
    (tmp_path / ".w.abcdefgh.gpkg").write_bytes(b"ours")
    ws.add_layer(path, "chargers", _points(), name="more")
    assert other.read_bytes() == b"not ours"
    assert not (tmp_path / ".w.abcdefgh.gpkg").exists()


# --- creating a workspace ---------------------------------------------------------------------


def test_a_failed_import_into_a_new_path_leaves_nothing(tmp_path):
    path = tmp_path / "new.gpkg"
    with pytest.raises(InputError, match="reserved"), ws.creating(path) as new:
        assert new
        ws.init(path, name="new")
        ws.write_layers(path, {"gcgeo_bad": _points()})  # refused: reserved name
    assert list(tmp_path.iterdir()) == []


def test_a_failed_import_into_an_existing_workspace_keeps_it(tmp_path, small_ws):
    path = _copy(small_ws, tmp_path)
    before = _digest(path)
    with pytest.raises(KeyboardInterrupt), ws.creating(path) as new:
        assert not new
        ws.write_layers(path, {"half": _points()})
        raise KeyboardInterrupt
    assert "half" in _layer_names(path) and _digest(path) != before  # each change is whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.gpkg"]


def test_creating_then_filling_a_new_workspace(tmp_path):
    path = tmp_path / "sub" / "new.gpkg"
    _creating(path)
    assert "imported" in _layer_names(path) and ws.info(path)["name"] == "new"
    assert sorted(p.name for p in path.parent.iterdir()) == ["new.gpkg"]


def test_a_long_file_name_fits_its_temporary_and_lock_names(tmp_path):
    path = tmp_path / ("长" * 80 + "x" * 5 + ".gpkg")  # 250 bytes of UTF-8
    assert len(path.name.encode()) == 250
    ws.init(path, name="long")
    ws.add_layer(path, "chargers", _points())
    assert len(ws.read_layer(path, "chargers")) == 3
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# --- a failed export leaves nothing ---------------------------------------------------------

FORMATS = [".shp", ".geojson", ".kml", ".fgb", ".csv", ".parquet", ".gpkg"]


def _fail_at(monkeypatch, k: int) -> list[str]:
    import gcgeo.export

    real = gcgeo.export._write_one
    calls: list[str] = []

    def write(frame, path, driver, layer, *args, **kwargs):
        calls.append(layer)
        if len(calls) == k + 1:
            raise RuntimeError(f"injected failure writing {layer}")
        return real(frame, path, driver, layer, *args, **kwargs)

    monkeypatch.setattr(gcgeo.export, "_write_one", write)
    return calls


@pytest.mark.parametrize("at", ["first", "middle", "last"])
@pytest.mark.parametrize("suffix", FORMATS)
def test_a_failed_export_leaves_no_file(tmp_path, county_ws, monkeypatch, suffix, at):
    layers = ws.read_layers(county_ws)
    n = len(io.export(layers, tmp_path / "count" / f"all{suffix}").files)
    n_writes = len(layers) if suffix == ".gpkg" else n
    k = {"first": 0, "middle": n_writes // 2, "last": n_writes - 1}[at]
    out = tmp_path / "out"
    out.mkdir()
    calls = _fail_at(monkeypatch, k)
    with pytest.raises(RuntimeError, match="injected"):
        io.export(layers, out / f"all{suffix}")
    assert len(calls) == k + 1
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_failed_overwrite_keeps_the_old_files(tmp_path, county_ws, monkeypatch, suffix):
    layers = ws.read_layers(county_ws)
    io.export(layers, tmp_path / f"all{suffix}")
    before = _snapshot(tmp_path)
    _fail_at(monkeypatch, len(layers) - 1)
    with pytest.raises(RuntimeError, match="injected"):
        io.export({k: v.iloc[:1] for k, v in layers.items()}, tmp_path / f"all{suffix}",
                  overwrite=True)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("suffix", [".shp", ".geojson", ".kml", ".fgb"])
def test_every_layer_exports_and_tables_go_to_csv_beside(tmp_path, county_ws, suffix):
    layers = ws.read_layers(county_ws)
    report = io.export(layers, tmp_path / f"all{suffix}")
    table = tmp_path / "all_lc_table.csv"
    assert table in report.files
    assert pd.read_csv(table, encoding="utf-8-sig").to_dict("list") == {
        "category": ["school", "clinic"], "count": [3, 1]}
    assert any("lc_table" in n and "all_lc_table.csv" in n for n in report.notes)
    spatial = [k for k, v in layers.items() if isinstance(v, gpd.GeoDataFrame)]
    for name in spatial:
        made = sorted(tmp_path.glob(f"all_{name}*{suffix}"))
        assert made, name
        assert sum(len(pyogrio.read_dataframe(p)) for p in made) == len(layers[name])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_lone_table_to_a_map_format_becomes_csv(tmp_path):
    report = io.export(pd.DataFrame({"a": [1, 2]}), tmp_path / "t.geojson")
    assert report.files == [tmp_path / "t.csv"]
    assert pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")["a"].tolist() == [1, 2]


def test_two_layers_onto_one_file_are_refused(tmp_path):
    with pytest.raises(InputError, match="several layers would be written"):
        io.export({"a b": _points(), "a_b": _points()}, tmp_path / "x.geojson")
    assert list(tmp_path.iterdir()) == []


# --- an existing sidecar is a Shapefile file too ------------------------------------------------

SIDECARS = [".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx"]


@pytest.mark.parametrize("sidecar", SIDECARS)
@pytest.mark.parametrize("several", [False, True], ids=["one_layer", "per_layer"])
def test_an_existing_sidecar_is_kept_without_overwrite(tmp_path, sidecar, several):
    stem = "out_streets" if several else "out"
    old = tmp_path / f"{stem}{sidecar}"
    old.write_bytes(b"old.dbf of another Shapefile")
    data = {"streets": _points(), "parks": _points(seed=1)} if several else _points()
    with pytest.raises(OutputExistsError, match=rf"{stem}\{sidecar}.*--overwrite"):
        io.export(data, tmp_path / "out.shp")
    assert old.read_bytes() == b"old.dbf of another Shapefile"
    assert sorted(p.name for p in tmp_path.iterdir()) == [old.name]


@pytest.mark.parametrize("sidecar", SIDECARS)
def test_an_existing_sidecar_is_replaced_or_removed_with_overwrite(tmp_path, sidecar):
    old = tmp_path / f"out{sidecar}"
    old.write_bytes(b"stale")
    io.export(_points(), tmp_path / "out.shp", overwrite=True)
    written = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
    if sidecar in written:
        assert old.read_bytes() != b"stale"
    else:  # a stale index of an older Shapefile would mislead GIS software
        assert not old.exists()
    assert {p.name for p in tmp_path.iterdir()} == {f"out{s}" for s in written} | {"out.fieldmap.csv"}
    assert len(pyogrio.read_dataframe(tmp_path / "out.shp")) == 3


# --- a full disk ----------------------------------------------------------------------------------


def _big_workspace(folder: Path) -> Path:
    path = folder / "big.gpkg"
    ws.init(path, name="big", crs="EPSG:4548")
    ws.add_layer(path, "chargers", _points(5000, text=200))
    return path


def _full_disk_message(err: BaseException, target: Path) -> str:
    text = str(err)
    assert isinstance(err, DiskFullError) and isinstance(err, OSError)
    assert str(target) in text and "disk is full" in text
    assert "sqlite3_exec" not in text and "ROLLBACK" not in text
    return text


def test_full_disk_when_copying_the_workspace(tmp_path, disk_3mb):
    path = _copy(_big_workspace(tmp_path), disk_3mb)
    before = _digest(path)
    with pytest.raises(DiskFullError) as err:
        ws.add_layer(path, "chargers", _points(), name="more")
    assert "left as it was" in _full_disk_message(err.value, path)
    assert _digest(path) == before and sorted(p.name for p in disk_3mb.iterdir()) == ["w.gpkg"]


@pytest.mark.parametrize("write", ["add_layer", "write_layers"])
def test_full_disk_while_sqlite_writes_the_copy(disk_3mb, small_ws, write):
    path = _copy(small_ws, disk_3mb)
    before = _digest(path)
    big = _points(12000, text=200)
    with pytest.raises(DiskFullError) as err:
        if write == "add_layer":
            ws.add_layer(path, "chargers", big, name="big")
        else:
            ws.write_layers(path, {"big": big})
    _full_disk_message(err.value, path)
    assert _digest(path) == before and sorted(p.name for p in disk_3mb.iterdir()) == ["w.gpkg"]


def test_full_disk_when_creating_a_workspace(small_disk):
    path = small_disk / "new.gpkg"
    with pytest.raises(DiskFullError) as err, ws.creating(path):
        ws.init(path, name="new", crs="EPSG:4548")
        ws.write_layers(path, {"big": _points(3000, text=200)}, kind="chargers")
    assert "No workspace was created" in _full_disk_message(err.value, path)
    assert list(small_disk.iterdir()) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_full_disk_during_an_export_leaves_no_file(small_disk, county_ws, suffix):
    layers = {**ws.read_layers(county_ws), "zz_big": _points(4000, text=200)}
    out = small_disk / f"all{suffix}"
    with pytest.raises(DiskFullError) as err:
        io.export(layers, out)
    _full_disk_message(err.value, out)
    assert list(small_disk.iterdir()) == []


def test_full_disk_during_a_report_leaves_no_partial_figures_or_map(small_disk, county_ws):
    from gcgeo.report import report_workspace

    out = small_disk / "report.html"
    with pytest.raises(DiskFullError) as err:
        report_workspace(county_ws, out, lang="en")
    assert "No report, map or figure was written" in _full_disk_message(err.value, out)
    assert list(small_disk.iterdir()) == []


def test_full_disk_for_a_validation_report(small_disk):
    out = small_disk / "problems.csv"
    with pytest.raises(DiskFullError) as err, io.atomic_path(out) as tmp:
        pd.DataFrame({"a": ["x" * 1000] * 1000}).to_csv(tmp)
    _full_disk_message(err.value, out)
    assert list(small_disk.iterdir()) == []


def test_full_disk_from_the_command_line(tmp_path, disk_3mb, small_ws):
    path = _copy(small_ws, disk_3mb)
    big = tmp_path / "big.geojson"
    _points(12000, text=200).to_file(big)
    run = subprocess.run([sys.executable, "-c", "from gcgeo.cli import main; main()", "add",
                          str(path), "chargers", str(big), "--name", "big"],
                         check=False, capture_output=True, text=True, env=_env(), timeout=PATIENCE_S)
    text = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 2, text
    assert "disk is full" in text and str(path) in text and "fault in gcgeo" not in text
    assert sorted(p.name for p in disk_3mb.iterdir()) == ["w.gpkg"]


# --- what counts as a full disk (also where no small file system can be mounted) ----------------


@pytest.mark.parametrize(("exc", "full"), [
    (OSError(28, "No space left on device"), True),
    (OSError(122, "Disk quota exceeded"), True),
    (RuntimeError("sqlite3_exec(COMMIT) failed: database or disk is full"), True),
    (pyogrio.errors.DataLayerError("Error while writing batch: No space left on device"), True),
    (PermissionError(13, "Permission denied"), False),
    (RuntimeError("sqlite3_exec(ROLLBACK) failed"), False),  # with room left on the disk
    (InputError("a user's mistake"), False),
    (KeyboardInterrupt(), False),
], ids=["ENOSPC", "EDQUOT", "sqlite_full", "gdal_no_space", "permission", "rollback_roomy",
        "gcgeo_error", "interrupt"])
def test_a_full_disk_is_told_from_other_failures(tmp_path, exc, full):
    target = tmp_path / "out.gpkg"
    if full:
        with pytest.raises(DiskFullError, match=r"cannot write .*out\.gpkg: the disk is full.*Kept"):
            io.raise_if_disk_full(exc, target, left="Kept.")
    else:
        io.raise_if_disk_full(exc, target, left="Kept.")  # returns: the caller re-raises exc


def test_a_disk_full_error_is_named_again_by_the_outer_file(tmp_path):
    inner = DiskFullError("cannot write /tmp/.r.abc/r-map.html: the disk is full")
    with pytest.raises(DiskFullError, match=r"report\.html.*Nothing was written"):
        io.raise_if_disk_full(inner, tmp_path / "report.html", left="Nothing was written.")


def test_move_into_place_takes_back_what_it_moved_when_a_rename_fails(tmp_path):
    staged = tmp_path / "stage"
    staged.mkdir()
    (staged / "a.txt").write_text("new a")
    (tmp_path / "b.txt").write_text("old b")
    (staged / "b.txt").write_text("new b")
    moves = [(staged / "b.txt", tmp_path / "b.txt"), (staged / "a.txt", tmp_path / "a.txt"),
             (staged / "missing.txt", tmp_path / "c.txt")]
    with pytest.raises(FileNotFoundError):
        io.move_into_place(moves)
    assert not (tmp_path / "a.txt").exists() and not (tmp_path / "c.txt").exists()
    assert (tmp_path / "b.txt").read_text() == "new b"  # replaced, as asked, before the failure


# --- SIGTERM in the middle of a write ----------------------------------------------------


@pytest.fixture(scope="module")
def large_ws(tmp_path_factory):
    """A workspace whose export takes seconds: 200,000 manholes."""
    path = tmp_path_factory.mktemp("large") / "large.gpkg"
    n = 200_000
    rng = np.random.default_rng(0)
    pts = gpd.GeoDataFrame({"kind": ["雨水"] * n, "note": ["检查井" * 10] * n},
                           geometry=shapely.points(434000 + rng.random(n) * 2000,
                                                   4078000 + rng.random(n) * 2000),
                           crs="EPSG:4548")
    ws.init(path, name="large", crs="EPSG:4548")
    ws.add_layer(path, "manholes", pts)
    return path


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_sigterm_mid_export_leaves_no_temporary_file(tmp_path, large_ws, suffix):
    """`kill` (SIGTERM) while an export writes ends the command as Ctrl-C does: exit 143,
    a message, and nothing in the output folder, not even the hidden temporary file."""
    folder = tmp_path / "out"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "gcgeo.cli", "export", str(large_ws),
                             str(folder / f"manholes{suffix}"), "--layers", "manholes"],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: any(folder.iterdir()) or proc.poll() is not None, "the export to begin writing")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=PATIENCE_S)
    assert proc.returncode == 143, err[-3000:]
    assert "terminated" in err and "Traceback" not in err, err[-3000:]
    assert list(folder.iterdir()) == []
