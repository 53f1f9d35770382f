"""The public surface and the generated reference docs stay as documented."""

from __future__ import annotations

from pathlib import Path

import cxlens
from cxlens import docsgen

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_public_names() -> None:
    assert sorted(cxlens.__all__) == sorted([
        "TABLES", "CxlensError", "CxlensInputError", "ImportFileError", "ImportReport",
        "MissingDependencyError", "TableSpec", "UnknownNameError", "Workspace", "WorkspaceError",
        "WorkspaceStatus", "__version__", "init", "open",
    ])
    for name in cxlens.__all__:
        assert hasattr(cxlens, name), name


def test_errors_are_also_builtin_exceptions() -> None:
    assert issubclass(cxlens.CxlensInputError, ValueError)
    assert issubclass(cxlens.UnknownNameError, KeyError)
    assert issubclass(cxlens.MissingDependencyError, ImportError)
    assert issubclass(cxlens.WorkspaceError, OSError)
    for exc in (cxlens.CxlensInputError, cxlens.UnknownNameError, cxlens.WorkspaceError):
        assert issubclass(exc, cxlens.CxlensError)


def test_generated_docs_are_current() -> None:
    for name, render in docsgen.PAGES.items():
        assert (DOCS / name).read_text(encoding="utf-8") == render(), (
            f"docs/{name} is stale: run python -m cxlens.docsgen"
        )


def test_every_table_and_column_is_documented() -> None:
    text = (DOCS / "data-model.md").read_text(encoding="utf-8")
    for spec in cxlens.TABLES.values():
        assert f"## `{spec.name}`" in text
        for col in spec.columns:
            assert f"| `{col.name}` |" in text


def test_ibis_tables_are_available(ws: cxlens.Workspace) -> None:
    t = ws.table("responses")
    assert {"response_id", "submitted_at", "nps", "csat", "ces", "comment"} <= set(t.columns)
    assert t.count().execute() == 0
