"""What an import did, as one typed result shared by the CLI, the API and the web app."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImportReport:
    """Counts of one import. ``read == accepted + rejected + duplicates`` always holds.

    ``conflicts`` are rows whose key already existed with different content; they are part of
    ``rejected`` (kept in quarantine) unless the import ran with ``on_conflict='update'``, in
    which case they replaced the stored rows and are counted in ``accepted`` and ``updated``.
    """

    table: str
    source: str
    format: str
    import_id: int
    read: int
    accepted: int
    rejected: int
    duplicates: int
    conflicts: int
    updated: int
    quarantine: str
    warnings: tuple[str, ...] = field(default_factory=tuple)
    new_columns: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["warnings"] = list(self.warnings)
        out["new_columns"] = list(self.new_columns)
        return out
