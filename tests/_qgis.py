"""Real QGIS beside the tests: whether PyQGIS runs headless here (Debian's python3-qgis, bound
to the system Python), and what it makes of our files (``tests/qgis_probe.py``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SYSTEM_PYTHON = "/usr/bin/python3"


def qgis_missing() -> str | None:
    """None when PyQGIS runs headless here, else why not."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"QGIS cannot run: no {SYSTEM_PYTHON} (Debian's python3-qgis binds it)"
    res = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True)
    if res.returncode:
        return ("QGIS is not installed: apt-get install -y python3-qgis qgis-providers "
                "(.ci/run does, as root)")
    return None


QGIS_MISSING = qgis_missing()
needs_qgis = pytest.mark.skipif(QGIS_MISSING is not None, reason=QGIS_MISSING or "")


def run_qgis(args: list[str], out: Path) -> dict:
    """Run ``args`` with the system Python, headless, and read the JSON report it wrote to
    ``out`` (skips the test where QGIS cannot run)."""
    if QGIS_MISSING:
        pytest.skip(QGIS_MISSING)
    runtime = out.parent / "xdg"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(runtime)}
    res = subprocess.run([SYSTEM_PYTHON, *args], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def probe(gpkg: Path, out: Path | None = None, png_dir: Path | None = None) -> dict:
    """What QGIS makes of the layers of ``gpkg`` (``tests/qgis_probe.py``); the report is kept
    in ``out`` (default: beside ``gpkg``), and each layer drawn into ``png_dir`` when given."""
    out = out or gpkg.with_suffix(".qgis.json")
    args = [str(HERE / "qgis_probe.py"), str(gpkg), str(out)]
    return run_qgis(args + ([str(png_dir)] if png_dir is not None else []), out)
