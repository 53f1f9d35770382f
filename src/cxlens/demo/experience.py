"""What subscribers go through and what it causes: experiences, relationship NPS and churn.

Each converted customer lives through 120-day periods; the relationship survey closes each period
(the first one 45 days after the purchase). Experiences (themes) happen at random times; the themes
of a period shift the latent satisfaction behind that period's NPS answer, and the NPS category
sets the chance to churn within the next 120 days (planted truths 1 and 2). The login-code wave of
the last week (truth 4) is one more experience.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cxlens.demo import design as D
from cxlens.demo.arrays import NEVER, cut, expand, nps_category, nps_score
from cxlens.demo.journey import Clock, Funnel, Onboarding, Population

N_THEMES = len(D.THEMES)
NPS_EFFECTS = np.array([t.nps_effect if t.scope in ("period", "onboarding") else 0.0 for t in D.THEMES])
N_SLOTS = int(math.ceil((D.HORIZON_DAYS - D.FIRST_SURVEY_DAYS) / D.PERIOD_DAYS)) + 1


def rating_effects(question: str) -> np.ndarray:
    effects = np.zeros(N_THEMES)
    for name, value in D.RATING_EFFECTS[question].items():
        effects[D.THEME_INDEX[name]] = value
    return effects


@dataclass(frozen=True)
class Incidents:
    customer: np.ndarray  # population index
    day: np.ndarray
    theme: np.ndarray  # index into THEMES
    emerging: np.ndarray  # part of the last week's login-code wave


@dataclass(frozen=True)
class Slots:
    """One row per relationship survey moment of a subscribed customer (answered or not)."""

    customer: np.ndarray
    period: np.ndarray
    submit_day: np.ndarray
    score: np.ndarray
    responded: np.ndarray
    themes: np.ndarray  # bool (rows, N_THEMES): experienced during the period
    q_value: np.ndarray
    q_reliability: np.ndarray


@dataclass(frozen=True)
class Experience:
    incidents: Incidents
    slots: Slots
    churn_day: np.ndarray  # per customer; NaN if never subscribed, > horizon if still subscribed

    def churned(self, horizon: float) -> np.ndarray:
        return self.churn_day <= horizon

    def end_day(self, horizon: float) -> np.ndarray:
        """Last day of the subscription, capped at now (NaN if never subscribed)."""
        return np.minimum(self.churn_day, horizon)


def _period_incidents(rng: np.random.Generator, start: np.ndarray, clock: Clock) -> list[tuple]:
    parts = []
    for name in D.PERIOD_THEMES:
        theme = D.THEMES[D.THEME_INDEX[name]]
        rate = -math.log(1.0 - theme.period_probability) / D.PERIOD_DAYS
        until = clock.emerging_start if name == D.EMERGING_THEME else clock.horizon
        span = np.maximum(until - start, 0.0)
        owner, _ = expand(rng.poisson(rate * span))
        day = start[owner] + rng.random(owner.size) * span[owner]
        parts.append((owner, day, D.THEME_INDEX[name], False))
    return parts


def _wave(rng: np.random.Generator, start: np.ndarray, clock: Clock) -> tuple:
    """The emerging issue: login codes stop arriving for a share of subscribers in the last week."""
    hit = np.flatnonzero(rng.random(start.size) < D.EMERGING_PROBABILITY)
    low = np.maximum(start[hit], clock.emerging_start)
    return hit, low + rng.random(hit.size) * (clock.horizon - low), D.THEME_INDEX[D.EMERGING_THEME], True


def _onboarding_incidents(ob: Onboarding, sub: np.ndarray) -> list[tuple]:
    install = ob.install_day[sub]
    delayed = np.flatnonzero(ob.delayed[sub])
    easy = np.flatnonzero(ob.easy[sub])
    return [(delayed, install[delayed], D.THEME_INDEX["installation_delay"], False),
            (easy, install[easy], D.THEME_INDEX["easy_setup"], False)]


def _flatten(parts: list[tuple]) -> tuple[np.ndarray, ...]:
    owner = np.concatenate([p[0] for p in parts]).astype(np.int64)
    day = np.concatenate([p[1] for p in parts])
    theme = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts])
    emerging = np.concatenate([np.full(len(p[0]), p[3], dtype=bool) for p in parts])
    return owner, day, theme, emerging


def _experienced(owner: np.ndarray, day: np.ndarray, theme: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Bool (customers, N_SLOTS, N_THEMES): theme experienced in the period closed by survey k."""
    period = np.ceil((day - start[owner] - D.FIRST_SURVEY_DAYS) / D.PERIOD_DAYS)
    period = np.clip(period, 0, N_SLOTS - 1).astype(np.int64)
    seen = np.zeros((start.size, N_SLOTS, N_THEMES), dtype=bool)
    seen[owner, period, theme] = True
    return seen


