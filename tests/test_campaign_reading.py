"""A campaign of careless-user files at ``gcgeo add`` and ``gcgeo init``: nothing silently wrong.

Families (issue 17, reading of user files):

1. coordinates that cannot be right (swapped lat/lon, degrees declared as a
   projected CRS, the neighbouring Gauss–Krüger zone, a geocentric CRS,
   infinite or NaN coordinates) are refused, or warned about with the count
   and the distance when a study area or other layers show where features
   belong;
2. a Shapefile whose .shp, .shx and .dbf disagree (a .dbf cut short) is refused;
3. text in a file that does not name its encoding is read in the one its
   .dbf's code-page byte or its bytes show, a guess said as a warning, and
   text in no single encoding refused by row;
4. user mistakes (empty, cut, mislabelled, too wide, badly named files; a
   CSV given as the workspace) are user errors, exit 2, never "a fault";
5. files of several layers (GeoPackage, KML folders, OpenStreetMap) are not
   read from their first layer: the layers are listed; OSM polygons are
   read in full.

Each command case runs ``gcgeo`` as a user would (click's runner) and checks
the exit status, that the message names the file (row, option) and the fix,
and that a refused command left the workspace's folder byte for byte as it
was.  Expected values are computed here independently (pyproj's geodesic
distances, the bytes of the .dbf decoded by hand, the OSM XML counted with
ElementTree).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from gcgeo import CRSError, FileFormatError, InputError, io
from gcgeo import crs as C
from gcgeo import workspace as ws
from gcgeo._encoding import choose_encoding
from gcgeo.cli import common, main

DATA = Path(__file__).parent / "data"
OSM = DATA / "osm"
RASTER = DATA / "raster" / "olinda_landsat7.tif"
OLINDA = DATA / "vector" / "olinda_tracts" / "olinda1.shp"
#: three chargers inside the two communities of the study area (lon, lat)
GAOTANG = [(116.2050, 36.8550), (116.2150, 36.8560), (116.2120, 36.8520)]
GBK_NAMES = ["鱼邱湖社区", "人和社区", "金城社区", "南湖社区", "花园社区", "王堃家园"]
LATIN_NAMES = ["Jardim Atlântico", "Alto da Nação", "São Benedito", "Sítio Novo",
               "Caixa D'Água", "Olinda"]
_GEOD = Geod(ellps="WGS84")


# --- inputs ------------------------------------------------------------------------


def _chargers(points=GAOTANG, crs=4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": ["car"] * len(points),
                             "name": [f"桩{i + 1}" for i in range(len(points))]},
                            geometry=[shapely.Point(p) for p in points], crs=crs)


def _write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """``gdf`` as the file ``path`` (its suffix picks the format)."""
    if path.suffix == ".parquet":
        gdf.to_parquet(path)
    elif path.suffix == ".fgb":  # without a spatial index, the features keep their order
        pyogrio.write_dataframe(gdf, path, SPATIAL_INDEX="NO")
    elif path.suffix == ".csv":
        table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        table["lon"], table["lat"] = gdf.geometry.x, gdf.geometry.y
        table.to_csv(path, index=False)
    else:
        pyogrio.write_dataframe(gdf, path)
    return path


def _in_gk(points, epsg=4548):
    """``points`` (lon, lat) in the CGCS2000 3° zone ``epsg``."""
    return _chargers(points).to_crs(epsg)


def _relabel(gdf: gpd.GeoDataFrame, epsg: int) -> gpd.GeoDataFrame:
    """The same numbers, said to be in ``epsg`` (a wrong .prj)."""
    return gdf.set_crs(epsg, allow_override=True)


def _moved(gdf: gpd.GeoDataFrame, dx: float, dy: float = 0.0) -> gpd.GeoDataFrame:
    return gdf.set_geometry(gdf.geometry.translate(dx, dy))


def _shapefile_text(folder: Path, stem: str, values: list[str], encodings: list[str] | str, *,
                    ldid: int = 0, cpg: str | None = None, field_name: str = "name") -> Path:
    """A Shapefile of chargers whose ``field_name`` holds ``values`` written in ``encodings``,
    with the .dbf's code-page byte ``ldid`` and a .cpg saying ``cpg`` (none if None)."""
    n = len(values)
    points = [(116.205 + 0.001 * i, 36.855) for i in range(n)]
    gdf = gpd.GeoDataFrame({"kind": ["car"] * n, "name": ["x" * 40] * n},
                           geometry=[shapely.Point(p) for p in points], crs=4326)
    path = folder / f"{stem}.shp"
    pyogrio.write_dataframe(gdf, path, encoding="UTF-8")
    path.with_suffix(".cpg").unlink()
    dbf = path.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = int.from_bytes(raw[10:12], "little")
    offset, k = 1, 32
    while raw[k] != 0x0D:  # find the field
        name = bytes(raw[k:k + 11]).split(b"\x00")[0]
        if name == b"name":
            length = raw[k + 16]
            if field_name != "name":
                raw[k:k + 11] = field_name.encode(encodings if isinstance(encodings, str)
                                                  else encodings[0]).ljust(11, b"\x00")
            break
        offset += raw[k + 16]
        k += 32
    for i, v in enumerate(values):
        enc = encodings if isinstance(encodings, str) else encodings[i]
        start = header_len + i * record_len + offset
        raw[start:start + length] = v.encode(enc).ljust(length, b" ")
    raw[29] = ldid
    dbf.write_bytes(bytes(raw))
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def _cut_dbf(path: Path, keep: float) -> Path:
    """Cut ``path``'s .dbf after ``keep`` records (its header still announcing them all)."""
    dbf = path.with_suffix(".dbf")
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = int.from_bytes(raw[10:12], "little")
    dbf.write_bytes(raw[: header_len + int(keep * record_len)])
    return path


def _six(folder: Path, stem: str = "chargers") -> Path:
    pts = [(116.205 + 0.001 * i, 36.855) for i in range(6)]
    return _write(_chargers(pts), folder / f"{stem}.shp")


