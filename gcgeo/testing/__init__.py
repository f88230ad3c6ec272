"""A seeded synthetic county whose answers are known by construction.

:func:`synthetic_county` lays out a small town inside the real boundary of
高唐县 (Gaotang county, Shandong) — communities, a regular street grid,
buildings with residents, green space, parking, chargers, manholes, ramps,
fire lanes with obstructions, living-circle facilities, garbage points and an
old tree — in the CGCS2000 3° Gauss–Krüger zone of the county (EPSG:4548).
Every layer conforms to its spec in :mod:`gcgeo.layers`.  The numbers an
analysis should find (green area per community, network distances from named
homes, clear widths of fire lanes…) are computed from the placed numbers, not
by running gcgeo's analyses, and returned in :attr:`SyntheticCounty.truth`.

:meth:`SyntheticCounty.write_inputs` writes the same data as a planner would
hand it over: a GBK Shapefile with Chinese columns, a CSV of Amap (GCJ-02)
coordinates, a CSV of Baidu (BD-09) coordinates, an Excel sheet of survey
coordinates, a WGS-84 GeoJSON and a CGCS2000 GeoPackage.

>>> county = synthetic_county(seed=1)
>>> county.crs.to_epsg()
4548
>>> sorted(county.layers)[:3]
['buildings', 'chargers', 'communities']
>>> county.truth["block_m"]
200.0

Layout (coordinates relative to the town origin, the south-west grid node)
--------------------------------------------------------------------------
Communities are squares of 3 × 3 street blocks of 200 m, on a grid of
``ceil(sqrt(n))`` columns; community ``C01`` is at the south-west corner and
``C02`` east of it.  Street centre lines run on every multiple of 200 m and are
split at every crossing, so the walking graph is a regular lattice whose node
``j * (nx + 1) + i`` sits at ``(i * 200, j * 200)``.  The centre block of every
community is green; the other eight blocks are residential, each with four
slab buildings (60 × 14 m, at block-local x 30–90 / 110–170 and y 38–52 /
130–144).  Footpaths are dead-end spurs (to named homes and into the green
blocks), so they never shorten a path between two grid nodes.  One elevated
expressway (``walkable`` false) joins opposite corners of the grid; it must not
be walked on, and no truth distance uses it.  Facilities stand on grid nodes
(those of category ``park`` where a green block's footpath starts), so a
named home's walking distance to any of them is its 75 m footpath plus a whole
number of blocks.  Fire-lane turnarounds are Polygon features of the
``fire_lanes`` layer with ``kind`` ``turnaround``; lanes are LineStrings with
``kind`` ``lane``.

Modules
-------
:mod:`~gcgeo.testing.county` (the result and the builder calling the steps),
:mod:`~gcgeo.testing.layout` (the county, the grid, the communities, special
blocks), :mod:`~gcgeo.testing.features` (collecting rows into layers),
:mod:`~gcgeo.testing.streets`, :mod:`~gcgeo.testing.buildings`,
:mod:`~gcgeo.testing.green`, :mod:`~gcgeo.testing.inventory` (parking,
chargers, manholes, ramps, garbage, heritage), :mod:`~gcgeo.testing.fire_lanes`,
:mod:`~gcgeo.testing.facilities` and :mod:`~gcgeo.testing.handover` (the
planners' files).
"""

from __future__ import annotations

from .county import SyntheticCounty, synthetic_county
from .layout import BLOCK_M

__all__ = ["BLOCK_M", "SyntheticCounty", "synthetic_county"]
