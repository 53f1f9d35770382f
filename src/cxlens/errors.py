"""One exception tree for cxlens.

Every class also inherits the built-in exception it resembles, so callers may catch either
``CxlensError`` or, for example, ``ValueError``. Messages name the thing, the allowed values and
the fix.
"""

from __future__ import annotations


class CxlensError(Exception):
    """Base class of every error cxlens raises on purpose."""

    code: str = "cxlens_error"


class CxlensInputError(ValueError, CxlensError):
    """A value given by the user is not allowed (a parameter, a column, a file's content)."""

    code = "invalid_input"


class UnknownNameError(KeyError, CxlensError):
    """A table, metric, column or setting name that does not exist."""

    code = "unknown_name"

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


class WorkspaceError(CxlensError, OSError):
    """The workspace is missing, incomplete or corrupt."""

    code = "workspace_error"


class MissingDependencyError(ImportError, CxlensError):
    """An optional dependency is not installed; the message gives the install command."""

    code = "missing_dependency"


class ImportFileError(CxlensInputError):
    """A file cannot be imported as a whole (missing, empty, missing required column...)."""

    code = "import_error"


class EmptyResultWarning(UserWarning):
    """A computation ran on no rows."""
