"""Who may do what: roles of project members and scopes of API keys.

A user's role is per project (a membership). Roles are ordered: an analyst can do everything a
viewer can, an admin everything an analyst can. An API key belongs to one project and carries
scopes instead of a role. Every page and every API operation names the one permission it needs.
"""

from __future__ import annotations

from enum import StrEnum

from cxlens.errors import CxlensInputError


class Permission(StrEnum):
    READ = "read"        # dashboards, metrics, customer profiles, status
    INGEST = "ingest"    # send data: API batches and file imports
    MANAGE = "manage"    # members and API keys of the project


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self]

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            raise CxlensInputError(
                f"The 'role' must be one of {', '.join(r.value for r in cls)}. Got {value!r} instead."
            ) from None


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.ANALYST: frozenset({Permission.READ, Permission.INGEST}),
    Role.ADMIN: frozenset({Permission.READ, Permission.INGEST, Permission.MANAGE}),
}

#: Scopes an API key may carry (machines never manage members or keys).
KEY_SCOPES: tuple[Permission, ...] = (Permission.READ, Permission.INGEST)


def parse_scopes(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    allowed = {p.value for p in KEY_SCOPES}
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise CxlensInputError(
            f"API key scopes must be one or more of {', '.join(sorted(allowed))}. "
            f"Got {', '.join(map(repr, values)) or 'none'} instead."
        )
    return tuple(sorted(set(values)))
