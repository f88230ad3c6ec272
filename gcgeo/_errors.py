"""One error hierarchy for gcgeo.

Every class also inherits a built-in exception, so callers can catch
``gcgeo.LayerError`` or plain ``ValueError``.  Messages name the file, layer,
column or row at fault and say how to fix it; the command line prints them as
one paragraph without a traceback.
"""

from __future__ import annotations


class GcgeoError(Exception):
    """Base class of every error gcgeo raises on purpose."""


class InputError(GcgeoError, ValueError):
    """A file or argument given by the user cannot be used as it is."""


class FileFormatError(InputError):
    """A file cannot be read in the format its name or the user declared."""


class LayerError(GcgeoError, ValueError):
    """A layer does not fit its spec (columns, geometry, values)."""


class CRSError(GcgeoError, ValueError):
    """A coordinate reference system is missing, unknown or unsuitable."""


class RulesError(GcgeoError, ValueError):
    """A rules file (built-in or a user's override) is malformed."""


class WorkspaceError(GcgeoError, RuntimeError):
    """A workspace is missing, damaged or lacks the layer asked for."""


class WorkspaceBusyError(WorkspaceError):
    """Another gcgeo command is writing the workspace and did not finish in time."""


class ReadOnlyError(GcgeoError, PermissionError):
    """A file gcgeo must change (or the folder it must write in) is read-only."""


class DiskFullError(GcgeoError, OSError):
    """The disk (or the user's quota) has no room left for a file gcgeo writes."""


class OutputExistsError(GcgeoError, FileExistsError):
    """An output file exists and ``overwrite`` was not given."""


class AnalysisError(GcgeoError, ValueError):
    """An analysis cannot run on the data given (and says why)."""


class DatabaseError(GcgeoError, ConnectionError):
    """A database cannot be used: no server answers, the login is refused, PostGIS is missing."""
