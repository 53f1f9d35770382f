"""Orders (BG/NBD purchasing with Gamma-Gamma spend) and subscriptions (plan periods with churn).

Orders are store purchases (film rentals, add-on packs, devices) of converted customers. The first
order is placed at the purchase; then, while "alive", a customer buys as a Poisson process with
rate ``lambda ~ Gamma(r, alpha)`` (per day) and drops out after each repeat purchase with
probability ``p ~ Beta(a, b)``. Every order value is ``Gamma(p, nu)`` with ``nu ~ Gamma(q, gamma)``
per customer. The process is independent of the experience so that the CLV models can be checked
against the known parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cxlens.demo import design as D
from cxlens.demo import tables
from cxlens.demo.arrays import expand, pick, rank_within
from cxlens.demo.events import EventBatch, props, tp
from cxlens.demo.experience import Experience
from cxlens.demo.journey import Clock, Funnel, Population, monthly_price

_CATEGORIES = ("rental", "add-on", "device")


def orders_table(rng: np.random.Generator, pop: Population, funnel: Funnel, clock: Clock, width: int) -> pa.Table:
    sub = np.flatnonzero(funnel.converted)
    start = funnel.purchase_day[sub]
    span = clock.horizon - start
    bg = D.BGNBD
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], sub.size)
    drop = rng.beta(bg["a"], bg["b"], sub.size)
    lives_for = rng.geometric(drop)  # repeat purchases until the customer drops out
    owner, _ = expand(rng.poisson(lam * span))
    day = start[owner] + rng.random(owner.size) * span[owner]
    order = np.lexsort((day, owner))
    owner, day = owner[order], day[order]
    keep = rank_within(owner) < lives_for[owner]
    owner = np.concatenate([np.arange(sub.size), owner[keep]])
    day = np.concatenate([start, day[keep]])
    first = np.r_[np.ones(sub.size, dtype=bool), np.zeros(int(keep.sum()), dtype=bool)]
    order = np.lexsort((day, owner))
    owner, day, first = owner[order], day[order], first[order]
    gg = D.GAMMA_GAMMA
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], sub.size)
    amount = np.round(rng.gamma(gg["p"], 1.0 / nu[owner]), 2)
    channel = np.where(first, funnel.checkout_channel[sub][owner],
                       np.array([D.CHECKOUT_CHANNELS.index(c) for c in D.ORDER_CHANNELS])[
                           pick(rng, owner.size, D.ORDER_CHANNEL_WEIGHTS)])
    customer = sub[owner]
    number = pop.number[customer]
    category = np.select([amount < 8, amount < 45], [0, 1], 2)
    return pa.table({
        "order_id": tables.ids("O", number, width, rank_within(owner), 4),
        "customer_id": tables.ids("C", number, width),
        "ordered_at": tables.timestamps(clock.start_us, day),
        "amount": tables.floats(amount),
        "currency": pa.array(np.full(owner.size, D.CURRENCY).tolist(), pa.string()),
        "status": tables.labels(pick(rng, owner.size, D.ORDER_STATUS_WEIGHTS), D.ORDER_STATUS),
        "channel": tables.labels(channel, D.CHECKOUT_CHANNELS),
        "items": tables.ints(1 + rng.poisson(amount / 40.0)),
        "category": tables.labels(category, _CATEGORIES),
    })


@dataclass(frozen=True)
class Upgrades:
    customer: np.ndarray  # population index
    day: np.ndarray
    plan: np.ndarray  # the new plan


def draw_upgrades(rng: np.random.Generator, pop: Population, funnel: Funnel, exp: Experience,
                  clock: Clock) -> Upgrades:
    consumer_plans = [i for i, p in enumerate(D.PLANS) if p.segment == "consumer"]
    can = funnel.converted & np.isin(pop.plan, consumer_plans[:-1])
    day = funnel.purchase_day + rng.uniform(*D.UPGRADE_DAYS, pop.size)
    ends = exp.end_day(clock.horizon)
    who = np.flatnonzero(can & (rng.random(pop.size) < D.UPGRADE_PROBABILITY) & (day < ends))
    return Upgrades(who, day[who], pop.plan[who] + 1)


def current_plan(pop: Population, funnel: Funnel, up: Upgrades) -> np.ndarray:
    """The plan now (-1 for prospects who never bought)."""
    plan = np.where(funnel.converted, pop.plan, -1)
    plan[up.customer] = up.plan
    return plan


def subscriptions_table(pop: Population, funnel: Funnel, exp: Experience, up: Upgrades, clock: Clock,
                        width: int) -> pa.Table:
    sub = np.flatnonzero(funnel.converted)
    churn = np.where(exp.churned(clock.horizon), exp.churn_day, np.nan)
    upgrade_day = np.full(pop.size, np.nan)
    upgrade_day[up.customer] = up.day
    customer = np.concatenate([sub, up.customer])
    started = np.concatenate([funnel.purchase_day[sub], up.day])
    ended = np.concatenate([np.where(np.isnan(upgrade_day[sub]), churn[sub], upgrade_day[sub]), churn[up.customer]])
    plan = np.concatenate([pop.plan[sub], up.plan])
    order = np.lexsort((started, customer))
    customer, started, ended, plan = customer[order], started[order], ended[order], plan[order]
    number = pop.number[customer]
    return pa.table({
        "subscription_id": tables.ids("S", number, width, rank_within(customer), 2),
        "customer_id": tables.ids("C", number, width),
        "started_at": tables.timestamps(clock.start_us, started),
        "ended_at": tables.timestamps(clock.start_us, ended),
        "plan": tables.labels(plan, [p.name for p in D.PLANS]),
        "mrr": tables.floats(_mrr(pop, customer, plan)),
    })


def _mrr(pop: Population, customer: np.ndarray, plan: np.ndarray) -> np.ndarray:
    base = np.array([p.mrr for p in D.PLANS])[plan]
    per_seat = np.array([p.per_seat for p in D.PLANS])[plan]
    return np.round(base + per_seat * pop.seats[customer], 2)


def service_events(rng: np.random.Generator, pop: Population, funnel: Funnel, exp: Experience, up: Upgrades,
                   clock: Clock) -> list[EventBatch]:
    """Bills, app sessions, log-ins, shop visits, loyalty and renewal events while subscribed."""
    sub = np.flatnonzero(funnel.converted)
    start = funnel.purchase_day[sub]
    end = exp.end_day(clock.horizon)[sub]
    span = np.maximum(end - start, 0.0)
    price = monthly_price(pop, current_plan(pop, funnel, up))[sub]
    prices, which = np.unique(price, return_inverse=True)
    bill_props = np.array([props(amount=float(x), currency=D.CURRENCY) for x in prices.tolist()],
                          dtype=object)[which]
    owner, pos = expand(np.floor(span / 30.0).astype(np.int64))
    bills = EventBatch.of(sub[owner], start[owner] + 30.0 * (pos + 1), tp("monthly_bill"), bill_props[owner])
    batches = [bills]
    devices = np.array([props(device=d) for d in ("ios", "android", "smart_tv", "web", "fire_tv")], dtype=object)
    for name, every in (("tv_app", D.APP_SESSION_DAYS), ("account_login", D.LOGIN_DAYS),
                        ("store_service", D.STORE_SERVICE_DAYS)):
        owner, _ = expand(rng.poisson(span / every))
        day = start[owner] + rng.random(owner.size) * span[owner]
        prop = devices[rng.integers(0, devices.size, owner.size)] if name == "tv_app" else (
            props(result="ok", method="sms") if name == "account_login" else None)
        batches.append(EventBatch.of(sub[owner], day, tp(name), prop))
    batches += _incident_events(rng, exp)
    batches += _loyalty_events(rng, pop, funnel, exp, up, clock)
    return batches


def _incident_events(rng: np.random.Generator, exp: Experience) -> list[EventBatch]:
    inc = exp.incidents
    crash = np.flatnonzero(inc.theme == D.THEME_INDEX["app_crashes"])
    crashes = EventBatch.of(inc.customer[crash], inc.day[crash], tp("tv_app"), props(crash=True))
    login = np.flatnonzero(inc.theme == D.THEME_INDEX["login_codes"])
    owner, _ = expand(rng.integers(D.EMERGING_FAILED_LOGINS[0], D.EMERGING_FAILED_LOGINS[1] + 1, login.size))
    failed = EventBatch.of(inc.customer[login][owner], inc.day[login][owner] + rng.uniform(0, 0.1, owner.size),
                           tp("account_login"), props(result="code_not_received", method="sms"))
    return [crashes, failed]


def _loyalty_events(rng: np.random.Generator, pop: Population, funnel: Funnel, exp: Experience, up: Upgrades,
                    clock: Clock) -> list[EventBatch]:
    sub = np.flatnonzero(funnel.converted)
    start = funnel.purchase_day[sub]
    end = exp.end_day(clock.horizon)[sub]
    join_p = 0.6 / (1.0 + np.exp(-1.5 * pop.z[sub]))
    join_day = start + D.LOYALTY_JOIN_DAYS + rng.exponential(30.0, sub.size)
    joins = (rng.random(sub.size) < join_p) & (join_day < end)
    renew_day = start + D.RENEWAL_OFFER_DAY
    renews = renew_day < end
    batches = [
        EventBatch.of(sub[joins], join_day[joins], tp("loyalty_rewards"), props(action="joined")),
        EventBatch.of(sub[renews], renew_day[renews], tp("renewal_offer"), props(offer="loyalty_discount")),
        EventBatch.of(up.customer, up.day, tp("plan_upgrade"),
                      np.array([props(to=D.PLANS[p].name) for p in up.plan.tolist()], dtype=object)),
    ]
    return batches + _advocacy_events(rng, exp, clock)


def _advocacy_events(rng: np.random.Generator, exp: Experience, clock: Clock) -> list[EventBatch]:
    s = exp.slots
    promoter = s.score >= 9
    detractor = s.score <= 6
    end = exp.end_day(clock.horizon)[s.customer]
    out = []
    for name, chance, mask, extra in (
        ("referral_program", D.REFERRAL_AFTER_PROMOTER, promoter, props(action="referred")),
        ("social_share", D.SOCIAL_SHARE_AFTER_PROMOTER, promoter, props(sentiment="positive")),
        ("review_posted", D.REVIEW_AFTER["promoter"], promoter, props(stars=5)),
        ("review_posted", D.REVIEW_AFTER["detractor"], detractor, props(stars=1)),
    ):
        day = s.submit_day + rng.exponential(10.0, s.customer.size)
        limit = end if name == "referral_program" else np.full(end.size, clock.horizon)
        hit = mask & (rng.random(s.customer.size) < chance) & (day <= limit)
        out.append(EventBatch.of(s.customer[hit], day[hit], tp(name), extra))
    return out
