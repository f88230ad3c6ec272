"""Many study areas in one run, on a dask.distributed cluster.

A batch is a project file (:mod:`.project`) naming study areas, each a
workspace with the inputs to import into it; :func:`run_batch` brings every
area up to date — imports, analyses, report — as one task per area on a
local or remote dask cluster (:mod:`.runner`), doing only what changed since
the last run (:mod:`.area`).  A large area's living circle may run in grid
partitions stitched to the whole run's results (:mod:`.partition`); every
area's output layers are gathered as GeoParquet and, on request, in PostGIS
(:mod:`.results`).

>>> from gcgeo import batch
>>> sorted(batch.__all__)[:3]
['Area', 'AreaResult', 'LayerInput']
"""

from __future__ import annotations

from .area import AreaResult, run_area
from .project import Area, LayerInput, Project, read_project
from .runner import connect, run_batch

__all__ = ["Area", "AreaResult", "LayerInput", "Project", "connect", "read_project", "run_area",
           "run_batch"]