def _rating(rng: np.random.Generator, z: np.ndarray, seen: np.ndarray, question: str) -> np.ndarray:
    latent = (D.RATING_Z_WEIGHT * z + D.RATING_INTERCEPT + seen @ rating_effects(question)
              + rng.normal(0.0, D.RATING_NOISE, z.size))
    answer = cut(latent, D.CSAT_CUTS)
    return np.where(rng.random(z.size) < D.RATING_ANSWER_RATE, answer, -1)


def draw_experience(rng: np.random.Generator, pop: Population, funnel: Funnel, ob: Onboarding,
                    clock: Clock) -> Experience:
    sub = np.flatnonzero(funnel.converted)
    start = funnel.purchase_day[sub]
    z = pop.z[sub]
    parts = _period_incidents(rng, start, clock) + [_wave(rng, start, clock)] + _onboarding_incidents(ob, sub)
    owner, day, theme, emerging = _flatten(parts)
    ok = day <= clock.horizon
    owner, day, theme, emerging = owner[ok], day[ok], theme[ok], emerging[ok]
    seen = _experienced(owner, day, theme, start)
    churn = ob.early_churn_day[sub].copy()
    rates = np.array([D.CHURN_AFTER_SURVEY[c] for c in ("detractor", "passive", "promoter")])
    rows: list[tuple] = []
    for k in range(N_SLOTS):
        survey = start + D.FIRST_SURVEY_DAYS + D.PERIOD_DAYS * k
        idx = np.flatnonzero((survey <= clock.horizon) & (churn > survey))
        submit = survey[idx] + np.minimum(rng.exponential(D.SURVEY_DELAY_DAYS, idx.size), 5.0)
        period_seen = seen[idx, k, :]
        u = z[idx] + period_seen @ NPS_EFFECTS + rng.normal(0.0, D.NPS_NOISE, idx.size)
        score = nps_score(u)
        leaves = rng.random(idx.size) < rates[nps_category(score)]
        leave_day = submit + rng.uniform(1.0, D.PERIOD_DAYS - 1.0, idx.size)
        churn[idx] = np.where(leaves, np.minimum(churn[idx], leave_day), churn[idx])
        responded = (rng.random(idx.size) < D.RESPONSE_RATE["relationship"]) & (submit <= clock.horizon)
        rows.append((idx, np.full(idx.size, k), submit, score, responded, period_seen))
    slot_idx, period, submit, score, responded, themes = (np.concatenate(c) for c in zip(*rows, strict=True))
    slots = Slots(sub[slot_idx], period, submit, score, responded, themes,
                  _rating(rng, z[slot_idx], themes, "q_value"), _rating(rng, z[slot_idx], themes, "q_reliability"))
    alive = day < churn[owner]
    incidents = Incidents(sub[owner[alive]], day[alive], theme[alive], emerging[alive])
    churn_day = np.full(pop.size, np.nan)
    churn_day[sub] = np.where(np.isfinite(churn), churn, NEVER)
    return Experience(incidents, slots, churn_day)
