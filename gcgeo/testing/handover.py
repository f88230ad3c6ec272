"""The synthetic county's layers written as planners hand them over.

A GBK Shapefile with Chinese columns, a CSV of Amap (GCJ-02) coordinates, a
CSV of Baidu (BD-09) coordinates, an Excel sheet of survey coordinates in the
CGCS2000 zone, a WGS-84 GeoJSON and a CGCS2000 GeoPackage; see
:meth:`gcgeo.testing.SyntheticCounty.write_inputs`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS, Transformer

from .. import crs as _crs
from .._errors import InputError, OutputExistsError
from .facilities import category_labels

log = logging.getLogger(__name__)

_FILES = {
    "communities_shp": "communities.shp",
    "communities_nocpg_shp": "communities_nocpg.shp",
    "facilities_csv": "facilities_gcj02.csv",
    "chargers_csv": "chargers_bd09.csv",
    "manholes_xlsx": "manholes_cgcs2000.xlsx",
    "green_geojson": "green_space_wgs84.geojson",
    "buildings_gpkg": "buildings_cgcs2000.gpkg",
}
_CHARGER_KINDS_ZH = {"car": "汽车", "e-bike": "电动自行车"}


def write_inputs(layers: dict[str, gpd.GeoDataFrame], crs: CRS, folder: str | Path, *,
                 overwrite: bool = False, category_values: str = "zh") -> dict[str, Path]:
    """Write the hand-over files of ``layers`` (in ``crs``) into ``folder``; name → path.

    The files, ``category_values`` and ``overwrite`` are those of
    :meth:`gcgeo.testing.SyntheticCounty.write_inputs`.
    """
    if category_values not in ("zh", "key"):
        raise InputError(f"category_values must be 'zh' or 'key', got {category_values!r}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {key: folder / name for key, name in _FILES.items()}
    if not overwrite:
        existing = [str(p) for p in paths.values() if p.exists()]
        if existing:
            raise OutputExistsError(
                f"{', '.join(existing)} already exist(s); pass overwrite=True or choose an "
                "empty folder.")
    for p in paths.values():
        for sib in _siblings(p):
            sib.unlink(missing_ok=True)
    zh = category_values == "zh"

    _write_communities_shp(layers["communities"], crs, paths["communities_shp"],
                           paths["communities_nocpg_shp"])
    _write_facilities_csv(layers["facilities"], crs, paths["facilities_csv"], zh)
    _write_chargers_csv(layers["chargers"], crs, paths["chargers_csv"], zh)
    _write_manholes_xlsx(layers["manholes"], paths["manholes_xlsx"])

    green = layers["green_space"][["id", "name", "kind", "public", "geometry"]].to_crs(4326)
    pyogrio.write_dataframe(green, paths["green_geojson"], driver="GeoJSON")

    bld = layers["buildings"].to_crs(4490)
    pyogrio.write_dataframe(bld, paths["buildings_gpkg"], layer="buildings", driver="GPKG")
    log.info("synthetic county inputs written to %s", folder)
    return paths


def _write_communities_shp(com: gpd.GeoDataFrame, crs: CRS, path: Path, nocpg_path: Path) -> None:
    """GBK Shapefile, columns 编号 名称 街道 人口 户数 老旧小区 物业管理; one copy without ``.cpg``."""
    shp = gpd.GeoDataFrame(
        {
            "编号": com["id"].to_numpy(object),
            "名称": com["name"].to_numpy(object),
            "街道": com["street_office"].to_numpy(object),
            "人口": com["population"].to_numpy("int64"),
            "户数": com["households"].to_numpy("int64"),
            "老旧小区": np.where(com["old_estate"].to_numpy(bool), "是", "否"),
            "物业管理": np.where(com["property_managed"].to_numpy(bool), "是", "否"),
        },
        geometry=com.geometry.to_numpy(), crs=crs)
    for p in (path, nocpg_path):
        pyogrio.write_dataframe(shp, p, driver="ESRI Shapefile", encoding="GBK")
    path.with_suffix(".cpg").write_text("GBK", encoding="ascii")
    nocpg_path.with_suffix(".cpg").unlink(missing_ok=True)


def _write_facilities_csv(fac: gpd.GeoDataFrame, crs: CRS, path: Path, zh: bool) -> None:
    """UTF-8 (with BOM) CSV, columns 编号 名称 类别 lon lat, lon/lat in GCJ-02."""
    lon, lat = _lonlat(fac, crs)
    glon, glat = _crs.wgs84_to_gcj02(lon, lat)
    labels = category_labels()
    pd.DataFrame({
        "编号": fac["id"].to_numpy(object),
        "名称": fac["name"].to_numpy(object),
        "类别": [labels[c] if zh else c for c in fac["category"]],
        "lon": glon,
        "lat": glat,
    }).to_csv(path, index=False, encoding="utf-8-sig")


def _write_chargers_csv(ch: gpd.GeoDataFrame, crs: CRS, path: Path, zh: bool) -> None:
    """UTF-8 CSV, columns 编号 名称 类型 插口数 功率 lng lat, lng/lat in BD-09."""
    lon, lat = _lonlat(ch, crs)
    blon, blat = _crs.wgs84_to_bd09(lon, lat)
    pd.DataFrame({
        "编号": ch["id"].to_numpy(object),
        "名称": ch["name"].to_numpy(object),
        "类型": [_CHARGER_KINDS_ZH[k] if zh else k for k in ch["kind"]],
        "插口数": ch["sockets"].to_numpy("int64"),
        "功率": ch["power_kw"].to_numpy("float64"),
        "lng": blon,
        "lat": blat,
    }).to_csv(path, index=False, encoding="utf-8")


def _write_manholes_xlsx(mh: gpd.GeoDataFrame, path: Path) -> None:
    """Sheet 窨井盖, columns 编号 类型 管理人 联系方式 状况 巡检日期 x y, x/y as in the layer."""
    pd.DataFrame({
        "编号": mh["id"].to_numpy(object),
        "类型": mh["kind"].to_numpy(object),
        "管理人": mh["manager"].to_numpy(object),
        "联系方式": mh["contact"].to_numpy(object),
        "状况": mh["condition"].to_numpy(object),
        "巡检日期": mh["last_inspection"].to_numpy(object),
        "x": mh.geometry.x.to_numpy(),
        "y": mh.geometry.y.to_numpy(),
    }).to_excel(path, index=False, sheet_name="窨井盖")


def _siblings(path: Path) -> Iterable[Path]:
    if path.suffix == ".shp":
        return [path.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")]
    return [path]


def _lonlat(gdf: gpd.GeoDataFrame, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    t = Transformer.from_crs(crs, 4326, always_xy=True)
    return t.transform(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
