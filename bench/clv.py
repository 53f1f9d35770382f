"""BG/NBD fit and prediction on N customers: cxlens vs lifetimes (same data, same process).

The data follow the BG/NBD generative process with the CDNOW parameters, so both fits should
recover roughly r = 0.243, alpha = 4.414, a = 0.793, b = 2.426.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np


def simulate(n: int, seed: int = 1, weeks: float = 39.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = np.round(rng.uniform(1, weeks, n) * 7) / 7
    freq = np.zeros(n)
    rec = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1 / lam[idx])
        bought = idx[t[idx] < T[idx]]
        freq[bought] += 1
        rec[bought] = t[bought]
        alive[idx[t[idx] >= T[idx]]] = False
        dies = bought[rng.random(bought.size) < p[bought]]
        alive[dies] = False
    rec = np.round(rec * 7) / 7  # purchases on whole days, like real data
    return freq, rec, T


def main(n: int) -> dict:
    freq, rec, T = simulate(n)
    from cxlens.clv import BetaGeoModel

    t0 = time.perf_counter()
    ours = BetaGeoModel().fit(freq, rec, T)
    t1 = time.perf_counter()
    ours.expected_purchases(39, freq, rec, T)
    ours.probability_alive(freq, rec, T)
    t2 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter

        t3 = time.perf_counter()
        theirs = BetaGeoFitter().fit(freq, rec, T)
        t4 = time.perf_counter()
        theirs.conditional_expected_number_of_purchases_up_to_time(39, freq, rec, T)
        theirs.conditional_probability_alive(freq, rec, T)
        t5 = time.perf_counter()
    return {
        "customers": n,
        "cxlens": {"fit": t1 - t0, "predict": t2 - t1, "params": ours.params_},
        "lifetimes": {"fit": t4 - t3, "predict": t5 - t4,
                      "params": {k: float(v) for k, v in theirs.params_.items()}},
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
