"""Support tickets: raised by experiences, by everyday questions, by cancellations and by failed checkouts.

Response and resolution times are log-normal by channel (resolution also scaled by topic); some
tickets are still open at ``now`` and a few are never resolved. The post-ticket CSAT is lower on the
phone and falls with the resolution time (planted truths 5 and 6; see :mod:`cxlens.demo.responses`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cxlens.demo import design as D
from cxlens.demo import tables
from cxlens.demo.arrays import expand, lognormal, pick, rank_within
from cxlens.demo.events import EventBatch, tp
from cxlens.demo.experience import Experience
from cxlens.demo.journey import Clock, Funnel, Population
from cxlens.demo.language import compose_tickets

TOPICS = tuple(D.TOPIC_MULTIPLIER)
_NO_THEME = -1
_CHECKOUT_CHANNEL_WEIGHTS = (0.2, 0.5, 0.3, 0.0)
_STATUSES = ("open", "pending", "resolved", "closed")


@dataclass(frozen=True)
class Tickets:
    customer: np.ndarray  # population index
    created: np.ndarray
    topic: np.ndarray  # index into TOPICS
    theme: np.ndarray  # experience behind the ticket (-1: none)
    emerging: np.ndarray
    channel: np.ndarray  # index into TICKET_CHANNELS
    first_response: np.ndarray  # day (NaN: not yet)
    resolved: np.ndarray  # day (NaN: not resolved)
    resolution_hours: np.ndarray  # NaN when not resolved
    reopened: np.ndarray
    contacts: np.ndarray
    status: np.ndarray  # index into _STATUSES
    reason: np.ndarray  # cancellation: the theme behind it (-1: none)


def _from_incidents(rng: np.random.Generator, exp: Experience) -> tuple[np.ndarray, ...]:
    inc = exp.incidents
    p = np.array([t.ticket_probability for t in D.THEMES])[inc.theme]
    p = np.where(inc.emerging, D.EMERGING_TICKET_PROBABILITY, p)
    raised = rng.random(inc.day.size) < p
    topic_of_theme = np.array([TOPICS.index(t.ticket_topic) if t.ticket_topic else -1 for t in D.THEMES])
    created = inc.day[raised] + rng.exponential(D.TICKET_DELAY_DAYS, int(raised.sum()))
    theme = inc.theme[raised]
    return inc.customer[raised], created, topic_of_theme[theme], theme, inc.emerging[raised]


def _general(rng: np.random.Generator, funnel: Funnel, exp: Experience, clock: Clock) -> tuple[np.ndarray, ...]:
    sub = np.flatnonzero(funnel.converted)
    start = funnel.purchase_day[sub]
    span = exp.end_day(clock.horizon)[sub] - start
    owner, _ = expand(rng.poisson(D.GENERAL_TICKETS_PER_YEAR / 365.0 * span))
    created = start[owner] + rng.random(owner.size) * span[owner]
    topic = np.array([TOPICS.index(t) for t in D.GENERAL_TOPICS])[pick(rng, owner.size, D.GENERAL_TOPIC_WEIGHTS)]
    n = owner.size
    return sub[owner], created, topic, np.full(n, _NO_THEME), np.zeros(n, dtype=bool)


def _last_negative_theme(exp: Experience, customers: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The most recent negative experience within a period before ``before`` (-1 when none)."""
    inc = exp.incidents
    negative = np.array([t.polarity == "negative" and t.scope in ("period", "onboarding") for t in D.THEMES])
    keep = negative[inc.theme]
    order = np.lexsort((inc.day[keep], inc.customer[keep]))
    cust, day, theme = inc.customer[keep][order], inc.day[keep][order], inc.theme[keep][order]
    out = np.full(customers.size, _NO_THEME)
    if cust.size == 0:
        return out
    pos = np.searchsorted(cust, customers, side="right") - 1  # the last incident of each customer
    safe = np.maximum(pos, 0)
    recent = (pos >= 0) & (cust[safe] == customers) & (day[safe] > before - D.PERIOD_DAYS)
    out[recent] = theme[safe[recent]]
    return out


def _cancellations(rng: np.random.Generator, funnel: Funnel, exp: Experience, clock: Clock) -> tuple:
    churned = np.flatnonzero(exp.churned(clock.horizon))
    who = churned[rng.random(churned.size) < D.CANCELLATION_TICKET_PROBABILITY]
    created = np.maximum(exp.churn_day[who] - rng.uniform(0.0, 2.0, who.size), funnel.purchase_day[who])
    reason = _last_negative_theme(exp, who, exp.churn_day[who])
    n = who.size
    return who, created, np.full(n, TOPICS.index("cancellation")), reason, np.zeros(n, dtype=bool)


def _checkouts(rng: np.random.Generator, funnel: Funnel) -> tuple[np.ndarray, ...]:
    failed = np.flatnonzero(funnel.failed)
    p = np.where(funnel.broken[failed], D.CHECKOUT_TICKET_PROBABILITY["broken"],
                 D.CHECKOUT_TICKET_PROBABILITY["normal"])
    who = failed[rng.random(failed.size) < p]
    created = funnel.checkout_day[who] + rng.exponential(0.3, who.size)
    n = who.size
    return (who, created, np.full(n, TOPICS.index("checkout")), np.full(n, D.THEME_INDEX["checkout_failure"]),
            np.zeros(n, dtype=bool))


