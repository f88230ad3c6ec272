"""The ``gcgeo`` command line: a thin layer over the library.

Every command takes a workspace (one GeoPackage per study area).  Errors the
user can fix end with a one-paragraph message and exit status 2; problems
found by ``validate`` exit with status 1.  The commands live by concern:
:mod:`.inventory` (init, add, layers, validate, export, import-osm),
:mod:`.analyze` (analyze, generated from the analyses' descriptors, and
rules) and :mod:`.outputs` (map, report, demo); :mod:`.common` holds the
options they share.
"""

from __future__ import annotations

from . import analyze, inventory, outputs
from . import batch as batch  # the `gcgeo batch` command
from .common import main, run
from .score import score_cmd  # noqa: F401 - registers `gcgeo score`
from .site import site_cmd  # noqa: F401 - registers `gcgeo site`
from .whatif import whatif_cmd  # noqa: F401 - registers `gcgeo whatif`

__all__ = ["analyze", "inventory", "main", "outputs", "run"]
