"""`gcgeo demo`, the README's main job, and the map/report commands on its workspace."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gcgeo import workspace as ws
from gcgeo.cli import main


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = CliRunner().invoke(main, ["demo", "--out", str(out), "--lang", "en"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out, res.output


def test_demo_builds_every_layer_and_result(demo_dir):
    out, text = demo_dir
    path = out / "helsinki.gpkg"
    layers = ws.list_layers(path).set_index("layer")
    # figures from the data's own documentation (../shared/data/README.md)
    assert layers.loc["chargers", "features"] == 4
    assert layers.loc["manholes", "features"] == 397
    for name in ("lc_origins", "lc_communities", "lc_gaps", "lc_isochrones", "green_communities",
                 "fire_findings", "fire_lanes_summary"):
        assert name in layers.index
    assert set(layers["analysis"]) >= {"living_circle", "green", "fire_lanes"}
    problems = pd.read_csv(out / "validation.csv")
    assert (problems["severity"] == "error").sum() == 0
    for name in ("report.html", "report-map.html", "map-osm.html"):
        assert str(out / name) in text.replace("\n", "")


def test_demo_living_circle_reads_beyond_the_categories_osm_lacks(demo_dir):
    """OpenStreetMap has no kindergarten or elderly care in central Helsinki: the report says
    so per category, gives the strict reading beside the one counting only the categories
    found in the data, and how many of those a home has within reach (not only 0.0%)."""
    import html as _html

    out, _ = demo_dir
    o = ws.read_layer(out / "helsinki.gpkg", "lc_origins")
    cats = ws.read_layer(out / "helsinki.gpkg", "lc_categories")
    have = cats[cats["status"] != "no facility"]
    reached = sum((o[f"dist_{c}_m"] <= m).astype(float) for c, m in zip(have["category"], have["required_m"]))
    report = _html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert (cats["status"] == "no facility").any()
    assert "No facility of this kind in the data" in report
    assert "(only the categories found in the data)" in report
    assert f"{reached.mean():.1f} of {len(have)} ({len(cats)} required)" in report
    assert reached.mean() > 3
    assert "Share of homes with every facility category" in report  # population is a placeholder
    comm = ws.read_layer(out / "helsinki.gpkg", "communities")
    assert not comm["name"].str.contains("landuse=").any()


def test_demo_report_and_offline_map(demo_dir):
    out, _ = demo_dir
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "href='report-map.html'" in report and "href='map-osm.html'" in report
    assert report.count("data:image/png;base64,") == len(list((out / "report-figures").glob("*.png")))
    offline = (out / "report-map.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=['\"]https?://", offline)
    assert not re.search(r"<link[^>]+href=['\"]https?://", offline)
    assert (out / "report-map.html").stat().st_size < 5e6
    # the attribution is added by script, JSON-escaped: © <a …>OpenStreetMap</a> contributors
    assert re.search(r'addAttribution\("Data \\u0026copy; .*OpenStreetMap\\u003c/a\\u003e contributors',
                     offline)


def test_map_and_report_commands_respect_existing_files(demo_dir, tmp_path):
    out, _ = demo_dir
    runner = CliRunner()
    path = out / "helsinki.gpkg"
    target = tmp_path / "m.html"
    res = runner.invoke(main, ["map", str(path), "-o", str(target), "--view", "green", "--offline"])
    assert res.exit_code == 0, res.output
    assert "绿地" in target.read_text(encoding="utf-8")  # labels in Chinese by default
    res = runner.invoke(main, ["map", str(path), "-o", str(target)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    res = runner.invoke(main, ["map", str(path), "-o", str(target), "--view", "scorecard"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = runner.invoke(main, ["report", str(path), "-o", str(tmp_path / "r.html"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r-map.html").exists() and (tmp_path / "r-figures").is_dir()


def test_demo_chinese_workflow_on_the_synthetic_county(demo_dir):
    from gcgeo.testing import synthetic_county

    out, text = demo_dir
    truth = synthetic_county(0)
    path = out / "gaotang" / "gaotang.gpkg"
    layers = ws.list_layers(path).set_index("layer")
    for kind, frame in truth.layers.items():
        assert layers.loc[kind, "features"] == len(frame), kind
    sources = layers["source"].to_dict()
    assert sources["facilities"] == "facilities_gcj02.csv"
    assert sources["chargers"] == "chargers_bd09.csv"
    kinds = ws.read_layer(path, "chargers")["kind"].value_counts().to_dict()
    assert kinds == {"car": truth.truth["chargers"]["car"],  # 汽车 / 电动自行车 in the CSV
                     "e-bike": truth.truth["chargers"]["e-bike"]}
    report = (out / "gaotang" / "report.html").read_text(encoding="utf-8")
    assert "高唐县" in report and "十五分钟生活圈" in report


def test_no_html_the_demo_writes_links_a_script_or_style_from_outside(demo_dir):
    """Every page (maps on tiles or offline, reports) carries its libraries inline."""
    out, _ = demo_dir
    pages = sorted(Path(out).rglob("*.html"))
    assert len(pages) >= 3
    remote = re.compile(r"<script[^>]+src=[\"']?(https?:)?//|<link[^>]+href=[\"']?(https?:)?//", re.I)
    for page in pages:
        assert not remote.search(page.read_text(encoding="utf-8")), page
