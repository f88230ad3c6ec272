"""``python -m gcgeo.cli``."""

from . import run

run()
