"""Chinese on the figures from gcgeo's bundled font, on a machine with no CJK font of its own.

A machine without CJK fonts is simulated: matplotlib's font list loses every
installed font that has a Chinese glyph, and the system font search finds
nothing.  Then every figure of the Chinese demo (高唐县) must draw with no
"Glyph … missing" warning, its Chinese text must resolve to the bundled
files, and legend headings to the bundled Bold.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import warnings
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager as fm
from matplotlib import ft2font
from matplotlib.text import Text

import gcgeo
from gcgeo import maps
from gcgeo import workspace as ws
from gcgeo.maps import figures

FONTS = Path(gcgeo.__file__).parent / "maps" / "fonts"
REGULAR = FONTS / "gcgeoSansSC-Regular.otf"
BOLD = FONTS / "gcgeoSansSC-Bold.otf"
GLYPH_MISSING = r"Glyph \d+ .* missing from font"
HAN = re.compile(r"[\u3400-\u9fff]")


def _has_han(path: str) -> bool:
    try:
        return ft2font.FT2Font(path).get_char_index(ord("中")) != 0
    except (OSError, RuntimeError, ValueError):
        return False


@contextlib.contextmanager
def no_installed_cjk_font():
    """matplotlib as on a fresh machine: no installed font has Chinese glyphs (the bundled one not yet added)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fm.fontManager, "ttflist", [f for f in fm.fontManager.ttflist if not _has_han(f.fname)])
        mp.setattr(fm, "findSystemFonts", lambda *a, **k: [])
        figures._installed_cjk_font.cache_clear()
        fm.fontManager._findfont_cached.cache_clear()
        try:
            assert figures._installed_cjk_font() is None
            assert all(f.name != figures.BUNDLED_CJK_FAMILY for f in fm.fontManager.ttflist)
            yield
        finally:
            figures._installed_cjk_font.cache_clear()
            fm.fontManager._findfont_cached.cache_clear()


@contextlib.contextmanager
def glyphs_must_exist():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH_MISSING, category=UserWarning)
        yield


@pytest.fixture(scope="module")
def gaotang(tmp_path_factory):
    """The Chinese half of `make demo` (workspace, analyses, report with figures), on a machine without CJK fonts."""
    from gcgeo.demo import gaotang

    out = tmp_path_factory.mktemp("gaotang")
    with no_installed_cjk_font(), glyphs_must_exist():
        written = gaotang(out)
    return written, ws.read_layers(written["gaotang workspace"])


def _weight(path: str) -> int:
    return next(f.weight for f in fm.fontManager.ttflist if f.fname == path)


def test_bundled_fonts_are_one_family_in_regular_and_bold_with_their_licence():
    faces = {}
    for path in (REGULAR, BOLD):
        font = TTFont(path)
        faces[path.name] = (font["name"].getDebugName(1), font["OS/2"].usWeightClass)
    assert faces == {REGULAR.name: ("gcgeo Sans SC", 400), BOLD.name: ("gcgeo Sans SC", 700)}
    licence = (FONTS / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Adobe" in licence
    assert (REGULAR.stat().st_size + BOLD.stat().st_size) < 15e6


def _gb2312() -> set[str]:
    out = set()
    for row in range(0xB0, 0xF8):  # rows 16–87: the 6763 hanzi of levels 1 and 2
        for cell in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                out.add(bytes((row, cell)).decode("gb2312"))
    return out


def test_font_has_every_hanzi_of_gb2312_and_every_character_gcgeo_writes():
    hanzi = _gb2312()
    assert len(hanzi) == 6763
    used = set()
    root = FONTS.parent.parent
    for path in root.rglob("*"):
        if path.suffix in {".py", ".toml", ".geojson", ".json", ".csv"} and "vendor" not in path.parts:
            used.update(c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7E)
    assert {"高", "唐", "县", "图", "例"} <= used  # the scan found gcgeo's labels
    dejavu = ft2font.FT2Font(fm.findfont(fm.FontProperties(family="DejaVu Sans")))
    for path in (REGULAR, BOLD):
        cmap = TTFont(path).getBestCmap()
        assert not sorted(c for c in hanzi if ord(c) not in cmap), path.name
        # what the bundled font lacks, DejaVu Sans (the next font in the figures' list) has
        lacking = sorted(c for c in used if ord(c) not in cmap and dejavu.get_char_index(ord(c)) == 0)
        assert not lacking, (f"{path.name} lacks {[(c, unicodedata.name(c, hex(ord(c)))) for c in lacking]}; "
                             "rerun tools/make_font_subset.py")


@pytest.mark.slow
def test_demo_report_figures_drew_every_glyph(gaotang):
    written, _ = gaotang
    # the fixture turned "Glyph … missing" into errors while the demo drew them
    pngs = {k: v for k, v in written.items() if k.startswith("gaotang figure ")}
    assert len(pngs) >= 3 and all(p.stat().st_size > 20_000 for p in pngs.values())


@pytest.mark.slow
def test_chinese_figures_use_the_bundled_font_and_its_bold(gaotang):
    _, layers = gaotang
    drawn = 0
    with no_installed_cjk_font(), glyphs_must_exist():
        for name in maps.view_names():
            view = maps.get_view(name)
            if not view.available(layers):
                continue
            fig = figures.plot_view(layers, view, lang="zh", title="高唐县")
            if fig is None:
                continue
            fig.canvas.draw()
            drawn += 1
            texts = [t for t in fig.findobj(Text) if HAN.search(t.get_text())]
            assert texts, name
            for t in texts:
                path = fm.findfont(t.get_fontproperties(), fallback_to_default=False)
                bold = t.get_fontweight() in ("bold", 700)
                assert Path(path) == (BOLD if bold else REGULAR), (name, t.get_text())
            # legend headings: one per legend, bold, and the face they get is a bold one
            leg = fig.axes[0].get_legend()
            want = [s.legend_title or s.name for s in view.styles(layers, lang="zh") if s.show and s.legend]
            heads = [t for t in leg.get_texts() if t.get_fontweight() == "bold"]
            assert [t.get_text() for t in heads] == want
            for t in heads:
                path = fm.findfont(t.get_fontproperties(), fallback_to_default=False)
                assert Path(path) == BOLD and _weight(path) >= 600
            fig.clf()
    assert drawn >= 3


@pytest.mark.slow
def test_english_figures_draw_chinese_names_without_a_cjk_font(gaotang, tmp_path):
    _, layers = gaotang
    with no_installed_cjk_font(), glyphs_must_exist():
        out = figures.save_figures(layers, tmp_path, lang="en", title="高唐县", views=["inventory"])
    assert set(out) == {"inventory"}


def test_missing_font_files_fall_back_to_english_with_a_warning(tmp_path, monkeypatch, caplog):
    import geopandas as gpd
    import shapely

    monkeypatch.setattr(figures, "_BUNDLED_FILES", ("gcgeoSansSC-Missing.otf",))
    communities = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 200, 200)], crs=3067)
    with no_installed_cjk_font(), caplog.at_level("WARNING", logger="gcgeo.maps.figures"):
        assert figures.cjk_font() is None
        out = figures.save_figures({"communities": communities}, tmp_path, lang="zh")
    assert set(out) == {"inventory"}
    assert "gcgeoSansSC-Missing.otf is missing" in caplog.text and "English labels" in caplog.text
