"""The planted truths of the demo company, computed from the design (never from generated rows).

Expected values are exact for the latent model where the text says so, and otherwise first-order
approximations (they ignore, for example, that detractors leave and so later surveys come from a
slightly happier base); tests compare the data with them within tolerances.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from scipy.stats import norm

from cxlens.demo import design as D
from cxlens.demo.journey import Clock
from cxlens.demo.language import match_terms

_CATEGORIES = ("detractor", "passive", "promoter")


def _r(x: float, digits: int = 4) -> float:
    return float(round(float(x), digits))


# --------------------------------------------------------------------------------------------------
# Relationship NPS under the latent model
# --------------------------------------------------------------------------------------------------


def _segments(segment: str | None) -> list[tuple[float, float]]:
    """(weight, latent mean) of the segment mixture (or one segment)."""
    pairs = list(zip(D.SEGMENT_WEIGHTS, D.SEGMENT_SATISFACTION, strict=True))
    if segment is not None:
        w, m = pairs[D.SEGMENTS.index(segment)]
        return [(1.0, m)]
    return pairs


def _nps_moments(shifts: list[tuple[float, float]], segment: str | None = None) -> dict[str, float]:
    """Category shares, NPS and mean score of a mixture of latent shifts (probability, shift).

    The answer is ``floor(a + b u + 0.5)`` clipped to 0..10, so it is at least ``k`` exactly when
    ``u >= (k - 0.5 - a) / b``.
    """
    sd = math.sqrt(1.0 + D.NPS_NOISE ** 2)
    prob = np.array([p for p, _ in shifts])
    shift = np.array([s for _, s in shifts])
    seg = _segments(segment)
    weight = (prob[:, None] * np.array([w for w, _ in seg])[None, :]).ravel()
    weight = weight / weight.sum()
    mean = (shift[:, None] + np.array([m for _, m in seg])[None, :]).ravel()
    k = np.arange(1, 11)
    at_least = norm.sf((((k - 0.5 - D.NPS_INTERCEPT) / D.NPS_SLOPE)[None, :] - mean[:, None]) / sd)
    prom = float(weight @ at_least[:, 8])
    det = float(weight @ (1.0 - at_least[:, 6]))
    return {"detractor": det, "passive": 1.0 - det - prom, "promoter": prom, "nps": 100.0 * (prom - det),
            "mean_score": float(weight @ at_least.sum(axis=1))}


def _combos(themes: tuple[str, ...]) -> list[tuple[dict[str, bool], float, float]]:
    """Every combination of experienced themes in a period: (flags, probability, latent shift)."""
    spec = [D.THEMES[D.THEME_INDEX[t]] for t in themes]
    out = []
    for flags in itertools.product((False, True), repeat=len(spec)):
        prob = math.prod(t.period_probability if f else 1.0 - t.period_probability for t, f in zip(spec, flags,
                                                                                                 strict=True))
        shift = sum(t.nps_effect for t, f in zip(spec, flags, strict=True) if f)
        out.append((dict(zip(themes, flags, strict=True)), prob, shift))
    return out


def _theme_effects(themes: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    combos = _combos(themes)
    overall = _nps_moments([(p, s) for _, p, s in combos])
    out = {}
    for name in themes:
        theme = D.THEMES[D.THEME_INDEX[name]]
        with_t = _nps_moments([(p, s) for f, p, s in combos if f[name]])
        without = _nps_moments([(p, s) for f, p, s in combos if not f[name]])
        share = {c: theme.period_probability * with_t[c] / overall[c] for c in _CATEGORIES}
        out[name] = {
            "nps_latent_effect": theme.nps_effect,
            "expected_nps_score_effect": _r(with_t["mean_score"] - without["mean_score"], 3),
            "expected_nps_effect": _r(with_t["nps"] - without["nps"], 2),
            "expected_share_experienced": {c: _r(share[c]) for c in _CATEGORIES},
            "expected_share_of_comments_mentioning": {
                c: _r(share[c] * theme.mention_probability) for c in _CATEGORIES},
        }
    return out


# --------------------------------------------------------------------------------------------------
# Post-ticket CSAT
# --------------------------------------------------------------------------------------------------


def _csat_top_box(channel: str, hours: np.ndarray) -> np.ndarray:
    sd = math.sqrt(1.0 + D.TICKET_CSAT_NOISE ** 2)
    threshold = D.CSAT_CUTS[D.CSAT_TOP_BOX - 2]
    reopen = np.where(hours > D.REOPEN_HOURS, D.REOPEN_PROBABILITY[1], D.REOPEN_PROBABILITY[0])
    base = D.TICKET_CHANNEL_EFFECT[channel] + D.RESOLUTION_EFFECT * np.log2(hours / D.RESOLUTION_REFERENCE_HOURS)
    out = np.zeros_like(hours, dtype=float)
    for w, m in _segments(None):
        out += w * ((1 - reopen) * norm.sf((threshold - m - base) / sd)
                    + reopen * norm.sf((threshold - m - base - D.REOPENED_EFFECT) / sd))
    return out


def _csat_by_channel() -> dict[str, float]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(48)
    weights = weights / weights.sum()
    out = {}
    for channel in D.TICKET_CHANNELS:
        median, sigma = D.RESOLUTION[channel]
        out[channel] = _r(float(np.sum(weights * _csat_top_box(channel, median * np.exp(sigma * nodes)))))
    return out


# --------------------------------------------------------------------------------------------------
# Planted truths
# --------------------------------------------------------------------------------------------------


def _churn_truth() -> dict[str, Any]:
    rates = D.CHURN_AFTER_SURVEY
    return {
        "survey_id": "nps-relationship",
        "window_days": D.PERIOD_DAYS,
        "churn_rate_by_category": dict(rates),
        "detractor_churn_rate": rates["detractor"],
        "promoter_churn_rate": rates["promoter"],
        "designed_margin": _r(rates["detractor"] - rates["promoter"]),
        "rate_ratio": _r(rates["detractor"] / rates["promoter"], 2),
        "early_churn": {"probability": dict(D.EARLY_CHURN), "days_after_installation": list(D.EARLY_CHURN_DAYS)},
        "how_to_check": "For relationship NPS responses submitted at least 120 days before now, the share "
                        "whose customer's subscription ended (ended_at of the customer's latest "
                        "subscription period) within 120 days after submitted_at, by NPS category.",
    }


def _theme_truth() -> dict[str, Any]:
    effects = _theme_effects(D.PERIOD_THEMES)
    effects.update({k: v for k, v in _theme_effects(D.PERIOD_THEMES + D.ONBOARDING_THEMES).items()
                    if k in D.ONBOARDING_THEMES})
    return {
        "survey_id": "nps-relationship",
        "drivers_of_detractors": ["billing_errors", "app_crashes"],
        "effects": effects,
        "note": "Expected values are for a survey closing a full 120-day period of a customer of the segment "
                "mix, before churn thins out the unhappy. The first survey covers 45 days, so over all surveys "
                "the observed shares are somewhat lower; the ordering between categories holds.",
        "how_to_check": "Among nps-relationship comments, the share matching a theme's match strings "
                        "(any language, case-insensitive) among detractors (0-6) versus promoters (9-10); "
                        "and the mean NPS of responses whose comment mentions the theme versus the rest.",
    }


def _checkout_comment_share(broken: bool) -> float:
    sd = math.sqrt(D.CHECKOUT_Z_WEIGHT ** 2 + D.CHECKOUT_NOISE ** 2)
    fail = 1.0 - (D.BROKEN_CONVERSION if broken else D.CHECKOUT_CONVERSION[0])
    effect = D.CHECKOUT_FAILED_EFFECT + (D.CHECKOUT_BROKEN_EXTRA_EFFECT if broken else 0.0)
    mention = D.CHECKOUT_COMMENT_MENTION["broken" if broken else "normal"]

    def comment_rate(shift: float) -> float:
        low = sum(w * norm.cdf((D.CES_CUTS[3] - D.CHECKOUT_Z_WEIGHT * m - shift) / sd) for w, m in _segments(None))
        return D.COMMENT_RATE_LOW * low + D.COMMENT_RATE_HIGH * (1 - low)

    failed, ok = fail * comment_rate(effect), (1 - fail) * comment_rate(0.0)
    return _r(failed * mention / (failed + ok))


def _broken_truth(clock: Clock) -> dict[str, Any]:
    outside = D.CHECKOUT_CONVERSION[D.CHECKOUT_TOUCHPOINTS.index(D.BROKEN_TOUCHPOINT)]
    return {
        "touchpoint": D.BROKEN_TOUCHPOINT,
        "stage": "Purchase",
        "next_stage": "Onboarding",
        "start": clock.moment(clock.broken_start).isoformat(),
        "end": clock.moment(clock.broken_end).isoformat(),
        "conversion_inside": D.BROKEN_CONVERSION,
        "conversion_outside": outside,
        "drop_off_inside": _r(1 - D.BROKEN_CONVERSION),
        "drop_off_outside": _r(1 - outside),
        "error_property": {"step": "failed", "error": "HTTP_500"},
        "ticket_probability_after_failure": dict(D.CHECKOUT_TICKET_PROBABILITY),
        "ticket_topic": "checkout",
        "complaint_theme": "checkout_failure",
        "expected_complaint_share_of_ces_comments": {"inside": _checkout_comment_share(True),
                                                     "outside": _checkout_comment_share(False)},
        "how_to_check": "Customers whose web_checkout interaction falls in [start, end) reach Onboarding "
                        "(any Onboarding interaction) far less often than those outside; tickets with "
                        "topic 'checkout' per day and checkout-failure mentions in ces-checkout comments "
                        "of web_checkout rise inside the window.",
    }


def _ticket_rate_per_day() -> dict[str, float]:
    """Approximate tickets per subscribed customer per day, by source."""
    rates = {}
    for t in D.THEMES:
        if t.scope == "period" and t.ticket_probability > 0:
            rates[t.name] = -math.log(1 - t.period_probability) / D.PERIOD_DAYS * t.ticket_probability
    rates["general"] = D.GENERAL_TICKETS_PER_YEAR / 365.0
    return rates


def _emerging_truth(clock: Clock) -> dict[str, Any]:
    theme = D.THEMES[D.THEME_INDEX[D.EMERGING_THEME]]
    rates = _ticket_rate_per_day()
    base_login = rates[D.EMERGING_THEME]
    others = sum(v for k, v in rates.items() if k != D.EMERGING_THEME)
    wave = D.EMERGING_PROBABILITY * D.EMERGING_TICKET_PROBABILITY / D.EMERGING_DAYS
    return {
        "theme": D.EMERGING_THEME,
        "label": theme.label,
        "keywords": list(theme.keywords),
        "match": {k: list(v) for k, v in match_terms(D.EMERGING_THEME).items()},
        "start": clock.moment(clock.emerging_start).isoformat(),
        "days": D.EMERGING_DAYS,
        "probability_per_subscriber_in_window": D.EMERGING_PROBABILITY,
        "baseline_probability_per_120_days": theme.period_probability,
        "ticket_probability": D.EMERGING_TICKET_PROBABILITY,
        "ticket_topic": theme.ticket_topic,
        "comment_mention_probability_after_ticket": D.EMERGING_TICKET_MENTION,
        "failed_login_property": {"result": "code_not_received"},
        "expected_ticket_share_in_window": _r((wave + base_login) / (wave + base_login + others), 3),
        "expected_ticket_share_before": _r(base_login / (base_login + others), 4),
        "how_to_check": "Share of tickets with topic 'login' (or of comments matching the match strings) "
                        "created in the last 7 days versus before; failed account_login interactions.",
    }


def _segment_channel_truth() -> dict[str, Any]:
    combos = _combos(D.PERIOD_THEMES)
    shifts = [(p, s) for _, p, s in combos]
    nps = {seg: _r(_nps_moments(shifts, seg)["nps"], 2) for seg in D.SEGMENTS}
    csat = _csat_by_channel()
    return {
        "segment_latent_shift": dict(zip(D.SEGMENTS, D.SEGMENT_SATISFACTION, strict=True)),
        "expected_relationship_nps_by_segment": nps,
        "enterprise_minus_consumer_nps": _r(nps["enterprise"] - nps["consumer"], 2),
        "ticket_channel_latent_effect": dict(D.TICKET_CHANNEL_EFFECT),
        "expected_support_csat_top_box_by_channel": csat,
        "phone_minus_chat_top_box": _r(csat["phone"] - csat["chat"]),
        "how_to_check": "Relationship NPS by customers.segment; csat-support top-box (4-5) share by "
                        "responses.channel (equal to the ticket channel).",
    }


def _resolution_truth() -> dict[str, Any]:
    hours = np.array([2.0, 8.0, 24.0, 72.0, 168.0])
    return {
        "survey_id": "csat-support",
        "latent_effect_per_doubling_of_resolution_hours": D.RESOLUTION_EFFECT,
        "reference_hours": D.RESOLUTION_REFERENCE_HOURS,
        "reopened_latent_effect": D.REOPENED_EFFECT,
        "expected_top_box_on_chat_by_resolution_hours": {
            str(int(h)): _r(v) for h, v in zip(hours, _csat_top_box("chat", hours), strict=True)},
        "how_to_check": "Join csat-support responses to the customer's ticket resolved just before "
                        "submitted_at; CSAT falls as resolved_at - created_at grows.",
    }


def _themes_catalogue() -> dict[str, Any]:
    return {
        t.name: {
            "label": t.label, "polarity": t.polarity, "keywords": list(t.keywords),
            "match": {k: list(v) for k, v in match_terms(t.name).items()}, "scope": t.scope,
            "nps_latent_effect": t.nps_effect, "period_probability": t.period_probability,
            "ticket_probability": t.ticket_probability, "ticket_topic": t.ticket_topic,
            "mention_probability": t.mention_probability,
        }
        for t in D.THEMES
    }


def _journey() -> dict[str, Any]:
    outside = sum(w * c for w, c in zip(D.CHECKOUT_WEIGHTS, D.CHECKOUT_CONVERSION, strict=True))
    return {
        "stages": list(D.STAGES),
        "touchpoints": [{"touchpoint": t.name, "stage": t.stage, "channel": t.channel, "direct": t.direct,
                         "description": t.description} for t in D.TOUCHPOINTS],
        "funnel": {
            "consideration_probability": D.CONSIDERATION_PROBABILITY,
            "checkout_probability_after_consideration": D.CHECKOUT_PROBABILITY,
            "checkout_touchpoints": dict(zip(D.CHECKOUT_TOUCHPOINTS, D.CHECKOUT_WEIGHTS, strict=True)),
            "conversion_by_checkout": dict(zip(D.CHECKOUT_TOUCHPOINTS, D.CHECKOUT_CONVERSION, strict=True)),
            "expected_purchase_share_of_customers": _r(D.CONSIDERATION_PROBABILITY * D.CHECKOUT_PROBABILITY
                                                       * outside),
            "note": "The customers table holds every account first seen, prospects included; only "
                    "converted customers have subscriptions, orders and onboarding events.",
        },
    }


def _clv() -> dict[str, Any]:
    bg, gg = D.BGNBD, D.GAMMA_GAMMA
    return {
        "bgnbd": {**bg, "time_unit": "days", "mean_purchase_rate_per_day": _r(bg["r"] / bg["alpha"], 6),
                  "mean_dropout_probability": _r(bg["a"] / (bg["a"] + bg["b"])),
                  "first_purchase": "the order placed at the purchase (subscriptions.started_at of the first "
                                    "period); repeat orders follow; all orders count whatever their status"},
        "gamma_gamma": {**gg, "mean_order_value": _r(gg["p"] * gg["gamma"] / (gg["q"] - 1), 2),
                        "currency": D.CURRENCY},
        "independent_of_experience": True,
    }


def build_truths(customers: int, seed: int, chunk_customers: int, clock: Clock) -> dict[str, Any]:
    """Everything planted in the demo company, JSON-serialisable."""
    native = sum(w for c, w in zip(D.COUNTRIES, D.COUNTRY_WEIGHTS, strict=True) if c in D.COUNTRY_LANGUAGE)
    return {
        "generator": "cxlens.demo",
        "version": D.GENERATOR_VERSION,
        "seed": seed,
        "customers": customers,
        "chunk_customers": chunk_customers,
        "now": clock.now.isoformat(),
        "window_start": clock.moment(0.0).isoformat(),
        "timezone": "UTC",
        "company": {"name": D.COMPANY, "business": "home broadband and streaming TV subscriptions, with a "
                    "store for rentals, add-ons and devices", "currency": D.CURRENCY,
                    "segments": dict(zip(D.SEGMENTS, D.SEGMENT_WEIGHTS, strict=True)),
                    "countries": dict(zip(D.COUNTRIES, D.COUNTRY_WEIGHTS, strict=True)),
                    "plans": [{"plan": p.name, "segment": p.segment, "mrr": p.mrr, "per_seat": p.per_seat}
                              for p in D.PLANS]},
        "scales": {
            "nps": {"min": 0, "max": 10, "promoters": [9, 10], "detractors": [0, 6]},
            "csat": {"min": 1, "max": 5, "top_box_min": D.CSAT_TOP_BOX},
            "ces": {"min": 1, "max": 7, "direction": "higher_is_easier"},
            "ratings": {"columns": ["q_value", "q_reliability", "q_delivery"], "min": 1, "max": 5},
        },
        "surveys": {k: {"touchpoints": v[0].split("|"), "description": v[1],
                        "response_rate": D.RESPONSE_RATE[k.split("-")[1]]}
                    for k, v in D.SURVEYS.items()},
        "languages": {"codes": list(D.LANGUAGES), "native_answer_share": D.NATIVE_ANSWER_SHARE,
                      "expected_non_english_share": _r(native * D.NATIVE_ANSWER_SHARE)},
        "journey": _journey(),
        "themes": _themes_catalogue(),
        "latent_model": {
            "satisfaction": "z ~ N(segment shift, 1) per customer",
            "nps": {"formula": "clip(floor(intercept + slope * (z + theme effects + N(0, noise)) + 0.5), 0, 10)",
                    "intercept": D.NPS_INTERCEPT, "slope": D.NPS_SLOPE, "noise": D.NPS_NOISE,
                    "period_days": D.PERIOD_DAYS, "first_survey_days": D.FIRST_SURVEY_DAYS},
            "csat_cuts": list(D.CSAT_CUTS), "ces_cuts": list(D.CES_CUTS),
            "ratings": {"z_weight": D.RATING_Z_WEIGHT, "intercept": D.RATING_INTERCEPT, "noise": D.RATING_NOISE,
                        "effects": D.RATING_EFFECTS},
        },
        "planted": {
            "detractor_churn": _churn_truth(),
            "theme_drivers": _theme_truth(),
            "broken_touchpoint": _broken_truth(clock),
            "emerging_issue": _emerging_truth(clock),
            "segment_channel": _segment_channel_truth(),
            "resolution_csat": _resolution_truth(),
        },
        "tickets": {
            "channels": dict(zip(D.TICKET_CHANNELS, D.TICKET_CHANNEL_WEIGHTS, strict=True)),
            "first_response_hours_lognormal": {k: {"median": m, "sigma": s} for k, (m, s) in D.FIRST_RESPONSE.items()},
            "resolution_hours_lognormal": {k: {"median": m, "sigma": s} for k, (m, s) in D.RESOLUTION.items()},
            "topic_multiplier": dict(D.TOPIC_MULTIPLIER),
            "abandoned_probability": D.ABANDONED_TICKET_PROBABILITY,
            "reopen_probability": {"up_to_72h": D.REOPEN_PROBABILITY[0], "over_72h": D.REOPEN_PROBABILITY[1]},
        },
        "clv": _clv(),
    }