def draw_tickets(rng: np.random.Generator, pop: Population, funnel: Funnel, exp: Experience,
                 clock: Clock) -> Tickets:
    sources = [_from_incidents(rng, exp), _general(rng, funnel, exp, clock),
               _cancellations(rng, funnel, exp, clock), _checkouts(rng, funnel)]
    customer, created, topic, theme, emerging = (np.concatenate(c) for c in zip(*sources, strict=True))
    is_cancel = topic == TOPICS.index("cancellation")
    reason = np.where(is_cancel, theme, _NO_THEME)
    theme = np.where(is_cancel, _NO_THEME, theme)
    keep = created <= clock.horizon
    customer, created, topic, theme, emerging, reason = (
        a[keep] for a in (customer, created, topic, theme, emerging, reason))
    order = np.lexsort((created, customer))
    customer, created, topic, theme, emerging, reason = (
        a[order] for a in (customer, created, topic, theme, emerging, reason))
    return _service_levels(rng, customer, created, topic, theme, emerging, reason, clock)


def _service_levels(rng: np.random.Generator, customer: np.ndarray, created: np.ndarray, topic: np.ndarray,
                    theme: np.ndarray, emerging: np.ndarray, reason: np.ndarray, clock: Clock) -> Tickets:
    n = customer.size
    checkout = topic == TOPICS.index("checkout")
    channel = np.where(checkout, pick(rng, n, _CHECKOUT_CHANNEL_WEIGHTS), pick(rng, n, D.TICKET_CHANNEL_WEIGHTS))
    names = np.array(D.TICKET_CHANNELS)
    frt_median = np.array([D.FIRST_RESPONSE[c][0] for c in names])[channel]
    frt_sigma = np.array([D.FIRST_RESPONSE[c][1] for c in names])[channel]
    frt_hours = lognormal(rng, frt_median, frt_sigma, n)
    res_median = np.array([D.RESOLUTION[c][0] for c in names])[channel]
    res_median = res_median * np.array([D.TOPIC_MULTIPLIER[t] for t in TOPICS])[topic]
    res_sigma = np.array([D.RESOLUTION[c][1] for c in names])[channel]
    res_hours = np.maximum(lognormal(rng, res_median, res_sigma, n), frt_hours)
    first_response = created + frt_hours / 24.0
    first_response = np.where(first_response <= clock.horizon, first_response, np.nan)
    resolved = created + res_hours / 24.0
    is_resolved = (rng.random(n) >= D.ABANDONED_TICKET_PROBABILITY) & (resolved <= clock.horizon)
    resolved = np.where(is_resolved, resolved, np.nan)
    reopen_p = np.where(res_hours > D.REOPEN_HOURS, D.REOPEN_PROBABILITY[1], D.REOPEN_PROBABILITY[0])
    reopened = is_resolved & (rng.random(n) < reopen_p)
    elapsed = np.where(is_resolved, res_hours, (clock.horizon - created) * 24.0)
    contacts = 1 + rng.poisson(0.35 * np.log1p(elapsed)) + reopened.astype(np.int64)
    closed = is_resolved & (resolved < clock.horizon - D.CLOSED_AFTER_DAYS)
    waiting = np.isnan(first_response)
    status = np.select([closed, is_resolved, waiting, rng.random(n) < 0.4], [3, 2, 0, 1], 0)
    return Tickets(customer, created, topic, theme, emerging, channel, first_response, resolved,
                   np.where(is_resolved, res_hours, np.nan), reopened, contacts, status, reason)


def ticket_events(rng: np.random.Generator, t: Tickets, ticket_ids: pa.Array) -> list[EventBatch]:
    """Contacts with support at the ticket's creation, and help-centre visits before some of them."""
    codes = np.array([tp(f"support_{c}") for c in D.TICKET_CHANNELS])[t.channel]
    ids = ticket_ids.to_numpy(zero_copy_only=False)
    properties = np.array(['{"ticket_id":"' + i + '"}' for i in ids], dtype=object)
    contact = EventBatch.of(t.customer, t.created, codes, properties)
    helped = np.flatnonzero(rng.random(t.customer.size) < D.HELP_CENTER_BEFORE_TICKET)
    help_center = EventBatch.of(t.customer[helped], t.created[helped] - rng.uniform(0.001, 0.1, helped.size),
                                tp("help_center"))
    return [contact, help_center]


def tickets_table(rng: np.random.Generator, t: Tickets, pop: Population, clock: Clock, width: int,
                  language_codes: tuple[str, ...]) -> pa.Table:
    number = pop.number[t.customer]
    langs = [language_codes[i] for i in pop.language[t.customer].tolist()]
    topics = [TOPICS[i] for i in t.topic.tolist()]
    reasons = [D.THEMES[r].name if r >= 0 else None for r in t.reason.tolist()]
    subjects, descriptions = compose_tickets(rng, langs, topics, reasons)
    return pa.table({
        "ticket_id": ticket_ids(t, pop, width),
        "created_at": tables.timestamps(clock.start_us, t.created),
        "customer_id": tables.ids("C", number, width),
        "channel": tables.labels(t.channel, D.TICKET_CHANNELS),
        "first_response_at": tables.timestamps(clock.start_us, t.first_response),
        "resolved_at": tables.timestamps(clock.start_us, t.resolved),
        "status": tables.labels(t.status, _STATUSES),
        "contacts": tables.ints(t.contacts),
        "reopened": pa.array(t.reopened, pa.bool_()),
        "subject": tables.strings(subjects),
        "description": tables.strings(descriptions),
        "topic": tables.labels(t.topic, TOPICS),
    })


def ticket_ids(t: Tickets, pop: Population, width: int) -> pa.Array:
    return tables.ids("T", pop.number[t.customer], width, rank_within(t.customer), 3)
