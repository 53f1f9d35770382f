"""Survey responses: relationship NPS, checkout CES, onboarding CSAT and post-ticket CSAT, with comments.

A comment mentions the themes the customer experienced (each with the theme's mention
probability, at most two), in the customer's language, with a tone that follows the score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cxlens.demo import design as D
from cxlens.demo import tables
from cxlens.demo.arrays import cut, nps_category, rank_within, tone_from_nps, tone_from_scale
from cxlens.demo.events import tp
from cxlens.demo.experience import Experience
from cxlens.demo.journey import Clock, Funnel, Onboarding, Population
from cxlens.demo.language import compose_comments
from cxlens.demo.service import Tickets

SURVEY_IDS = ("nps-relationship", "ces-checkout", "csat-onboarding", "csat-support")
RESPONSE_CHANNELS = ("email", "app", "web", "phone", "chat")
_MENTION = np.array([t.mention_probability for t in D.THEMES])
_THEME_NAMES = tuple(t.name for t in D.THEMES)
_TP_NAMES = tuple(t.name for t in D.TOUCHPOINTS)
_PLAN_NAMES = tuple(p.name for p in D.PLANS)


@dataclass(frozen=True)
class Answers:
    """Responses of one survey (columns as arrays; -1 marks an unanswered score)."""

    customer: np.ndarray
    submitted: np.ndarray
    survey: int
    touchpoint: np.ndarray
    channel: np.ndarray  # index into RESPONSE_CHANNELS
    nps: np.ndarray
    csat: np.ndarray
    ces: np.ndarray
    q_value: np.ndarray
    q_reliability: np.ndarray
    q_delivery: np.ndarray
    comment: np.ndarray  # object array, None without a comment

    @staticmethod
    def build(customer: np.ndarray, submitted: np.ndarray, survey: int, touchpoint: np.ndarray | int,
              channel: np.ndarray | int, comment: np.ndarray, **scores: np.ndarray) -> Answers:
        n = customer.size
        blank = np.full(n, -1, dtype=np.int64)
        cols = {k: np.asarray(scores.get(k, blank), dtype=np.int64)
                for k in ("nps", "csat", "ces", "q_value", "q_reliability", "q_delivery")}
        return Answers(customer, submitted, survey, np.broadcast_to(np.asarray(touchpoint), (n,)),
                       np.broadcast_to(np.asarray(channel), (n,)), comment=comment, **cols)


def mention(rng: np.random.Generator, experienced: np.ndarray) -> np.ndarray:
    """Which experienced themes a comment would mention (each by its theme's mention chance)."""
    return experienced & (rng.random(experienced.shape) < _MENTION)


def _pick_themes(rng: np.random.Generator, mentioned: np.ndarray) -> list[tuple[str, ...]]:
    """Per row, up to MAX_THEMES_PER_COMMENT of the mentioned themes, in random order."""
    keys = np.where(mentioned, rng.random(mentioned.shape), np.inf)
    order = np.argsort(keys, axis=1)[:, : D.MAX_THEMES_PER_COMMENT]
    count = np.minimum(mentioned.sum(axis=1), D.MAX_THEMES_PER_COMMENT)
    return [tuple(_THEME_NAMES[j] for j in row[:c]) for row, c in zip(order.tolist(), count.tolist(), strict=True)]


def _comments(rng: np.random.Generator, pop: Population, customer: np.ndarray, has: np.ndarray,
              mentioned: np.ndarray, tone: np.ndarray, days: np.ndarray | None = None,
              hours: np.ndarray | None = None) -> np.ndarray:
    out = np.full(customer.size, None, dtype=object)
    idx = np.flatnonzero(has)
    if idx.size == 0:
        return out
    themes = _pick_themes(rng, mentioned[idx])
    langs = [D.LANGUAGES[i] for i in pop.language[customer[idx]].tolist()]
    plans = [_PLAN_NAMES[i] for i in pop.plan[customer[idx]].tolist()]
    texts = compose_comments(rng, langs, themes, tone[idx], None if days is None else days[idx],
                             None if hours is None else hours[idx], plans)
    out[idx] = np.array(texts, dtype=object)
    return out


def _comment_chance(rng: np.random.Generator, low: np.ndarray) -> np.ndarray:
    return rng.random(low.size) < np.where(low, D.COMMENT_RATE_LOW, D.COMMENT_RATE_HIGH)


def relationship(rng: np.random.Generator, pop: Population, exp: Experience) -> Answers:
    s = exp.slots
    r = np.flatnonzero(s.responded)
    customer, score = s.customer[r], s.score[r]
    rate = np.array([D.COMMENT_RATE_NPS[c] for c in ("detractor", "passive", "promoter")])[nps_category(score)]
    comment = _comments(rng, pop, customer, rng.random(r.size) < rate, mention(rng, s.themes[r]),
                        tone_from_nps(score))
    channel = np.where(rng.random(r.size) < 0.7, 0, 1)
    return Answers.build(customer, s.submit_day[r], 0, tp("relationship_survey"), channel, comment,
                         nps=score, q_value=s.q_value[r], q_reliability=s.q_reliability[r])


def checkout(rng: np.random.Generator, pop: Population, funnel: Funnel, clock: Clock) -> Answers:
    """CES at the end of web and app checkouts; failures in the broken window complain about it."""
    digital = np.isin(funnel.checkout_channel, [0, 1])
    who = np.flatnonzero(digital & (rng.random(pop.size) < D.RESPONSE_RATE["checkout"]))
    submitted = funnel.checkout_day[who] + rng.uniform(0.0005, 0.01, who.size)
    ok = submitted <= clock.horizon
    who, submitted = who[ok], submitted[ok]
    failed, broken = funnel.failed[who], funnel.broken[who]
    u = (D.CHECKOUT_Z_WEIGHT * pop.z[who] + D.CHECKOUT_FAILED_EFFECT * failed
         + D.CHECKOUT_BROKEN_EXTRA_EFFECT * broken + rng.normal(0.0, D.CHECKOUT_NOISE, who.size))
    ces = cut(u, D.CES_CUTS)
    chance = np.where(broken, D.CHECKOUT_COMMENT_MENTION["broken"], D.CHECKOUT_COMMENT_MENTION["normal"])
    mentioned = np.zeros((who.size, len(D.THEMES)), dtype=bool)
    mentioned[:, D.THEME_INDEX["checkout_failure"]] = failed & (rng.random(who.size) < chance)
    mentioned[:, D.THEME_INDEX["easy_checkout"]] = ~failed & (ces >= 6) & (rng.random(who.size) < 0.5)
    comment = _comments(rng, pop, who, _comment_chance(rng, ces <= 4), mentioned, tone_from_scale(ces, 7))
    web = funnel.checkout_channel[who] == 0
    codes = np.where(web, tp("web_checkout"), tp("app_checkout"))
    return Answers.build(who, submitted, 1, codes, np.where(web, 2, 1), comment, ces=ces)


def onboarding(rng: np.random.Generator, pop: Population, ob: Onboarding, exp: Experience,
               clock: Clock) -> Answers:
    """CSAT, CES and the delivery rating after the router delivery or the technician visit."""
    installed = ob.install_day <= np.minimum(exp.churn_day, clock.horizon)
    who = np.flatnonzero(installed & (rng.random(pop.size) < D.RESPONSE_RATE["onboarding"]))
    submitted = ob.install_day[who] + np.minimum(rng.exponential(1.0, who.size), 5.0)
    ok = submitted <= clock.horizon
    who, submitted = who[ok], submitted[ok]
    delayed, easy = ob.delayed[who], ob.easy[who]
    u = (pop.z[who] + D.ONBOARDING_DELAY_EFFECT * delayed + D.EASY_SETUP_CSAT_EFFECT * easy
         + rng.normal(0.0, D.ONBOARDING_NOISE, who.size))
    csat = cut(u, D.CSAT_CUTS)
    ces = cut(u + rng.normal(0.0, 0.5, who.size), D.CES_CUTS)
    delivery = cut(0.3 * pop.z[who] + 0.6 + D.DELIVERY_DELAY_EFFECT * delayed + rng.normal(0.0, 0.7, who.size),
                   D.CSAT_CUTS)
    experienced = np.zeros((who.size, len(D.THEMES)), dtype=bool)
    experienced[:, D.THEME_INDEX["installation_delay"]] = delayed
    experienced[:, D.THEME_INDEX["easy_setup"]] = easy
    comment = _comments(rng, pop, who, _comment_chance(rng, csat <= 3), mention(rng, experienced),
                        tone_from_scale(csat, 5))
    codes = np.where(ob.technician[who], tp("technician_visit"), tp("router_delivery"))
    return Answers.build(who, submitted, 2, codes, 0, comment, csat=csat, ces=ces, q_delivery=delivery)


def support(rng: np.random.Generator, pop: Population, t: Tickets, clock: Clock) -> Answers:
    """CSAT after a resolved ticket: lower on the phone, lower the longer the resolution took."""
    resolved = np.isfinite(t.resolved)
    sent = np.flatnonzero(resolved & (rng.random(t.customer.size) < D.RESPONSE_RATE["support"]))
    submitted = t.resolved[sent] + rng.exponential(0.4, sent.size)
    r = sent[submitted <= clock.horizon]
    submitted = submitted[submitted <= clock.horizon]
    hours = t.resolution_hours[r]
    channel_effect = np.array([D.TICKET_CHANNEL_EFFECT[c] for c in D.TICKET_CHANNELS])[t.channel[r]]
    u = (pop.z[t.customer[r]] + channel_effect
         + D.RESOLUTION_EFFECT * np.log2(hours / D.RESOLUTION_REFERENCE_HOURS)
         + D.REOPENED_EFFECT * t.reopened[r] + rng.normal(0.0, D.TICKET_CSAT_NOISE, r.size))
    csat = cut(u, D.CSAT_CUTS)
    ces = cut(u + rng.normal(0.0, 0.5, r.size), D.CES_CUTS)
    mentioned = np.zeros((r.size, len(D.THEMES)), dtype=bool)
    mentioned[:, D.THEME_INDEX["slow_support"]] = (hours > D.SLOW_SUPPORT_HOURS) & (
        rng.random(r.size) < D.SLOW_SUPPORT_MENTION)
    mentioned[:, D.THEME_INDEX["helpful_staff"]] = (hours <= 24) & (csat >= 4) & (
        rng.random(r.size) < D.HELPFUL_STAFF_MENTION)
    theme = t.theme[r]
    chance = np.where(t.emerging[r], D.EMERGING_TICKET_MENTION, D.TICKET_THEME_MENTION)
    about = (theme >= 0) & (rng.random(r.size) < chance)
    mentioned[np.flatnonzero(about), theme[about]] = True
    has = _comment_chance(rng, csat <= 3) | (t.emerging[r] & (rng.random(r.size) < D.EMERGING_COMMENT_RATE))
    comment = _comments(rng, pop, t.customer[r], has, mentioned,
                        tone_from_scale(csat, 5), days=np.maximum(1, np.round(hours / 24.0)),
                        hours=np.maximum(1, np.round(hours)))
    codes = np.array([tp(f"support_{c}") for c in D.TICKET_CHANNELS])[t.channel[r]]
    channel = np.array([RESPONSE_CHANNELS.index(c) for c in D.TICKET_CHANNELS])[t.channel[r]]
    return Answers.build(t.customer[r], submitted, 3, codes, channel, comment, csat=csat, ces=ces)


def responses_table(parts: list[Answers], pop: Population, clock: Clock, width: int) -> pa.Table:
    def col(name: str) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(p, name)) for p in parts])

    customer, submitted = col("customer"), col("submitted")
    survey = np.concatenate([np.full(p.customer.size, p.survey) for p in parts])
    order = np.lexsort((submitted, customer))
    customer, submitted, survey = customer[order], submitted[order], survey[order]
    number = pop.number[customer]

    def score(name: str) -> pa.Array:
        values = col(name)[order]
        return tables.ints(values, values < 0)

    return pa.table({
        "response_id": tables.ids("R", number, width, rank_within(customer), 3),
        "submitted_at": tables.timestamps(clock.start_us, submitted),
        "customer_id": tables.ids("C", number, width),
        "survey_id": tables.labels(survey, SURVEY_IDS),
        "touchpoint": tables.labels(col("touchpoint")[order], _TP_NAMES),
        "channel": tables.labels(col("channel")[order], RESPONSE_CHANNELS),
        "language": tables.labels(pop.language[customer], D.LANGUAGES),
        "nps": score("nps"),
        "csat": score("csat"),
        "ces": score("ces"),
        "comment": tables.strings(col("comment")[order]),
        "q_value": score("q_value"),
        "q_reliability": score("q_reliability"),
        "q_delivery": score("q_delivery"),
    })
