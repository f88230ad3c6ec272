"""gcgeo: geospatial planning and infrastructure inventory for green communities.

gcgeo turns a county's planning data (Shapefile, GeoPackage, GeoJSON, CSV of
coordinates in WGS-84, CGCS2000, GCJ-02 or BD-09, and OpenStreetMap) into one
validated workspace, measures what the Green Community Creation Action asks
(green coverage, the 15-minute living circle, fire lanes, chargers, manholes,
ramps) and draws it as maps planners can share.
"""

from __future__ import annotations

from ._errors import (
    AnalysisError,
    CRSError,
    DatabaseError,
    DiskFullError,
    FileFormatError,
    GcgeoError,
    InputError,
    LayerError,
    OutputExistsError,
    ReadOnlyError,
    RulesError,
    WorkspaceBusyError,
    WorkspaceError,
)

__version__ = "0.1.0"

__all__ = [
    "AnalysisError",
    "CRSError",
    "DatabaseError",
    "DiskFullError",
    "FileFormatError",
    "GcgeoError",
    "InputError",
    "LayerError",
    "OutputExistsError",
    "ReadOnlyError",
    "RulesError",
    "WorkspaceBusyError",
    "WorkspaceError",
    "__version__",
]