def _csv(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def _osm_parks() -> int:
    """Ways and relations tagged leisure=park in the Leeds OSM XML, counted from the XML."""
    root = ET.parse(OSM / "leeds_parks.osm").getroot()
    return sum(1 for el in root if el.tag in ("way", "relation")
               and any(t.get("k") == "leisure" and t.get("v") == "park" for t in el.iter("tag")))


# --- running gcgeo ------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, Path]:
    """Workspaces to copy: empty; with a study area (communities); with another layer only."""
    base = tmp_path_factory.mktemp("templates")
    runner = CliRunner()
    out: dict[str, Path] = {}
    for name in ("empty", "area", "layers"):
        w = base / f"{name}.gpkg"
        assert runner.invoke(main, ["init", str(w), "--name", "高唐县"]).exit_code == 0
        out[name] = w
    communities = gpd.GeoDataFrame(
        {"name": ["鱼邱湖社区", "金城社区"], "population": [3200, 4100]},
        geometry=[shapely.box(116.20, 36.85, 116.21, 36.86), shapely.box(116.21, 36.85, 116.22, 36.86)],
        crs=4326)
    _write(communities, base / "communities.geojson")
    _write(_chargers(), base / "chargers.gpkg")
    for w, kind, f, name in ((out["area"], "communities", "communities.geojson", "communities"),
                             (out["layers"], "chargers", "chargers.gpkg", "surveyed_chargers")):
        res = runner.invoke(main, ["add", str(w), kind, str(base / f), "--name", name])
        assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def cli(monkeypatch) -> Callable[..., tuple[int, str]]:
    """Run ``gcgeo ARGS``; return the exit status and its output on one line."""
    monkeypatch.setattr(common.console, "width", 100_000)  # messages unwrapped
    runner = CliRunner()

    def run(*args: object) -> tuple[int, str]:
        res = runner.invoke(main, [a if isinstance(a, str) else os.fspath(a) for a in args])
        text = " ".join(res.output.split())
        assert "fault in gcgeo" not in text and "Traceback" not in text, text
        return res.exit_code, text

    return run


def _state(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


# --- the cases of `gcgeo add` ---------------------------------------------------------


@dataclass
class Case:
    """One careless-user ``gcgeo add``: what to make, and what gcgeo must answer."""

    id: str
    make: Callable[[Path], list]          # writes the input in a folder; returns FILE [options]
    expect: list[str]                     # patterns the output must hold (case-insensitive)
    ok: bool = False                      # True: exit 0 (else exit 2, nothing written)
    kind: str = "chargers"
    workspace: str = "area"               # templates: empty, area, layers
    features: int | None = None           # for ok: the features stored
    names: str | None = None              # the file the message names (default: FILE's name)
    absent: list[str] = field(default_factory=list)  # patterns the output must not hold
    check: Callable[[Path], None] | None = None       # a further check of the workspace


CASES: list[Case] = []

# 1. coordinates that cannot be right -----------------------------------------------------

SWAPPED = [(lat, lon) for lon, lat in GAOTANG]
for suffix in (".gpkg", ".geojson", ".shp", ".fgb", ".parquet"):
    CASES.append(Case(f"swapped-latlon{suffix}",
                      lambda d, s=suffix: [_write(_chargers(SWAPPED), d / f"swapped{s}")],
                      [r"swapped", r"\(lat, lon\)", r"Swap X and Y", r"features 1, 2, 3"]))
    CASES.append(Case(f"swapped-latlon-empty-workspace{suffix}",
                      lambda d, s=suffix: [_write(_chargers(SWAPPED), d / f"swapped{s}")],
                      [r"latitudes beyond ±90°", r"swapped"], workspace="empty"))
CASES.append(Case("swapped-columns.csv", lambda d: [_csv(
    d, "poi.csv", "kind,lon,lat\n" + "".join(f"car,{y},{x}\n" for x, y in GAOTANG)), "--src-crs", "wgs84"],
    [r"look swapped", r"--x lat --y lon"]))
CASES.append(Case("swapped-latlon-arctic-warned", lambda d: [_write(
    _chargers([(43.5, 86.2), (43.6, 86.3)]), d / "xinjiang.geojson")],
    [r"where read as \(lat, lon\) it would lie in China", r"swap them"], ok=True, workspace="empty",
    features=2))

DEGREES = [(116.2050, 36.8550), (116.2150, 36.8560)]
for epsg, suffix in ((4548, ".gpkg"), (4548, ".shp"), (4548, ".geojson"), (4548, ".fgb"),
                     (4548, ".parquet"), (32650, ".gpkg"), (3857, ".gpkg"), (4527, ".shp"),
                     (2385, ".gpkg"), (32750, ".gpkg")):
    CASES.append(Case(f"degrees-as-EPSG:{epsg}{suffix}",
                      lambda d, e=epsg, s=suffix: [_write(_chargers(DEGREES, crs=e), d / f"deg{s}")],
                      [r"are degrees of longitude and latitude", r"projected", r"--src-crs wgs84"]))
for epsg in (4548, 3857, 32650):
    CASES.append(Case(f"degrees-declared-EPSG:{epsg}.csv", lambda d, e=epsg: [
        _write(_chargers(DEGREES), d / "poi.csv"), "--src-crs", f"EPSG:{e}"],
        [r"are degrees of longitude and latitude", r"--src-crs wgs84"]))


def _zone_offset_km(wrong: int) -> float:
    """How far GAOTANG[0] moves when its EPSG:4548 numbers are read in zone ``wrong``."""
    true = _in_gk(GAOTANG[:1])
    moved = _relabel(true, wrong).to_crs(4326).geometry.iloc[0]
    _, _, dist = _GEOD.inv(GAOTANG[0][0], GAOTANG[0][1], moved.x, moved.y)
    return dist / 1000


def _distance_is(km: float, tolerance: float = 2.0) -> Callable[[str], bool]:
    def ok(text: str) -> bool:
        m = re.search(r"up to ([\d,]+) km away", text)
        return bool(m) and abs(float(m.group(1).replace(",", "")) - km) <= tolerance
    return ok


NEIGHBOUR_KM = {e: _zone_offset_km(e) for e in (4547, 4549)}
for wrong in (4547, 4549):
    for suffix, where in ((".shp", "area"), (".gpkg", "area"), (".shp", "layers"), (".gpkg", "layers")):
        CASES.append(Case(
            f"neighbouring-zone-EPSG:{wrong}{suffix}-{where}",
            lambda d, w=wrong, s=suffix: [_write(_relabel(_in_gk(GAOTANG), w), d / f"pts{s}")],
            [r"3 of 3 features lie more than 10 km outside "
             + ("the study area" if where == "area" else "the other layers"),
             r"neighbouring Gauss–Krüger zone", r"features 1, 2, 3"],
            ok=True, workspace=where, features=3))
CASES.append(Case("neighbouring-zone-no-reference-is-undetectable",
                  lambda d: [_write(_relabel(_in_gk(GAOTANG), 4549), d / "pts.gpkg")],
                  [r"added chargers \(3 features\)"], ok=True, workspace="empty", features=3,
                  absent=[r"outside"]))
for suffix in (".gpkg", ".shp"):
    CASES.append(Case(f"zone-number-contradicts-prj{suffix}", lambda d, s=suffix: [_write(
        _relabel(_moved(_in_gk(GAOTANG), 39e6), 4528), d / f"zoned{s}")],
        [r"begin with zone number 39", r"zone 40", r"EPSG:4527"]))
    CASES.append(Case(f"zone-numbered-eastings-plain-prj{suffix}", lambda d, s=suffix: [_write(
        _relabel(_moved(_in_gk(GAOTANG), 39e6), 4548), d / f"zoned{s}")],
        [r"carry a zone number", r"EPSG:4527"]))
for where in ("empty", "area"):
    CASES.append(Case(f"eastings-beyond-the-zone-{where}", lambda d: [_write(
        _moved(_in_gk(GAOTANG), 700_000), d / "east.gpkg")],
        [r"3 feature\(s\) \(features 1, 2, 3\) lie up to 5\.\d° outside the area its CRS",
         r"--src-crs"], ok=True, workspace=where, features=3))
for suffix in (".gpkg", ".fgb", ".parquet"):
    CASES.append(Case(f"geocentric-crs{suffix}", lambda d, s=suffix: [_write(
        _chargers(GAOTANG).to_crs(4978), d / f"ecef{s}")],
        [r"geocentric", r"reproject it to a map CRS", r"--src-crs"]))
CASES.append(Case("geocentric-declared.csv", lambda d: [
    _write(_chargers(), d / "poi.csv"), "--src-crs", "EPSG:4978"], [r"geocentric"]))
for bad, label in ((float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan")):
    for suffix in (".gpkg", ".fgb", ".parquet"):
        if label == "nan" and suffix == ".fgb":
            continue  # GDAL reads it as an empty point: below
        CASES.append(Case(f"{label}-coordinate{suffix}", lambda d, b=bad, s=suffix: [_write(
            _chargers([GAOTANG[0], (b, 36.85), GAOTANG[2]]), d / f"pts{s}")],
            [r"infinite or missing \(NaN\) coordinates in feature 2", r"fix or delete it"]))
CASES.append(Case("nan-coordinate.fgb-reads-as-no-position", lambda d: [_write(
    _chargers([GAOTANG[0], (np.nan, 36.85), GAOTANG[2]]), d / "pts.fgb")],
    [r"added chargers \(3 features\)", r"1 error\(s\)", r"gcgeo validate"], ok=True, features=3))
CASES.append(Case("inf-vertex-in-a-polygon.gpkg", lambda d: [_write(gpd.GeoDataFrame(
    {"name": ["a", "b"], "population": [1, 2]},
    geometry=[shapely.box(116.20, 36.85, 116.21, 36.86),
              shapely.Polygon([(116.21, 36.85), (np.inf, 36.85), (116.22, 36.86)])], crs=4326),
    d / "com.gpkg")], [r"in feature 2"], kind="communities", workspace="empty"))
for text in ("inf", "-inf", "nan", "1e999", "Infinity"):
    CASES.append(Case(f"csv-{text}", lambda d, t=text: [_csv(
        d, "poi.csv", f"kind,lon,lat\ncar,116.205,36.855\ncar,{t},36.86\n"), "--src-crs", "wgs84"],
        [r"missing, non-numeric or infinite coordinates", r"file lines 3", r"fix or remove"]))
for suffix in (".gpkg", ".csv"):
    CASES.append(Case(f"far-outside-study-area{suffix}", lambda d, s=suffix: [_write(
        _chargers(GAOTANG[:2] + [(116.80, 36.855)]), d / f"pts{s}")] + (
        ["--src-crs", "wgs84"] if s == ".csv" else []),
        [r"1 of 3 features lie more than 10 km outside the study area", r"feature 3\b"],
        ok=True, features=3))
    CASES.append(Case(f"inside-study-area{suffix}", lambda d, s=suffix: [_write(
        _chargers(), d / f"pts{s}")] + (["--src-crs", "wgs84"] if s == ".csv" else []),
        [r"added chargers \(3 features\)"], ok=True, features=3, absent=[r"outside", r"warning"]))

# 2. a Shapefile whose parts disagree ------------------------------------------------------

for keep, why in ((2, "2 of 6"), (0, "none of 6"), (5, "5 of 6"), (2.5, "2 and a half of 6")):
    CASES.append(Case(f"dbf-cut-short-{why.replace(' ', '-')}", lambda d, k=keep: [_cut_dbf(_six(d), k)],
                      [rf"chargers\.dbf holds the attributes of {int(keep)} feature\(s\)",
                       r"announces 6", r"chargers\.shx lists 6", r"cut short",
                       r"Copy the complete Shapefile again"]))


def _shx_cut(d: Path) -> list:
    path = _six(d)
    shx = path.with_suffix(".shx")
    shx.write_bytes(shx.read_bytes()[:-16])
    return [path]


def _shp_cut(d: Path) -> list:
    path = _six(d)
    shp = path.with_suffix(".shp")
    shp.write_bytes(shp.read_bytes()[:-30])
    return [path]


def _other_dbf(d: Path) -> list:
    path = _six(d)
    other = _write(_chargers(), d / "other.shp")  # 3 features
    shutil.copy(other.with_suffix(".dbf"), path.with_suffix(".dbf"))
    return [path]


def _dbf_header_only(d: Path) -> list:
    return [_cut_dbf(_six(d), 0)]


CASES += [
    Case("shx-cut-short", _shx_cut, [r"chargers\.shx is cut short", r"Copy the complete Shapefile"]),
    Case("shp-cut-short", _shp_cut, [r"chargers\.shp is cut short", r"Copy the complete Shapefile"]),
    Case("dbf-of-another-shapefile", _other_dbf,
         [r"chargers\.shx lists 6 shape\(s\) but chargers\.dbf holds 3 record\(s\)",
          r"do not belong together"]),
    Case("dbf-header-only", _dbf_header_only, [r"holds the attributes of 0 feature\(s\)"]),
    Case("complete-shapefile", lambda d: [_six(d)], [r"added chargers \(6 features\)"], ok=True,
         features=6),
]

# 3. encodings -----------------------------------------------------------------------------


def _stored(names: list[str]) -> Callable[[Path], None]:
    def check(w: Path) -> None:
        assert ws.read_layer(w, "chargers")["name"].tolist() == names
    return check


MIXED = ["gbk", "gbk", "gbk", "utf-8", "gbk", "gbk"]
CASES += [
    Case("gbk-dbf-without-cpg", lambda d: [_shapefile_text(d, "gbk", GBK_NAMES, "gbk")],
         [r"gbk\.dbf \(no \.cpg beside it\) does not name its text encoding",
          r"guessed GBK", r"--encoding"], ok=True, features=6, check=_stored(GBK_NAMES)),
    Case("gbk-dbf-with-one-utf8-value", lambda d: [_shapefile_text(d, "mixed", GBK_NAMES, MIXED)],
         [r"mixed\.dbf", r"not in one encoding", r"row 4, name", r"as UTF-8 '南湖社区'",
          r"most of it reads as GBK", r"--encoding"], names="mixed.dbf"),
    Case("gbk-dbf-with-one-utf8-value-encoding-given",
         lambda d: [_shapefile_text(d, "mixed", GBK_NAMES, MIXED), "--encoding", "GBK"],
         [r"added chargers \(6 features\)"], ok=True, features=6),
    Case("utf8-dbf-with-one-gbk-value", lambda d: [_shapefile_text(
        d, "mixed", GBK_NAMES, ["utf-8"] * 5 + ["gbk"])],
        [r"not in one encoding", r"row 6, name", r"most of it reads as UTF-8"], names="mixed.dbf"),
    Case("latin1-dbf-code-page-byte-0x57", lambda d: [_shapefile_text(
        d, "olinda", LATIN_NAMES, "cp1252", ldid=0x57)],
        [r"added chargers"], ok=True, features=6, check=_stored(LATIN_NAMES),
        absent=[r"鈔", r"guessed"]),
    Case("latin1-dbf-code-page-byte-0x03", lambda d: [_shapefile_text(
        d, "olinda", LATIN_NAMES, "cp1252", ldid=0x03)],
        [r"added chargers"], ok=True, features=6, check=_stored(LATIN_NAMES), absent=[r"guessed"]),
    Case("latin1-dbf-no-code-page", lambda d: [_shapefile_text(d, "olinda", LATIN_NAMES, "cp1252")],
         [r"guessed Windows-1252", r"Jardim Atlântico", r"--encoding"], ok=True, features=6,
         check=_stored(LATIN_NAMES)),
    Case("gbk-dbf-code-page-byte-0x4d", lambda d: [_shapefile_text(d, "gbk", GBK_NAMES, "gbk", ldid=0x4D)],
         [r"added chargers"], ok=True, features=6, check=_stored(GBK_NAMES), absent=[r"guessed"]),
    Case("gbk-dbf-code-page-byte-says-latin1", lambda d: [_shapefile_text(
        d, "gbk", GBK_NAMES, "gbk", ldid=0x57)],
        [r"code-page byte of gbk\.dbf says ISO-8859-1", r"reads as GBK", r"--encoding"], ok=True,
        features=6, check=_stored(GBK_NAMES)),
    Case("utf8-dbf-without-cpg", lambda d: [_shapefile_text(d, "utf8", GBK_NAMES, "utf-8")],
         [r"added chargers"], ok=True, features=6, check=_stored(GBK_NAMES), absent=[r"guessed"]),
    Case("utf8-dbf-code-page-byte-says-latin1", lambda d: [_shapefile_text(
        d, "utf8", LATIN_NAMES, "utf-8", ldid=0x57)],
        [r"says ISO-8859-1", r"reads as UTF-8"], ok=True, features=6, check=_stored(LATIN_NAMES)),
    Case("latin1-and-gbk-mixed", lambda d: [_shapefile_text(
        d, "mixed", LATIN_NAMES[:3] + GBK_NAMES[:3], ["cp1252"] * 3 + ["gbk"] * 3)],
        [r"not in one encoding", r"row \d, name"], names="mixed.dbf"),
    Case("cpg-says-utf8-text-is-gbk", lambda d: [_shapefile_text(d, "gbk", GBK_NAMES, "gbk", cpg="UTF-8")],
         [r"the text of row 1, name, row 2, name, .* is not UTF-8", r"they read as GBK",
          r"--encoding GB18030"]),
    Case("cpg-names-unknown-code-page", lambda d: [_shapefile_text(d, "gbk", GBK_NAMES, "gbk", cpg="NOPAGE")],
         [r"unknown text encoding 'NOPAGE'", r"named by gbk\.cpg", r"--encoding"]),
    Case("encoding-option-unknown", lambda d: [_shapefile_text(d, "gbk", GBK_NAMES, "gbk"),
                                               "--encoding", "klingon"],
         [r"unknown text encoding 'klingon'", r"given as --encoding"]),
    Case("gbk-field-name-without-cpg", lambda d: [_shapefile_text(
        d, "gbk", GBK_NAMES, "gbk", field_name="名称")],
        [r"guessed GBK"], ok=True, features=6,
        check=_stored(GBK_NAMES)),  # 名称 is the spec's Chinese name of 'name'
    Case("gbk-csv", lambda d: [_csv(d, "gbk.csv", "kind,name,lon,lat\n" + "".join(
        f"car,{n},116.2{i}5,36.855\n" for i, n in enumerate(GBK_NAMES[:3])), "gbk"), "--src-crs", "wgs84"],
        [r"gbk\.csv does not name its text encoding", r"guessed GBK", r"--encoding"], ok=True,
        features=3, check=_stored(GBK_NAMES[:3])),
    Case("latin1-csv", lambda d: [_csv(d, "latin.csv", "kind,name,lon,lat\n" + "".join(
        f"car,{n},116.2{i}5,36.855\n" for i, n in enumerate(LATIN_NAMES[:3])), "cp1252"), "--src-crs",
        "wgs84"], [r"guessed Windows-1252"], ok=True, features=3, check=_stored(LATIN_NAMES[:3])),
    Case("gbk-csv-with-one-utf8-line", lambda d: [_mixed_csv(d), "--src-crs", "wgs84"],
         [r"mixed\.csv", r"not in one encoding", r"line 3", r"as UTF-8 'car,人和社区"]),
    Case("utf8-bom-csv", lambda d: [_csv(d, "bom.csv", "\ufeffkind,name,lon,lat\ncar,鱼邱湖,116.205,36.855\n"),
                                    "--src-crs", "wgs84"], [r"added chargers \(1 features\)"], ok=True,
         features=1, absent=[r"guessed"], check=_stored(["鱼邱湖"])),
    Case("utf16-csv", lambda d: [_csv(d, "u16.csv", "kind\tname\tlon\tlat\ncar\t鱼邱湖\t116.205\t36.855\n",
                                      "utf-16"), "--src-crs", "wgs84"],
         [r"added chargers \(1 features\)"], ok=True, features=1, check=_stored(["鱼邱湖"])),
]


def _mixed_csv(d: Path) -> Path:
    path = d / "mixed.csv"
    path.write_bytes(b"kind,name,lon,lat\n" + "car,鱼邱湖社区,116.205,36.855\n".encode("gbk")
                     + "car,人和社区,116.215,36.856\n".encode()
                     + "car,金城社区,116.212,36.852\n".encode("gbk"))
    return path


# 4. user mistakes are user errors ------------------------------------------------------------


def _xlsx(d: Path, name: str = "poi.xlsx") -> Path:
    path = d / name
    pd.DataFrame({"kind": ["car"], "lon": [116.205], "lat": [36.855]}).to_excel(path, index=False)
    return path


def _truncated(path: Path, keep: float = 0.5) -> Path:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


def _renamed(path: Path, name: str) -> Path:
    return path.rename(path.with_name(name))


def _empty(d: Path, name: str) -> Path:
    path = d / name
    path.write_bytes(b"")
    return path


def _wide(d: Path, n: int, suffix: str = ".csv") -> Path:
    cols = {f"c{i}": [i] for i in range(n)}
    cols.update(kind=["car"], lon=[116.205], lat=[36.855])
    if suffix == ".csv":
        path = d / "wide.csv"
        pd.DataFrame(cols).to_csv(path, index=False)
    else:
        lon, lat = cols.pop("lon"), cols.pop("lat")
        path = _write(gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(lon, lat), crs=4326),
                      d / f"wide{suffix}")
    return path


def _bytes_name(d: Path, raw_name: bytes, suffix: str) -> Path:
    good = _write(_chargers(), d / f"good{suffix}")
    target = Path(os.fsdecode(os.fsencode(d) + b"/" + raw_name + suffix.encode()))
    for side in good.parent.glob("good.*"):
        side.rename(target.with_suffix(side.suffix))
    return target


for name in ("empty.csv", "empty.xlsx", "empty.geojson", "empty.gpkg", "empty.parquet", "empty.fgb",
             "empty.kml", "empty.shp"):
    CASES.append(Case(f"zero-bytes-{name}", lambda d, n=name: [_empty(d, n)] + (
        ["--src-crs", "wgs84"] if n.endswith((".csv", ".xlsx")) else []),
        [r"is empty \(0 bytes\)", r"Get the file again"], absent=[r"encod"]))
CASES += [
    Case("truncated-xlsx", lambda d: [_truncated(_xlsx(d)), "--src-crs", "wgs84"],
         [r"could not be read as an Excel workbook", r"damaged or incomplete", r"complete copy"]),
    Case("xlsx-renamed-csv", lambda d: [_renamed(_xlsx(d), "poi.csv"), "--src-crs", "wgs84"],
         [r"is an Excel workbook \(\.xlsx\), not a CSV table", r"Rename it to 'poi\.xlsx'"],
         absent=[r"encod"]),
    Case("csv-renamed-xlsx", lambda d: [_renamed(_write(_chargers(), d / "p.csv"), "p.xlsx"),
                                        "--src-crs", "wgs84"],
         [r"is plain text \(CSV or similar\), not an Excel workbook", r"Rename it to 'p\.csv'"]),
    Case("parquet-renamed-csv", lambda d: [_renamed(_write(_chargers(), d / "p.parquet"), "p.csv"),
                                           "--src-crs", "wgs84"],
         [r"is a Parquet file, not a CSV table", r"'p\.parquet'"], absent=[r"encod"]),
    Case("geojson-renamed-csv", lambda d: [_renamed(_write(_chargers(), d / "p.geojson"), "p.csv"),
                                           "--src-crs", "wgs84"], [r"is a GeoJSON or JSON file", r"'p\.geojson'"]),
    # GDAL reads these by their content, whatever their names say: read as they are
    Case("gpkg-renamed-geojson", lambda d: [_renamed(_write(_chargers(), d / "p.gpkg"), "p.geojson")],
         [r"added chargers \(3 features\)"], ok=True, features=3),
    Case("geojson-renamed-gpkg", lambda d: [_renamed(_write(_chargers(), d / "p.geojson"), "p.gpkg")],
         [r"added chargers \(3 features\)"], ok=True, features=3),
    Case("fgb-renamed-parquet", lambda d: [_renamed(_write(_chargers(), d / "p.fgb"), "p.parquet")],
         [r"is a FlatGeobuf file, not a GeoParquet file", r"'p\.fgb'"], absent=[r"encod"]),
    Case("xlsx-renamed-shp", lambda d: [_renamed(_xlsx(d), "p.shp")], [r"is an Excel workbook", r"'p\.xlsx'"]),
    Case("truncated-parquet", lambda d: [_truncated(_write(_chargers(), d / "p.parquet"))],
         [r"could not be read as a GeoParquet file", r"damaged or incomplete"], absent=[r"encod"]),
    Case("garbled-parquet", lambda d: [_csv(d, "p.parquet", "PAR1" + "x" * 200)],
         [r"could not be read as a GeoParquet file", r"damaged"], absent=[r"encod"]),
    Case("truncated-flatgeobuf", lambda d: [_truncated(_write(_chargers(), d / "p.fgb"))],
         [r"could not be read as a FlatGeobuf file", r"damaged or incomplete"], absent=[r"encod"]),
    Case("zeroed-flatgeobuf-header", lambda d: [_zero_header(_write(_chargers(), d / "p.fgb"))],
         [r"p\.fgb", r"damaged or incomplete"], absent=[r"encod"]),
    Case("truncated-geopackage", lambda d: [_truncated(_write(_chargers(), d / "p.gpkg"), 0.3)],
         [r"p\.gpkg", r"damaged or incomplete"]),
    Case("truncated-geojson", lambda d: [_truncated(_write(_chargers(), d / "p.geojson"))],
         [r"could not be read as a GeoJSON file", r"damaged"]),
    Case("wide-csv-2100-columns", lambda d: [_wide(d, 2100), "--src-crs", "wgs84"],
         [r"wide\.csv has 2,101 columns", r"at most 1,998", r"Keep the columns you need"]),
    Case("wide-geojson-2100-columns", lambda d: [_wide(d, 2100, ".geojson")],
         [r"wide\.geojson has 2,101 columns", r"at most 1,998"]),
    Case("wide-csv-1990-columns", lambda d: [_wide(d, 1990), "--src-crs", "wgs84"],
         [r"added chargers \(1 features\)"], ok=True, features=1),
    Case("csv-rows-longer-than-header", lambda d: [_csv(
        d, "p.csv", "kind,lon,lat\ncar,116.205,36.855\ncar,116.21,36.85,extra,more\n"), "--src-crs", "wgs84"],
        [r"p\.csv: its rows do not fit its header", r"quotes"]),
    Case("xlsx-no-such-sheet", lambda d: [_xlsx(d), "--src-crs", "wgs84", "--sheet", "充电桩"],
         [r"has no sheet '充电桩' \(given as --sheet\)", r"Sheet1"]),
    Case("chinese-file-name-is-fine", lambda d: [_write(_chargers(), d / "充电桩 调查.geojson")],
         [r"added chargers \(3 features\)"], ok=True, features=3),
]
for raw, suffix in ((b"caf\xe9", ".geojson"), ("充电桩".encode("gbk"), ".csv"), (b"\xff\xfe", ".shp"),
                    ("井盖".encode("gbk"), ".gpkg")):
    CASES.append(Case(f"non-utf8-name-{raw.hex()}{suffix}", lambda d, r=raw, s=suffix: [
        _bytes_name(d, r, s)] + (["--src-crs", "wgs84"] if s == ".csv" else []),
        [r"is not UTF-8 text", r"Rename the file"],
        names=raw.decode("utf-8", "backslashreplace") + suffix))


def _zero_header(path: Path) -> Path:
    raw = path.read_bytes()
    path.write_bytes(raw[:8] + b"\x00" * 64 + raw[72:])
    return path


def _tif_text(d: Path) -> list:
    return [_csv(d, "ndvi.tif", "this is not an image\n")]


CASES += [
    Case("truncated-geotiff", lambda d: [_truncated(_copy(RASTER, d / "landsat.tif"))],
         [r"landsat\.tif could not be read as a raster \(GeoTIFF\)", r"TIFFReadEncodedStrip",
          r"damaged or incomplete"], kind="raster"),
    Case("zero-byte-geotiff", lambda d: [_empty(d, "landsat.tif")], [r"landsat\.tif"], kind="raster"),
    Case("text-named-tif", _tif_text, [r"ndvi\.tif", r"not a raster gcgeo can read"], kind="raster"),
    Case("complete-geotiff", lambda d: [_copy(RASTER, d / "landsat.tif"), "--red", "3", "--nir", "4"],
         [r"attached raster .*landsat\.tif \(6 bands, EPSG:31985\)"], ok=True, kind="raster"),
]


def _copy(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    return dst


# 5. files of several layers -------------------------------------------------------------------


def _two_layers(d: Path) -> Path:
    path = d / "survey.gpkg"
    pyogrio.write_dataframe(_chargers(GAOTANG[:2]), path, layer="快充")
    pyogrio.write_dataframe(_chargers([(-0.1, 51.5)]), path, layer="慢充")
    return path


def _one_layer_and_a_table(d: Path) -> Path:
    path = d / "styled.gpkg"
    pyogrio.write_dataframe(_chargers(), path, layer="chargers")
    pyogrio.write_dataframe(pd.DataFrame({"style": ["<qml/>"]}), path, layer="layer_styles")
    return path


KML_FOLDERS = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Folder><name>快充</name>
<Placemark><name>A</name><ExtendedData><Data name="kind"><value>car</value></Data></ExtendedData>
<Point><coordinates>116.205,36.855</coordinates></Point></Placemark>
<Placemark><name>B</name><ExtendedData><Data name="kind"><value>car</value></Data></ExtendedData>
<Point><coordinates>116.215,36.856</coordinates></Point></Placemark>
</Folder>
<Folder><name>伦敦</name>
<Placemark><name>C</name><Point><coordinates>-0.1,51.5</coordinates></Point></Placemark>
</Folder>
</Document></kml>
"""

CASES += [
    Case("gpkg-two-layers-no-layer-option", lambda d: [_two_layers(d)],
         [r"survey\.gpkg holds 2 map layers: 快充 \(Point\), 慢充 \(Point\)", r"--layer NAME"]),
    Case("gpkg-two-layers-layer-given", lambda d: [_two_layers(d), "--layer", "快充"],
         [r"added chargers \(2 features\)"], ok=True, features=2),
    Case("gpkg-no-such-layer", lambda d: [_two_layers(d), "--layer", "慢"],
         [r"has no layer '慢'", r"快充, 慢充"]),
    Case("gpkg-one-layer-and-a-style-table", lambda d: [_one_layer_and_a_table(d)],
         [r"added chargers \(3 features\)"], ok=True, features=3),
    Case("kml-folders-no-layer-option", lambda d: [_csv(d, "survey.kml", KML_FOLDERS)],
         [r"survey\.kml holds 2 map layers: 快充 .*伦敦", r"--layer NAME"]),
    Case("kml-folders-layer-given", lambda d: [_csv(d, "survey.kml", KML_FOLDERS), "--layer", "快充"],
         [r"added chargers \(2 features\)"], ok=True, features=2),
    Case("osm-xml-no-layer-option", lambda d: [_copy(OSM / "leeds_parks.osm", d / "parks.osm")],
         [r"parks\.osm holds 5 map layers", r"multipolygons \(MultiPolygon\)", r"--layer NAME",
          r"gcgeo import-osm"], kind="green_space"),
    Case("osm-pbf-no-layer-option", lambda d: [_copy(OSM / "kotka_karhula.osm.pbf", d / "kotka.osm.pbf")],
         [r"kotka\.osm\.pbf holds 5 map layers", r"points \(Point\)", r"--layer NAME"], kind="facilities"),
    Case("osm-pbf-no-such-layer", lambda d: [_copy(OSM / "kotka_karhula.osm.pbf", d / "kotka.osm.pbf"),
                                             "--layer", "parks"],
         [r"has no layer 'parks'", r"points, lines, multilinestrings, multipolygons, other_relations"],
         kind="green_space"),
    Case("osm-multipolygons-every-park", lambda d: [
        _copy(OSM / "leeds_parks.osm", d / "parks.osm"), "--layer", "multipolygons", "--columns",
        "leisure=kind"], [rf"added green_space \({_osm_parks()} features\)"], ok=True,
        kind="green_space", workspace="empty", features=_osm_parks()),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_add(case: Case, tmp_path, templates, cli):
    folder = tmp_path / "ws"
    folder.mkdir()
    w = folder / "ws.gpkg"
    shutil.copy(templates[case.workspace], w)
    inputs = tmp_path / "in"
    inputs.mkdir()
    args = [str(a) for a in case.make(inputs)]
    before = _state(folder)
    code, text = cli("add", w, case.kind, *args)
    name = case.names or Path(args[0]).name
    if case.ok:
        assert code == 0, text
        if case.features is not None:
            layer = case.kind if case.kind != "raster" else None
            assert layer is None or len(ws.read_layer(w, layer)) == case.features
        if case.check is not None:
            assert case.check(w) is not False
    else:
        assert code == 2, text
        assert name in text, (name, text)
        assert _state(folder) == before, "a refused add changed the workspace's folder"
    for pattern in case.expect:
        assert re.search(pattern, text, flags=re.IGNORECASE), (pattern, text)
    for pattern in case.absent:
        assert not re.search(pattern, text, flags=re.IGNORECASE), (pattern, text)


def test_the_neighbouring_zone_is_said_with_its_distance(tmp_path, templates, cli):
    """The warning's distance is the one a wrong .prj moves the features (pyproj's geodesic)."""
    for wrong, km in NEIGHBOUR_KM.items():
        assert 250 < km < 290
        w = tmp_path / f"{wrong}.gpkg"
        shutil.copy(templates["area"], w)
        code, text = cli("add", w, "chargers",
                           _write(_relabel(_in_gk(GAOTANG), wrong), tmp_path / f"p{wrong}.shp"))
        assert code == 0 and _distance_is(km)(text), (km, text)


# --- a workspace that is not one; init ----------------------------------------------------------


def _plain_gpkg(d: Path) -> Path:
    return _write(_chargers(), d / "plain.gpkg")


NOT_WORKSPACES = [
    ("csv", lambda d: _write(_chargers(), d / "pts.csv"), r"is plain text \(CSV or similar\), not a gcgeo workspace"),
    ("geojson", lambda d: _write(_chargers(), d / "pts.geojson"), r"is a GeoJSON or JSON file, not a gcgeo workspace"),
    ("csv-named-gpkg", lambda d: _renamed(_write(_chargers(), d / "pts.csv"), "pts.gpkg"),
     r"is not a readable GeoPackage \(plain text \(CSV or similar\)\)"),
    ("plain-geopackage", _plain_gpkg, r"is a GeoPackage \(SQLite database\), not a gcgeo workspace"),
    ("xlsx", lambda d: _xlsx(d), r"pts|poi\.xlsx"),
    ("empty", lambda d: _empty(d, "ws.gpkg"), r"ws\.gpkg"),
]


@pytest.mark.parametrize("make,pattern", [(m, p) for _, m, p in NOT_WORKSPACES],
                         ids=[i for i, _, _ in NOT_WORKSPACES])
@pytest.mark.parametrize("command", ["add", "layers", "validate"])
def test_a_file_that_is_no_workspace(command, make, pattern, tmp_path, cli):
    path = make(tmp_path)
    data = _write(_chargers(), tmp_path / "data.geojson")
    before = _state(tmp_path)
    args = ["add", path, "chargers", data] if command == "add" else [command, path]
    code, text = cli(*args)
    assert code == 2, text
    assert re.search(pattern, text), text
    assert "is a GeoPackage but not" not in text
    assert path.name in text and _state(tmp_path) == before


INIT_REFUSED = [
    (["--crs", "EPSG:4978"], r"not projected"),
    (["--crs", "EPSG:4326"], r"not projected"),
    (["--crs", "wgs84"], r"not projected"),
    (["--crs", "EPSG:3857"], r"distorts lengths"),
    (["--crs", "no-such-crs"], r"'no-such-crs' is not a coordinate reference system"),
    (["--crs", "gcj02"], r"not projected"),
]


@pytest.mark.parametrize("options,pattern", INIT_REFUSED, ids=[o[1] for o, _ in INIT_REFUSED])
def test_init_refuses_a_working_crs_that_cannot_measure(options, pattern, tmp_path, cli):
    code, text = cli("init", tmp_path / "w.gpkg", "--name", "高唐县", *options)
    assert code == 2 and re.search(pattern, text), text
    assert "--crs" in text or "EPSG:45" in text or "CRS" in text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["w.csv", "w.geojson", "w"])
def test_init_names_a_workspace_gpkg(name, tmp_path, cli):
    code, text = cli("init", tmp_path / name, "--name", "高唐县")
    assert code == 2 and "a workspace is a GeoPackage" in text and ".gpkg" in text
    assert list(tmp_path.iterdir()) == []


# --- the library: checks computed by hand ---------------------------------------------------------


@pytest.mark.parametrize("offset_km,north", [(15, False), (50, False), (267, False), (1480, True)])
def test_check_coordinates_names_count_and_distance(offset_km, north):
    # thousands of km go north, within the zone's area (22.6°N–49.9°N): as far east, a
    # 3° zone distorts lengths beyond use and the position is refused (test_crs.py)
    area = gpd.GeoSeries([shapely.box(428_000, 4_079_000, 431_000, 4_082_000)], crs=4548)
    far = shapely.Point(429_000, 4_082_000 + offset_km * 1000) if north else \
        shapely.Point(431_000 + offset_km * 1000, 4_080_000)
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(429_000, 4_080_000), far], crs=4548)
    found = [f for f in C.check_coordinates(pts, source="p.gpkg", study_area=area)
             if "study area" in f]
    assert len(found) == 1
    assert f"1 of 2 features lie more than 10 km outside the study area, up to {offset_km:,} km away" \
        in found[0] and "feature 2" in found[0]


def test_check_coordinates_within_the_tolerance_says_nothing():
    area = gpd.GeoSeries([shapely.box(0, 0, 1000, 1000)], crs=32650)
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(1000 + 9_999, 500)], crs=32650)
    assert C.check_coordinates(pts, source="p", study_area=area, far_m=10_000) == []
    assert C.check_coordinates(pts, source="p", study_area=area, far_m=9_000) != []


@pytest.mark.parametrize("epsg,expected", [(4548, "cm 117e"), (32650, "utm zone 50n"),
                                           (3857, "pseudo-mercator")])
def test_degrees_in_a_projected_crs_are_refused_by_the_library(epsg, expected):
    pts = _chargers(DEGREES, crs=epsg)
    with pytest.raises(CRSError, match="degrees of longitude and latitude") as err:
        C.check_coordinates(pts, source="deg.gpkg")
    assert expected in str(err.value).lower()


def test_true_projected_coordinates_pass():
    pts = _in_gk(GAOTANG)
    assert C.check_coordinates(pts, source="p") == []
    assert C.check_coordinates(_chargers(), source="p") == []


def test_olinda_text_as_the_dbf_bytes_say():
    """The real Olinda tracts (LDID 0x57, no .cpg) read as Latin-1, as decoding the bytes by hand gives."""
    raw = OLINDA.with_suffix(".dbf").read_bytes()
    assert raw[29] == 0x57 and not OLINDA.with_suffix(".cpg").exists()
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = int.from_bytes(raw[10:12], "little")
    n = int.from_bytes(raw[4:8], "little")
    # NM_BAIR is the fifth field: 1 + 24 + 80 + 80 + 80 bytes into the record, 80 long
    start = 1 + 24 + 80 + 80 + 80
    by_hand = [raw[header_len + i * record_len + start: header_len + i * record_len + start + 80]
               .decode("latin-1").strip() or None for i in range(n)]
    assert "Jardim Atlântico" in by_hand
    read = io.read_vector(OLINDA)
    assert read["NM_BAIR"].astype(object).where(read["NM_BAIR"].notna(), None).tolist() == by_hand
    assert not read["NM_BAIR"].str.contains("鈔|玢|韙").any()


def test_leeds_multipolygons_every_park():
    parks = io.read_vector(OSM / "leeds_parks.osm", layer="multipolygons")
    assert len(parks) == _osm_parks() == 13
    assert (parks["leisure"] == "park").all() and parks.geometry.is_valid.all()


@pytest.mark.parametrize("values,expected", [
    ([("r1", "鱼邱湖".encode("gbk"))], "GB18030"),
    ([("r1", "鱼邱湖".encode())], "UTF-8"),
    ([("r1", "Atlântico".encode("cp1252"))], "CP1252"),
    ([("r1", "Nação".encode("cp1252"))], "CP1252"),
    ([("r1", "Çâmara".encode("cp1252"))], "CP1252"),
    ([("r1", "王堃".encode("gbk")), ("r2", "人和".encode("gbk"))], "GB18030"),
    ([("r1", b"plain ascii")], None),
])
def test_choose_encoding_by_what_real_text_looks_like(values, expected):
    assert choose_encoding(values, source="f") == expected


def test_choose_encoding_refuses_text_in_two_encodings():
    values = [("row 1, name", "鱼邱湖社区".encode("gbk")), ("row 2, name", "南湖社区".encode()),
              ("row 3, name", "金城社区".encode("gbk"))]
    with pytest.raises(FileFormatError, match=r"row 2, name \(as UTF-8 '南湖社区'"):
        choose_encoding(values, source="f.dbf")


def test_read_vector_refuses_each_mistake_as_a_user_error(tmp_path):
    with pytest.raises(FileFormatError, match="empty"):
        io.read_vector(_empty(tmp_path, "e.csv"), src_crs="wgs84")
    with pytest.raises(InputError, match="not UTF-8"):
        io.read_vector(_bytes_name(tmp_path, b"\xe9t\xe9", ".geojson"))
    with pytest.raises(FileFormatError, match="holds the attributes of 2 feature"):
        io.read_vector(_cut_dbf(_six(tmp_path, "six"), 2))
