"""Build gcgeo's bundled CJK font: a subset of Noto Sans CJK SC, Regular and Bold.

The figures (gcgeo.maps.figures) draw Chinese labels with it, so they need no
CJK font installed on the machine.  The subset holds

- every character of GB2312 (its 6763 hanzi, levels 1 and 2, and its symbols),
  so place and community names in users' data render too;
- every character in gcgeo's own source and data (labels in
  ``gcgeo/maps/_labels.py``, layer specs, ``gcgeo/rules/*.toml``,
  ``gcgeo/report.py``, the synthetic county's names in ``gcgeo/testing.py``,
  the bundled GeoJSON…) that the font has;
- Latin (U+0020–U+017F), general punctuation, arrows, mathematical operators,
  number forms, enclosed numbers, CJK symbols and punctuation and full-width
  forms.

The family is renamed "gcgeo Sans SC" (a Modified Version under the SIL Open
Font License 1.1 does not carry the original's name); the OFL text and the
copyright notice go beside the fonts (``gcgeo/maps/fonts/OFL.txt``).

Source fonts: Debian's ``fonts-noto-cjk`` (``NotoSansCJK-Regular.ttc``,
``NotoSansCJK-Bold.ttc``; its face "Noto Sans CJK SC").  Without installing
the package::

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb noto
    python tools/make_font_subset.py --source noto/usr/share/fonts/opentype/noto

Run from the repository root; it rewrites ``gcgeo/maps/fonts/*.otf``.  Rerun
it when gcgeo's labels gain a character outside GB2312 (tests/test_fonts.py
says which).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "gcgeo" / "maps" / "fonts"
FAMILY = "gcgeo Sans SC"
SOURCE_FACE = "Noto Sans CJK SC"
WEIGHTS = ("Regular", "Bold")
SCANNED = ("*.py", "*.toml", "*.geojson", "*.json", "*.csv")
SKIPPED_DIRS = ("vendor", "fonts")
RANGES = (
    (0x0020, 0x007E), (0x00A0, 0x017F),  # Latin
    (0x2000, 0x206F), (0x2150, 0x21FF), (0x2200, 0x22FF), (0x2460, 0x24FF),  # punctuation, arrows, maths
    (0x3000, 0x303F), (0xFF00, 0xFFEF),  # CJK symbols and punctuation, full-width forms
)


def gb2312() -> set[str]:
    """Every character GB2312 encodes (rows 1–9 symbols, 16–55 level-1 and 56–87 level-2 hanzi)."""
    out = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                out.add(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def gcgeo_characters(root: Path = ROOT) -> set[str]:
    """Every non-ASCII character in gcgeo's source and data files (the vendored JS/CSS and fonts aside)."""
    chars: set[str] = set()
    for pattern in SCANNED:
        for path in (root / "gcgeo").rglob(pattern):
            if any(part in SKIPPED_DIRS for part in path.relative_to(root / "gcgeo").parts[:-1]):
                continue
            chars.update(c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7E)
    return chars


def wanted() -> set[str]:
    chars = gb2312() | gcgeo_characters()
    for lo, hi in RANGES:
        chars.update(map(chr, range(lo, hi + 1)))
    return chars


def _face(ttc: Path):
    for font in TTCollection(str(ttc), lazy=False).fonts:
        if font["name"].getDebugName(1) == SOURCE_FACE:
            return font
    raise SystemExit(f"{ttc}: no face named {SOURCE_FACE!r}")


def _rename(font, weight: str) -> None:
    ps = f"{FAMILY.replace(' ', '')}-{weight}"
    name = font["name"]
    version = name.getDebugName(5) or ""
    copyright_ = name.getDebugName(0) or ""
    name.names = []
    for nid, value in (
        (0, copyright_),
        (1, FAMILY),
        (2, weight),
        (3, f"{ps};subset of {SOURCE_FACE} {weight}"),
        (4, f"{FAMILY} {weight}"),
        (5, version),
        (6, ps),
        (10, f"Subset of {SOURCE_FACE} {weight} for gcgeo's figures: GB2312 and gcgeo's labels."),
        (13, "This Font Software is licensed under the SIL Open Font License, Version 1.1."),
        (14, "https://openfontlicense.org"),
    ):
        name.setName(value, nid, 3, 1, 0x409)
        name.setName(value, nid, 1, 0, 0)
    cff = font["CFF "].cff
    cff.fontNames = [ps]
    top = cff.topDictIndex[0]
    top.FullName = f"{FAMILY} {weight}"
    top.FamilyName = FAMILY


def build(source: Path, out: Path = OUT) -> dict[str, tuple[int, int]]:
    """Write ``out/gcgeoSansSC-<weight>.otf``; weight → (characters kept, bytes)."""
    chars = wanted()
    out.mkdir(parents=True, exist_ok=True)
    done = {}
    for weight in WEIGHTS:
        font = _face(source / f"NotoSansCJK-{weight}.ttc")
        cmap = font.getBestCmap()
        keep = sorted(ord(c) for c in chars if ord(c) in cmap)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.recalc_bounds = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=keep)
        subsetter.subset(font)
        _rename(font, weight)
        font.recalcTimestamp = False  # the same input gives the same bytes
        path = out / f"{FAMILY.replace(' ', '')}-{weight}.otf"
        font.save(str(path))
        done[weight] = (len(keep), path.stat().st_size)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/usr/share/fonts/opentype/noto"),
                        help="folder with NotoSansCJK-Regular.ttc and NotoSansCJK-Bold.ttc")
    args = parser.parse_args(argv)
    for weight, (n, size) in build(args.source).items():
        print(f"{weight}: {n} characters, {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
