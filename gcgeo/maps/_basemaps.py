"""Base maps: OpenStreetMap, CARTO, Tianditu (天地图), Amap (高德, GCJ-02) or none.

Amap tiles are drawn in GCJ-02; a map on them shifts the *drawing* of every
layer into GCJ-02 (``Basemap.shift``), never the data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._errors import InputError

if TYPE_CHECKING:
    import folium

__all__ = ["BASEMAPS", "Basemap", "OSM_DATA_ATTRIBUTION", "add_basemap", "get_basemap"]

OSM_COPYRIGHT = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
#: Attribution for layers built from OpenStreetMap data (shown with every base map, "none" included).
OSM_DATA_ATTRIBUTION = "Data " + OSM_COPYRIGHT

TIANDITU_ENV = "TIANDITU_KEY"


@dataclass(frozen=True)
class Basemap:
    """A tile service: URL templates (base, optional label overlay), attribution, datum shift."""

    name: str
    url: str | None
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 19
    labels_url: str | None = None
    shift: str | None = None  # "gcj02": layers are drawn shifted into GCJ-02
    needs_key: str | None = None  # environment variable holding the key

    def tile_urls(self, lang: str = "en") -> list[str]:
        """The tile URL templates, key and language filled in."""
        if self.url is None:
            return []
        key = ""
        if self.needs_key:
            key = os.environ.get(self.needs_key, "").strip()
            if not key:
                raise InputError(
                    f"base map '{self.name}' needs a key: set the environment variable "
                    f"{self.needs_key} (a free 'browser' key from https://console.tianditu.gov.cn), "
                    "or choose another base map: osm, carto, amap or none."
                )
        urls = [self.url]
        if self.labels_url:
            urls.append(self.labels_url)
        lang_code = {"zh": "zh_cn", "en": "en"}.get(lang, "en")
        ann = "cva" if lang == "zh" else "eva"
        return [u.format(key=key, lang=lang_code, ann=ann, x="{x}", y="{y}", z="{z}", s="{s}", r="{r}")
                for u in urls]


_TDT = ("https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILECOL={{x}}&TILEROW={{y}}&TILEMATRIX={{z}}&tk={{key}}")

BASEMAPS: dict[str, Basemap] = {
    "osm": Basemap(
        "osm", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", OSM_COPYRIGHT, subdomains="", max_zoom=19,
    ),
    "carto": Basemap(
        "carto", "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        OSM_COPYRIGHT + ' &copy; <a href="https://carto.com/attributions">CARTO</a>',
        subdomains="abcd", max_zoom=20,
    ),
    "tianditu": Basemap(
        "tianditu", _TDT.format(layer="vec"),
        '&copy; <a href="https://www.tianditu.gov.cn">天地图 Tianditu</a> (国家地理信息公共服务平台)',
        subdomains="01234567", max_zoom=18, labels_url=_TDT.format(layer="{ann}"), needs_key=TIANDITU_ENV,
    ),
    "amap": Basemap(
        "amap",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        '&copy; <a href="https://www.amap.com">高德地图 AutoNavi</a> (GCJ-02)',
        subdomains="1234", max_zoom=18, shift="gcj02",
    ),
    "none": Basemap("none", None, ""),
}


def get_basemap(name: str) -> Basemap:
    """The base map called ``name``; a clear error lists the choices."""
    try:
        return BASEMAPS[str(name).lower()]
    except KeyError:
        raise InputError(
            f"unknown base map '{name}'; choose one of: {', '.join(BASEMAPS)}."
        ) from None


def add_basemap(m: folium.Map, basemap: Basemap, *, lang: str = "en") -> None:
    """Add ``basemap``'s tile layers to ``m`` (nothing for "none")."""
    import folium

    for i, url in enumerate(basemap.tile_urls(lang)):
        kwargs: dict[str, Any] = {"subdomains": basemap.subdomains} if basemap.subdomains else {}
        folium.TileLayer(
            tiles=url,
            attr=basemap.attribution if i == 0 else " ",
            name=basemap.name if i == 0 else f"{basemap.name} labels",
            max_zoom=basemap.max_zoom,
            max_native_zoom=basemap.max_zoom,
            overlay=i > 0,
            control=False,
            **kwargs,
        ).add_to(m)
