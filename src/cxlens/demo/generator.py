"""The demo company: a deterministic, chunked generator of a subscription business's experience data.

>>> from datetime import datetime
>>> company = DemoCompany(2000, seed=7, now=datetime(2026, 11, 23, 12))
>>> for chunk in company.chunks():                          # doctest: +SKIP
...     chunk.tables["responses"].num_rows
>>> company.truths()["planted"]["detractor_churn"]          # doctest: +SKIP

Customers are generated ``chunk_customers`` at a time; each chunk draws from its own random stream
(``SeedSequence(seed, spawn_key=(chunk_index,))``), so memory is bounded by the chunk and the
same ``(customers, seed, now, chunk_customers)`` always gives the same tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from cxlens.demo import commerce, events, journey, responses, service, tables
from cxlens.demo import design as D
from cxlens.demo.experience import draw_experience
from cxlens.demo.truths import build_truths
from cxlens.errors import CxlensInputError

TABLE_NAMES = ("customers", "interactions", "responses", "tickets", "orders", "subscriptions")
_AGE_BANDS = D.AGE_BANDS
_ASCII = str.maketrans({"é": "e", "è": "e", "ë": "e", "ü": "u", "ö": "o", "ä": "a", "í": "i", "ó": "o",
                        "á": "a", "ê": "e", "ç": "c", "ã": "a", "'": "", " ": "", "ñ": "n", "ô": "o", "Ł": "L"})


@dataclass(frozen=True)
class DemoChunk:
    """The rows of ``chunk_customers`` customers: every table keyed by its contract name."""

    tables: dict[str, pa.Table]


class DemoCompany:
    """Brightwave, a fictional broadband and streaming provider, with planted truths to find."""

    def __init__(self, customers: int = 5000, seed: int = 42, *, now: datetime,
                 chunk_customers: int = 25_000) -> None:
        if customers < 1:
            raise CxlensInputError(f"The demo company needs at least 1 customer. Got {customers}.")
        if chunk_customers < 1:
            raise CxlensInputError(f"'chunk_customers' must be at least 1. Got {chunk_customers}.")
        if seed < 0:
            raise CxlensInputError(f"The seed must be a non-negative integer. Got {seed}.")
        self.customers = int(customers)
        self.seed = int(seed)
        self.now = journey.naive_utc(now)
        self.chunk_customers = int(chunk_customers)

    @property
    def touchpoints(self) -> pa.Table:
        """The touchpoints reference table (touchpoint, stage, channel, direct, description)."""
        return events.touchpoints_table()

    @property
    def id_width(self) -> int:
        return max(7, len(str(self.customers)))

    def chunks(self) -> Iterator[DemoChunk]:
        """Stream the data, ``chunk_customers`` customers at a time."""
        clock = journey.Clock.at(self.now)
        for index, first in enumerate(range(0, self.customers, self.chunk_customers)):
            n = min(self.chunk_customers, self.customers - first)
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(index,)))
            yield generate_chunk(rng, clock, first + 1, n, self.id_width)

    def truths(self) -> dict[str, Any]:
        """The planted truths and the design behind them (JSON-serialisable)."""
        return build_truths(self.customers, self.seed, self.chunk_customers, journey.Clock.at(self.now))


def generate_chunk(rng: np.random.Generator, clock: journey.Clock, first_number: int, n: int,
                   width: int) -> DemoChunk:
    """All tables of customers ``first_number .. first_number + n - 1``."""
    pop = journey.draw_population(rng, first_number, n)
    funnel, batches = journey.draw_funnel(rng, pop, clock)
    ob, onboarding_events = journey.draw_onboarding(rng, pop, funnel)
    exp = draw_experience(rng, pop, funnel, ob, clock)
    tickets = service.draw_tickets(rng, pop, funnel, exp, clock)
    upgrades = commerce.draw_upgrades(rng, pop, funnel, exp, clock)
    ticket_table = service.tickets_table(rng, tickets, pop, clock, width, D.LANGUAGES)
    batches += onboarding_events
    batches += service.ticket_events(rng, tickets, ticket_table.column("ticket_id").combine_chunks())
    batches += commerce.service_events(rng, pop, funnel, exp, upgrades, clock)
    answers = [responses.relationship(rng, pop, exp), responses.checkout(rng, pop, funnel, clock),
               responses.onboarding(rng, pop, ob, exp, clock), responses.support(rng, pop, tickets, clock)]
    out = {
        "customers": customers_table(pop, commerce.current_plan(pop, funnel, upgrades), clock, width),
        "interactions": events.interactions_table(rng, batches, pop.number, width, clock.start_us,
                                                  clock.horizon),
        "responses": responses.responses_table(answers, pop, clock, width),
        "tickets": ticket_table,
        "orders": commerce.orders_table(rng, pop, funnel, clock, width),
        "subscriptions": commerce.subscriptions_table(pop, funnel, exp, upgrades, clock, width),
    }
    return DemoChunk(out)


def customers_table(pop: journey.Population, plan: np.ndarray, clock: journey.Clock, width: int) -> pa.Table:
    number_text = tables.number_text(pop.number, width).to_pylist()
    first = [journey.FIRST_NAMES[i] for i in pop.first_name.tolist()]
    last = [journey.LAST_NAMES[i] for i in pop.last_name.tolist()]
    company = [journey.COMPANY_SUFFIXES[i] for i in pop.company.tolist()]
    business = (pop.segment > 0).tolist()
    names = [f"{ln} {c}" if b else f"{f} {ln}" for f, ln, c, b in zip(first, last, company, business, strict=True)]
    emails = [
        (f"accounts.{num}@{ln.translate(_ASCII).lower()}-{c.lower()}.example.com" if b
         else f"{f.translate(_ASCII).lower()}.{ln.translate(_ASCII).lower()}.{num}@example.com")
        for f, ln, c, b, num in zip(first, last, company, business, number_text, strict=True)
    ]
    return pa.table({
        "customer_id": tables.ids("C", pop.number, width),
        "created_at": tables.timestamps(clock.start_us, pop.first_seen),
        "segment": tables.labels(pop.segment, D.SEGMENTS),
        "country": tables.labels(pop.country, D.COUNTRIES),
        "plan": tables.labels(plan, [p.name for p in D.PLANS]),
        "email": tables.strings(emails),
        "name": tables.strings(names),
        "age_band": tables.labels(pop.age_band, _AGE_BANDS),
        "language": tables.labels(pop.language, D.LANGUAGES),
        "acquisition_channel": tables.labels(pop.acquisition, D.ACQUISITION_CHANNELS),
    })
