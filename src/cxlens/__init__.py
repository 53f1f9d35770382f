"""cxlens: open-source customer experience and voice-of-customer analytics.

>>> import cxlens
>>> ws = cxlens.open("my-workspace")          # doctest: +SKIP
>>> ws.import_data("responses", "nps.csv")    # doctest: +SKIP
>>> ws.table("responses")                     # an Ibis table  # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from cxlens.errors import (
    CxlensError,
    CxlensInputError,
    ImportFileError,
    MissingDependencyError,
    UnknownNameError,
    WorkspaceError,
)
from cxlens.ingest.report import ImportReport
from cxlens.schema import TABLES, TableSpec
from cxlens.workspace import Workspace, WorkspaceStatus, init
from cxlens.workspace import open_workspace as open  # noqa: A001 - the public name is cxlens.open

try:
    __version__ = version("cxlens")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

__all__ = [
    "TABLES",
    "CxlensError",
    "CxlensInputError",
    "ImportFileError",
    "ImportReport",
    "MissingDependencyError",
    "TableSpec",
    "UnknownNameError",
    "Workspace",
    "WorkspaceError",
    "WorkspaceStatus",
    "__version__",
    "init",
    "open",
]
