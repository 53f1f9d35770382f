"""Who the customers are and how far they get: population, acquisition funnel and onboarding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from cxlens.demo import design as D
from cxlens.demo.arrays import NEVER, expand, lognormal, pick
from cxlens.demo.events import EventBatch, props, tp

_EPOCH = datetime(1970, 1, 1)


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as a naive UTC datetime (a naive input is taken to be UTC already)."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@dataclass(frozen=True)
class Clock:
    """Day offsets since ``now - HORIZON_DAYS`` and the planted windows on that scale."""

    now: datetime  # naive UTC
    start_us: int
    horizon: float
    broken_start: float
    broken_end: float
    emerging_start: float

    @staticmethod
    def at(now: datetime) -> Clock:
        now = naive_utc(now)
        start = now - timedelta(days=D.HORIZON_DAYS)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        broken = midnight - timedelta(days=D.BROKEN_START_DAYS_BEFORE_NOW)
        broken_start = (broken - start) / timedelta(days=1)
        return Clock(
            now=now, start_us=(start - _EPOCH) // timedelta(microseconds=1), horizon=D.HORIZON_DAYS,
            broken_start=broken_start, broken_end=broken_start + D.BROKEN_LENGTH_DAYS,
            emerging_start=D.HORIZON_DAYS - D.EMERGING_DAYS,
        )

    def moment(self, day: float) -> datetime:
        return _EPOCH + timedelta(microseconds=self.start_us) + timedelta(days=day)


# --------------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Aoife", "Sean", "Niamh", "Conor", "Emma", "Liam", "Sophie", "Jan", "Daan", "Sanne", "Lukas", "Anna",
    "Jonas", "Lena", "Felix", "Marie", "Léa", "Hugo", "Camille", "Louis", "Lucía", "Hugo", "Martina",
    "Pablo", "Sofía", "Mateo", "Inês", "João", "Beatriz", "Tiago", "Amira", "Yusuf", "Priya", "Arjun",
    "Mei", "Chen", "Olga", "Piotr", "Fatima", "Omar", "Zoë", "Noah", "Julia", "Elias", "Chloé", "Nora",
)
LAST_NAMES = (
    "Murphy", "Kelly", "O'Brien", "Byrne", "Walsh", "de Vries", "Jansen", "Bakker", "Visser", "Müller",
    "Schmidt", "Schneider", "Fischer", "Weber", "Martin", "Bernard", "Dubois", "Lefèvre", "García",
    "Fernández", "López", "Martínez", "Silva", "Santos", "Ferreira", "Peeters", "Janssens", "Gruber",
    "Huber", "Novak", "Khan", "Patel", "Nguyen", "Rossi", "Keane", "Doyle", "Moreau", "Costa",
)
COMPANY_SUFFIXES = ("Logistics", "Design", "Consulting", "Foods", "Dental", "Legal", "Studio", "Motors",
                    "Pharma", "Holdings", "Group", "Software", "Architects", "Retail")


@dataclass(frozen=True)
class Population:
    number: np.ndarray  # global customer number, 1-based
    segment: np.ndarray
    country: np.ndarray
    language: np.ndarray  # index into LANGUAGES: the language the customer answers in
    age_band: np.ndarray  # -1 for business customers
    acquisition: np.ndarray
    plan: np.ndarray  # plan chosen at the purchase (index into PLANS)
    seats: np.ndarray  # 0 for consumers
    z: np.ndarray  # latent satisfaction
    first_seen: np.ndarray  # day offset
    first_name: np.ndarray
    last_name: np.ndarray
    company: np.ndarray

    @property
    def size(self) -> int:
        return int(self.number.size)


def _plans(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    plan = np.empty(segment.size, dtype=np.int64)
    for s, name in enumerate(D.SEGMENTS):
        idx = np.flatnonzero(segment == s)
        options = [i for i, p in enumerate(D.PLANS) if p.segment == name]
        weights = [D.PLANS[i].weight for i in options]
        plan[idx] = np.asarray(options)[pick(rng, idx.size, weights)]
    return plan


def _seats(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    smb = rng.integers(D.SMB_SEATS[0], D.SMB_SEATS[1] + 1, segment.size)
    ent = np.maximum(10, np.round(lognormal(rng, D.ENTERPRISE_SEATS_MEDIAN, 0.5, segment.size)))
    return np.select([segment == 1, segment == 2], [smb, ent], 0).astype(np.int64)


def _languages(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    native = np.array([D.LANGUAGES.index(D.COUNTRY_LANGUAGE.get(c, "en")) for c in D.COUNTRIES])[country]
    answers_native = rng.random(country.size) < D.NATIVE_ANSWER_SHARE
    return np.where(answers_native, native, 0)


def draw_population(rng: np.random.Generator, first_number: int, n: int) -> Population:
    segment = pick(rng, n, D.SEGMENT_WEIGHTS)
    country = pick(rng, n, D.COUNTRY_WEIGHTS)
    age = np.where(segment == 0, pick(rng, n, D.AGE_WEIGHTS), -1)
    z = rng.standard_normal(n) + np.asarray(D.SEGMENT_SATISFACTION)[segment]
    first_seen = D.HORIZON_DAYS * rng.random(n) ** D.SIGNUP_SHAPE
    return Population(
        number=np.arange(first_number, first_number + n, dtype=np.int64), segment=segment, country=country,
        language=_languages(rng, country), age_band=age, acquisition=pick(rng, n, D.ACQUISITION_WEIGHTS),
        plan=_plans(rng, segment), seats=_seats(rng, segment), z=z, first_seen=first_seen,
        first_name=rng.integers(0, len(FIRST_NAMES), n), last_name=rng.integers(0, len(LAST_NAMES), n),
        company=rng.integers(0, len(COMPANY_SUFFIXES), n),
    )


def monthly_price(pop: Population, plan: np.ndarray) -> np.ndarray:
    base = np.array([p.mrr for p in D.PLANS])[plan]
    per_seat = np.array([p.per_seat for p in D.PLANS])[plan]
    return np.round(base + per_seat * pop.seats, 2)


# --------------------------------------------------------------------------------------------------
# Funnel: Awareness -> Consideration -> Purchase
# --------------------------------------------------------------------------------------------------

_AWARENESS = ("search_ad", "social_media", "review_site", "store_window")
_ACQUISITION_AWARENESS = (0, 1, 1, 3, 2)  # search, social, referral, store, comparison
_CONSIDERATION = ("plans_page", "coverage_check", "comparison_site", "sales_chat", "sales_call", "store_visit")
_CONSIDERATION_WEIGHTS = (0.30, 0.25, 0.12, 0.13, 0.10, 0.10)


@dataclass(frozen=True)
class Funnel:
    checkout_day: np.ndarray  # NaN: no checkout attempt before now
    checkout_channel: np.ndarray  # index into CHECKOUT_TOUCHPOINTS, -1 without an attempt
    broken: np.ndarray  # a web checkout inside the broken window
    failed: np.ndarray
    converted: np.ndarray
    purchase_day: np.ndarray  # NaN unless converted


def _awareness(rng: np.random.Generator, pop: Population) -> list[EventBatch]:
    n = pop.size
    codes = np.array([tp(t) for t in _AWARENESS])
    first = EventBatch.of(np.arange(n), pop.first_seen,
                          codes[np.asarray(_ACQUISITION_AWARENESS)[pop.acquisition]], props(campaign="always_on"))
    again = np.flatnonzero(rng.random(n) < D.SECOND_AWARENESS_PROBABILITY)
    second = EventBatch.of(again, pop.first_seen[again] + rng.uniform(0.01, 2.0, again.size),
                           codes[rng.integers(0, len(codes), again.size)], props(campaign="retargeting"))
    return [first, second]


def _consideration(rng: np.random.Generator, pop: Population) -> tuple[np.ndarray, EventBatch]:
    """Day of the last consideration event (NaN if the customer never considered) and the events."""
    n = pop.size
    considers = rng.random(n) < D.CONSIDERATION_PROBABILITY
    count = np.where(considers, 1 + rng.binomial(*D.CONSIDERATION_EVENTS_EXTRA, n), 0)
    owner, _ = expand(count)
    gaps = rng.exponential(D.CONSIDERATION_GAP_DAYS, owner.size)
    # per-customer cumulative gaps after the first-seen day
    starts = np.cumsum(count) - count
    csum = np.cumsum(gaps)
    offset = np.r_[0.0, csum][starts]  # the gaps of earlier customers
    day = pop.first_seen[owner] + csum - offset[owner]
    last = np.full(n, np.nan)
    has = count > 0
    last[has] = day[starts[has] + count[has] - 1]
    codes = np.array([tp(t) for t in _CONSIDERATION])[pick(rng, owner.size, _CONSIDERATION_WEIGHTS)]
    return last, EventBatch.of(owner, day, codes, None)


def draw_funnel(rng: np.random.Generator, pop: Population, clock: Clock) -> tuple[Funnel, list[EventBatch]]:
    n = pop.size
    batches = _awareness(rng, pop)
    last_consideration, consider_events = _consideration(rng, pop)
    batches.append(consider_events)
    attempts = (~np.isnan(last_consideration)) & (rng.random(n) < D.CHECKOUT_PROBABILITY)
    checkout = np.where(attempts, last_consideration + rng.exponential(D.CHECKOUT_GAP_DAYS, n), np.nan)
    attempts &= checkout <= clock.horizon
    checkout = np.where(attempts, checkout, np.nan)
    channel = np.where(attempts, pick(rng, n, D.CHECKOUT_WEIGHTS), -1)
    web = channel == D.CHECKOUT_TOUCHPOINTS.index(D.BROKEN_TOUCHPOINT)
    broken = web & (checkout >= clock.broken_start) & (checkout < clock.broken_end)
    conversion = np.where(broken, D.BROKEN_CONVERSION, np.asarray(D.CHECKOUT_CONVERSION)[np.maximum(channel, 0)])
    converted = attempts & (rng.random(n) < conversion)
    failed = attempts & ~converted
    funnel = Funnel(checkout, channel, broken, failed, converted, np.where(converted, checkout, np.nan))
    batches.append(_checkout_events(pop, funnel))
    return funnel, batches


def _checkout_events(pop: Population, f: Funnel) -> EventBatch:
    who = np.flatnonzero(~np.isnan(f.checkout_day))
    plan_names = [p.name for p in D.PLANS]
    options = np.array(
        [[props(step="completed", plan=name) for name in plan_names],
         [props(step="abandoned", plan=name) for name in plan_names],
         [props(step="failed", plan=name, error="HTTP_500") for name in plan_names]], dtype=object)
    status = np.where(f.converted, 0, np.where(f.broken, 2, 1))[who]
    codes = np.array([tp(t) for t in D.CHECKOUT_TOUCHPOINTS])[f.checkout_channel[who]]
    return EventBatch.of(who, f.checkout_day[who], codes, options[status, pop.plan[who]])


# --------------------------------------------------------------------------------------------------
# Onboarding
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Onboarding:
    install_day: np.ndarray  # router delivered / technician visit (NaN unless converted)
    technician: np.ndarray
    delayed: np.ndarray
    easy: np.ndarray
    early_churn_day: np.ndarray  # inf when the customer does not leave during onboarding


def draw_onboarding(rng: np.random.Generator, pop: Population, funnel: Funnel) -> tuple[Onboarding,
                                                                                         list[EventBatch]]:
    n = pop.size
    conv = funnel.converted
    tp_day = funnel.purchase_day
    technician = np.array([p.technician for p in D.PLANS])[pop.plan]
    base = np.where(technician, rng.uniform(*D.TECHNICIAN_DAYS, n), rng.uniform(*D.DELIVERY_DAYS, n))
    delayed = conv & (rng.random(n) < D.INSTALL_DELAY_PROBABILITY)
    install = tp_day + base + np.where(delayed, rng.uniform(*D.INSTALL_DELAY_DAYS, n), 0.0)
    easy = conv & ~delayed & (rng.random(n) < D.EASY_SETUP_PROBABILITY)
    early_p = np.where(delayed, D.EARLY_CHURN["delayed"], D.EARLY_CHURN["on_time"])
    early = conv & (rng.random(n) < early_p)
    leave = np.minimum(install + rng.uniform(*D.EARLY_CHURN_DAYS, n), tp_day + D.FIRST_SURVEY_DAYS - 1.0)
    early_day = np.where(early, leave, NEVER)
    who = np.flatnonzero(conv)
    welcome = EventBatch.of(who, tp_day[who] + rng.uniform(0.001, 0.03, who.size), tp("welcome_email"))
    install_codes = np.where(technician[who], tp("technician_visit"), tp("router_delivery"))
    install_props = np.where(delayed[who], props(delayed=True), props(delayed=False))
    installs = EventBatch.of(who, install[who], install_codes, install_props)
    activates = who[rng.random(who.size) < D.ACTIVATION_PROBABILITY]
    activation = EventBatch.of(activates, install[activates] + rng.exponential(0.5, activates.size),
                               tp("app_activation"))
    onboarding = Onboarding(np.where(conv, install, np.nan), technician, delayed, easy, early_day)
    return onboarding, [welcome, installs, activation]

