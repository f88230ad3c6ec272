"""Offline maps: put every script and style sheet inline, write atomically.

folium links Leaflet and its plugins from CDNs. For county offices on an
intranet :func:`inline_assets` replaces each ``<script src=…>`` and
``<link rel="stylesheet" href=…>`` with the vendored copy from
``gcgeo/maps/vendor`` (see its README for versions, sources and licences);
images the style sheets reference become ``data:`` URIs. The result makes no
network request.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from functools import cache
from pathlib import Path

from .._errors import InputError

__all__ = ["VENDOR_DIR", "VENDORED", "DROPPED", "inline_assets", "remote_asset_urls", "write_atomic"]

log = logging.getLogger(__name__)

VENDOR_DIR = Path(__file__).parent / "vendor"

#: CDN URL folium links → vendored file (relative to VENDOR_DIR).
VENDORED: dict[str, str] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet-1.9.3/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet-1.9.3/leaflet.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        "leaflet.markercluster-1.1.0/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css":
        "leaflet.markercluster-1.1.0/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        "leaflet.markercluster-1.1.0/MarkerCluster.Default.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.js":
        "leaflet-groupedlayercontrol-0.6.1/leaflet.groupedlayercontrol.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.css":
        "leaflet-groupedlayercontrol-0.6.1/leaflet.groupedlayercontrol.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        "bootstrap-5.2.2/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap-5.2.2/bootstrap.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        "leaflet-awesome-markers-2.0.2/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        "leaflet-awesome-markers-2.0.2/leaflet.awesome-markers.css",
}

#: Links folium's Map declares that only serve icon fonts; offline they are left out.
DROPPED: tuple[str, ...] = (
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",
)

_SCRIPT_RE = re.compile(r"<script\s+[^>]*?src=\"(?P<url>[^\"]+)\"[^>]*>\s*</script>", re.I)
_LINK_RE = re.compile(r"<link\s+[^>]*?href=\"(?P<url>[^\"]+)\"[^>]*?/?>", re.I)
_CSS_URL_RE = re.compile(r"url\((?P<q>['\"]?)(?P<path>[^)'\"]+)(?P=q)\)")
_SOURCEMAP_RE = re.compile(r"^[ \t]*(//[#@] sourceMappingURL=.*|/\*# sourceMappingURL=.*?\*/)[ \t]*$", re.M)
_MIME = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml", ".woff2": "font/woff2"}


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


@cache
def _asset_text(rel: str) -> str:
    path = VENDOR_DIR / rel
    text = path.read_text(encoding="utf-8")
    text = _SOURCEMAP_RE.sub("", text)
    if path.suffix == ".css":

        def data_uri(match: re.Match) -> str:
            ref = match.group("path")
            if ref.startswith(("data:", "#")) or _is_remote(ref):
                return match.group(0)
            img = (path.parent / ref).resolve()
            if not img.is_file():
                raise FileNotFoundError(f"vendored style sheet {rel} refers to missing file {ref}")
            b64 = base64.b64encode(img.read_bytes()).decode("ascii")
            return f'url("data:{_MIME[img.suffix]};base64,{b64}")'

        text = _CSS_URL_RE.sub(data_uri, text)
    return text


def remote_asset_urls(html: str) -> list[str]:
    """URLs of scripts and style sheets the page would fetch from the network."""
    urls = [m.group("url") for m in _SCRIPT_RE.finditer(html)]
    urls += [m.group("url") for m in _LINK_RE.finditer(html) if "stylesheet" in m.group(0).lower()]
    return [u for u in urls if _is_remote(u)]


def inline_assets(html: str) -> str:
    """Replace every remote script and style sheet link in ``html`` by its vendored copy.

    Raises :class:`~gcgeo.InputError` naming the URL when a page links a
    script gcgeo has no copy of (for instance a folium plugin added by hand).
    """
    missing: list[str] = []
    dropped: list[str] = []

    def script(match: re.Match) -> str:
        url = match.group("url")
        if not _is_remote(url):
            return match.group(0)
        rel = VENDORED.get(url)
        if rel is None:
            missing.append(url)
            return match.group(0)
        body = _asset_text(rel).replace("</script", "<\\/script")
        return f"<script>/* {rel} (vendored, see gcgeo/maps/vendor/README.md) */\n{body}\n</script>"

    def link(match: re.Match) -> str:
        url = match.group("url")
        if "stylesheet" not in match.group(0).lower() or not _is_remote(url):
            return match.group(0)
        if url in DROPPED:
            dropped.append(url)
            return ""
        rel = VENDORED.get(url)
        if rel is None:
            missing.append(url)
            return match.group(0)
        body = _asset_text(rel).replace("</style", "<\\/style")
        return f"<style>/* {rel} (vendored, see gcgeo/maps/vendor/README.md) */\n{body}\n</style>"

    out = _SCRIPT_RE.sub(script, html)
    out = _LINK_RE.sub(link, out)
    if dropped:
        log.info("offline map: left out icon-font style sheets %s (icons from them will not show)",
                 ", ".join(dropped))
    if missing:
        raise InputError(
            "cannot make the map offline: no vendored copy of "
            + ", ".join(sorted(set(missing)))
            + ". Remove the plugin that links it, or save without --offline."
        )
    return out


def write_atomic(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    from ..io import atomic_path

    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
