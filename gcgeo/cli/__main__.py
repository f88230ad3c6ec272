"""``python -m gcgeo.cli``."""

from . import main

main()
