"""The experience data model: the contract every import, export and analysis shares.

The table and column names here are a public contract (see ``docs/data-model.md``, which a test
keeps in step with this module). A file whose headers are exactly these names imports without a
mapping; extra columns are kept as attribute columns of the table.

Timestamps are ISO 8601; a timestamp without an offset means UTC. They are stored as UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from cxlens.errors import UnknownNameError


class ColumnType(StrEnum):
    """Logical column types; each maps to one warehouse type."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"
    JSON = "json"

    @property
    def sql(self) -> str:
        return _SQL_TYPES[self]


_SQL_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.JSON: "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``minimum``/``maximum`` bound numbers (inclusive); a string ``maximum`` names a setting
    that holds the bound (for example the CSAT scale's top), resolved at import time.
    """

    name: str
    type: ColumnType
    help: str
    required: bool = False
    minimum: float | None = None
    maximum: float | str | None = None
    allowed: tuple[str, ...] | None = None
    pii: bool = False


@dataclass(frozen=True)
class OrderRule:
    """``later`` must not be before ``earlier`` when both are present."""

    earlier: str
    later: str

    @property
    def code(self) -> str:
        return "out_of_order"

    def reason(self) -> str:
        return f"'{self.later}' is before '{self.earlier}'; {self.later} must not precede {self.earlier}"


@dataclass(frozen=True)
class TableSpec:
    """A table of the experience data model."""

    name: str
    key: str
    help: str
    columns: tuple[Column, ...]
    order_rules: tuple[OrderRule, ...] = field(default_factory=tuple)
    time_column: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise UnknownNameError(
            f"Table '{self.name}' has no column '{name}'. Its columns are: "
            f"{', '.join(self.column_names)}."
        )


def _c(name: str, type_: ColumnType, help_: str, **kw: object) -> Column:
    return Column(name=name, type=type_, help=help_, **kw)  # type: ignore[arg-type]


S, INT, F, T, B, J = (
    ColumnType.STRING,
    ColumnType.INTEGER,
    ColumnType.FLOAT,
    ColumnType.TIMESTAMP,
    ColumnType.BOOLEAN,
    ColumnType.JSON,
)

CUSTOMERS = TableSpec(
    name="customers",
    key="customer_id",
    help="One row per customer.",
    time_column="created_at",
    columns=(
        _c("customer_id", S, "Stable identifier of the customer.", required=True),
        _c("created_at", T, "When the customer signed up or was first seen."),
        _c("segment", S, "Business segment, e.g. consumer, smb, enterprise."),
        _c("country", S, "Country code or name."),
        _c("plan", S, "Current plan or product tier."),
        _c("email", S, "E-mail address (personal data).", pii=True),
        _c("name", S, "Display name (personal data).", pii=True),
    ),
)

INTERACTIONS = TableSpec(
    name="interactions",
    key="event_id",
    help="One row per touchpoint event (a visit, a call, a delivery, a login...).",
    time_column="occurred_at",
    columns=(
        _c("event_id", S, "Stable identifier of the event.", required=True),
        _c("customer_id", S, "The customer the event belongs to.", required=True),
        _c("occurred_at", T, "When the event happened.", required=True),
        _c("touchpoint", S, "Touchpoint name (see the touchpoints table).", required=True),
        _c("channel", S, "Channel: web, app, phone, email, store, chat..."),
        _c("stage", S, "Journey stage the event belongs to."),
        _c("session_id", S, "Session the event belongs to."),
        _c("properties", J, "Free-form JSON object with event properties."),
        _c("duration_ms", F, "Duration of the interaction in milliseconds.", minimum=0),
    ),
)

RESPONSES = TableSpec(
    name="responses",
    key="response_id",
    help="One row per survey response (wide form: one column per standard question).",
    time_column="submitted_at",
    columns=(
        _c("response_id", S, "Stable identifier of the response.", required=True),
        _c("submitted_at", T, "When the response was submitted.", required=True),
        _c("customer_id", S, "The customer who answered."),
        _c("survey_id", S, "The survey answered."),
        _c("touchpoint", S, "Touchpoint the survey was about."),
        _c("channel", S, "Channel the survey was answered on."),
        _c("language", S, "Language of the answer (BCP 47 code)."),
        _c("nps", INT, "Likelihood to recommend, 0-10.", minimum=0, maximum=10),
        _c("csat", INT, "Satisfaction, 1 to the CSAT scale's top (setting csat_scale_max).",
           minimum=1, maximum="csat_scale_max"),
        _c("ces", INT, "Customer effort, 1 to the CES scale's top (setting ces_scale_max).",
           minimum=1, maximum="ces_scale_max"),
        _c("comment", S, "Open-text comment."),
    ),
)

TICKETS = TableSpec(
    name="tickets",
    key="ticket_id",
    help="One row per support ticket.",
    time_column="created_at",
    order_rules=(OrderRule("created_at", "first_response_at"), OrderRule("created_at", "resolved_at")),
    columns=(
        _c("ticket_id", S, "Stable identifier of the ticket.", required=True),
        _c("created_at", T, "When the ticket was opened.", required=True),
        _c("customer_id", S, "The customer who raised it."),
        _c("channel", S, "Source channel: email, phone, chat, web..."),
        _c("first_response_at", T, "First agent response; not before created_at."),
        _c("resolved_at", T, "Resolution time; not before created_at."),
        _c("status", S, "Status, e.g. open, pending, resolved, closed."),
        _c("contacts", INT, "Number of customer contacts on the ticket.", minimum=0),
        _c("reopened", B, "Whether the ticket was reopened after resolution."),
        _c("subject", S, "Subject line."),
        _c("description", S, "Description or first message."),
        _c("topic", S, "Topic or category assigned by the help desk."),
    ),
)

ORDERS = TableSpec(
    name="orders",
    key="order_id",
    help="One row per order.",
    time_column="ordered_at",
    columns=(
        _c("order_id", S, "Stable identifier of the order.", required=True),
        _c("customer_id", S, "The customer who ordered.", required=True),
        _c("ordered_at", T, "When the order was placed.", required=True),
        _c("amount", F, "Order value (in `currency`); refunds use status, not a negative amount.",
           required=True, minimum=0),
        _c("currency", S, "ISO 4217 currency code."),
        _c("status", S, "Status, e.g. completed, cancelled, refunded."),
        _c("channel", S, "Channel the order was placed on."),
    ),
)

SUBSCRIPTIONS = TableSpec(
    name="subscriptions",
    key="subscription_id",
    help="One row per contract period.",
    time_column="started_at",
    order_rules=(OrderRule("started_at", "ended_at"),),
    columns=(
        _c("subscription_id", S, "Stable identifier of the subscription period.", required=True),
        _c("customer_id", S, "The subscribing customer.", required=True),
        _c("started_at", T, "Start of the period.", required=True),
        _c("ended_at", T, "End of the period (empty while active); not before started_at."),
        _c("plan", S, "Plan subscribed to."),
        _c("mrr", F, "Monthly recurring revenue of the period.", minimum=0),
    ),
)

TOUCHPOINTS = TableSpec(
    name="touchpoints",
    key="touchpoint",
    help="Reference table: where each touchpoint sits in the journey.",
    columns=(
        _c("touchpoint", S, "Touchpoint name as used in interactions and responses.", required=True),
        _c("stage", S, "Journey stage, e.g. Awareness, Purchase, Onboarding."),
        _c("channel", S, "Channel of the touchpoint."),
        _c("direct", B, "True when the company controls the touchpoint (direct), false if indirect."),
        _c("description", S, "What happens at this touchpoint."),
    ),
)

#: Case lifecycle states and priorities, in workflow order.
CASE_STATUSES: tuple[str, ...] = ("new", "acknowledged", "in_progress", "resolved", "closed")
CASE_PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")

CASES = TableSpec(
    name="cases",
    key="case_id",
    help="One row per closed-loop case (a snapshot of its current state, written by the case inbox).",
    time_column="opened_at",
    order_rules=(
        OrderRule("opened_at", "acknowledged_at"),
        OrderRule("opened_at", "resolved_at"),
        OrderRule("opened_at", "closed_at"),
    ),
    columns=(
        _c("case_id", S, "Stable identifier of the case.", required=True),
        _c("opened_at", T, "When the case was opened (by a rule or by hand).", required=True),
        _c("customer_id", S, "The customer the case is about."),
        _c("acknowledged_at", T, "First acknowledgement by the owner; not before opened_at."),
        _c("resolved_at", T, "When the case was resolved; not before opened_at."),
        _c("closed_at", T, "When the loop was closed; not before opened_at."),
        _c("status", S, "Status: " + ", ".join(CASE_STATUSES) + ".", allowed=CASE_STATUSES),
        _c("priority", S, "Priority: " + ", ".join(CASE_PRIORITIES) + ".", allowed=CASE_PRIORITIES),
        _c("reason", S, "Why the case was opened (the rule's name or a note)."),
        _c("theme", S, "Theme of the feedback behind the case."),
        _c("owner", S, "The person responsible for the case."),
        _c("team", S, "The team responsible for the case."),
        _c("source_table", S, "Table of the row that opened the case, e.g. responses or tickets."),
        _c("source_id", S, "Key of that row, e.g. the response_id."),
        _c("ack_due_at", T, "When acknowledgement is due under the case's SLA."),
        _c("resolve_due_at", T, "When resolution is due under the case's SLA."),
        _c("ack_business_hours", F, "Business hours from opening to acknowledgement (empty until then).",
           minimum=0),
        _c("close_business_hours", F, "Business hours from opening to closing (empty until then).", minimum=0),
        _c("reopened", INT, "How many times the case was reopened.", minimum=0),
        _c("customer_contacted", B, "Whether the customer received a follow-up acknowledgement."),
    ),
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (CUSTOMERS, INTERACTIONS, RESPONSES, TICKETS, ORDERS, SUBSCRIPTIONS, TOUCHPOINTS, CASES)
}

#: Columns cxlens adds to every table to record where each row came from.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (("_import_id", "BIGINT"), ("_line", "BIGINT"))


def table_spec(name: str) -> TableSpec:
    """Return the spec of table ``name`` or raise with the list of valid tables."""
    try:
        return TABLES[name]
    except KeyError:
        raise UnknownNameError(
            f"Unknown table '{name}'. The tables are: {', '.join(TABLES)}."
        ) from None


def normalize_header(header: str) -> str:
    """Normalise a file header: trimmed, lower case, spaces and dashes as underscores."""
    out = header.strip().lower().replace("-", "_").replace(" ", "_")
    return "".join(ch for ch in out if ch.isalnum() or ch == "_")
