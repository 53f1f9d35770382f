"""Sentiment: VADER 3.3.2 vs the cxlens lexicon path vs the embedding model, side by side in one run.

    python bench/text_sentiment.py                      # full ground truth (19,995 texts), prints markdown
    python bench/text_sentiment.py --limit 500 --json   # quicker: the first 500 texts of each file

Accuracy: Pearson r of each model's score with the mean human rating on the three files of
Hutto & Gilbert (2014) (``shared/datasets/vader-groundtruth``). The embedding model's default head
is trained on VADER's lexicon words and our anchor sentences, never on these files. Throughput:
texts per second over all texts (best of ``--repeat`` runs for VADER and the lexicon path; one
run for the embedding model, which dominates the time), each model in its own subprocess so that
its peak memory (max RSS) is its own. The embedding model uses both cores (torch); VADER and the
lexicon path one. The default head must be in the cache (or is trained first, not timed).

``run(...)`` returns the measurements and ``render(result)`` the markdown section, for
``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "vader-groundtruth"
FILES = {
    "tweets": "tweets_GroundTruth.txt",
    "movie reviews": "movieReviewSnippets_GroundTruth.txt",
    "NYT editorials": "nytEditorialSnippets_GroundTruth.txt",
}
MODELS = ("vader", "lexicon", "embedding")

STEP = """
import json, sys, time
sys.path.insert(0, sys.argv[4])
from text_sentiment import load, pearson
import numpy as np
model, data, limit, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[5])
corpora = load(data, limit)
texts = [t for c in corpora.values() for t in c[1]]
if model == "embedding":
    from cxlens.text.sentiment_model import EmbeddingSentiment, default_head
    scorer = EmbeddingSentiment(default_head())   # trained and cached first if needed: not timed
    scorer.predict(texts[:32])                    # loads the encoder: not timed
    fn = lambda: scorer.predict(texts).tolist()
    repeat = 1
else:
    from cxlens.text.sentiment import score
    kw = {"lexicon": "vader"} if model == "vader" else {}
    score(texts[:10], language="en", **kw)
    fn = lambda: [r.score for r in score(texts, language="en", **kw)]
seconds, values = float("inf"), None
for _ in range(repeat):
    t = time.perf_counter()
    values = fn()
    seconds = min(seconds, time.perf_counter() - t)
out, start = {}, 0
for name, (ratings, ts) in corpora.items():
    out[name] = pearson(ratings, values[start:start + len(ts)])
    start += len(ts)
extra = {}
if model == "lexicon":
    t = time.perf_counter()
    score(texts)
    extra["auto_language_per_s"] = len(texts) / (time.perf_counter() - t)
print(json.dumps({"pearson": out, "texts": len(texts), "seconds": seconds, **extra}))
"""


def load(data: str | Path, limit: int = 0) -> dict[str, tuple[list[float], list[str]]]:
    """{corpus: (mean human ratings, texts)}; ``limit`` > 0 keeps the first texts of each file."""
    out = {}
    for name, file in FILES.items():
        ratings, texts = [], []
        for line in (Path(data) / file).read_text(encoding="utf-8").splitlines():
            if line.strip():
                _, rating, text = line.split("\t", 2)
                ratings.append(float(rating))
                texts.append(text)
        if limit > 0:
            ratings, texts = ratings[:limit], texts[:limit]
        out[name] = (ratings, texts)
    return out


def pearson(x: list[float], y: list[float]) -> float:
    import numpy as np

    return float(np.corrcoef(np.asarray(x, dtype=float), np.asarray(y, dtype=float))[0, 1])


def _child(model: str, data: Path, limit: int, repeat: int) -> tuple[dict, float]:
    """Run one model in a fresh interpreter; its JSON output and its own peak RSS (MiB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", STEP, model, str(data), str(limit), str(ROOT / "bench"), str(repeat)],
            stdout=out, stderr=err, text=True, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sentiment benchmark step {model!r} failed:\n{stderr}")
    return json.loads(stdout.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def run(data: Path = DATA, limit: int = 0, repeat: int = 3) -> dict:
    """Measure the three models; raises SystemExit when the ground truth is missing."""
    if not (Path(data) / FILES["tweets"]).is_file():
        raise SystemExit(f"VADER ground truth not found in {data}: pass --data DIR "
                         "(the folder shared/datasets/vader-groundtruth).")
    result: dict = {"limit": limit}
    for model in MODELS:
        res, mem = _child(model, Path(data), limit, repeat)
        result[model] = {**res, "mem": mem, "per_s": res["texts"] / res["seconds"]}
        print(json.dumps({model: result[model]}), file=sys.stderr)
    return result


def render(result: dict) -> list[str]:
    vader, lexicon, emb = (result[m] for m in MODELS)
    lines = [
        "## Sentiment: lexicon path and embedding model vs VADER (issue: text analytics)",
        "",
        "Pearson r of the score with the mean human rating, Hutto & Gilbert (2014) ground truth"
        + (f" (first {result['limit']:,} texts of each file)" if result["limit"] else "") + ". "
        "The embedding model's default head is trained on VADER's lexicon words and our own anchor "
        "sentences, never on these texts.",
        "",
        "| corpus | texts | VADER 3.3.2 | cxlens lexicon | cxlens embedding |",
        "|---|---|---|---|---|",
    ]
    counts = {name: len(texts) for name, (_, texts) in load(DATA, result["limit"]).items()} if DATA.is_dir() else {}
    for name in FILES:
        count = f"{counts[name]:,}" if name in counts else ""
        lines.append(f"| {name} | {count} | {vader['pearson'][name]:.3f} | "
                     f"{lexicon['pearson'][name]:.3f} | {emb['pearson'][name]:.3f} |")
    lines += [
        "",
        f"Throughput on the {vader['texts']:,} texts (`language=\"en\"`) and peak memory of each process:",
        "",
        "| model | texts/s | vs VADER | peak MiB |",
        "|---|---|---|---|",
        f"| VADER 3.3.2 (baseline) | {vader['per_s']:,.0f} | 1.00 | {vader['mem']:.0f} |",
        f"| cxlens lexicon (target ≥ 5,000/s) | {lexicon['per_s']:,.0f} | {lexicon['per_s'] / vader['per_s']:.2f} "
        f"| {lexicon['mem']:.0f} |",
        f"| cxlens lexicon with language detection | {lexicon.get('auto_language_per_s', 0):,.0f} | "
        f"{lexicon.get('auto_language_per_s', 0) / vader['per_s']:.2f} | |",
        f"| cxlens embedding (2 cores) | {emb['per_s']:,.0f} | {emb['per_s'] / vader['per_s']:.3f} "
        f"| {emb['mem']:.0f} |",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="Folder of the VADER ground-truth files.")
    parser.add_argument("--limit", type=int, default=0, help="Texts per file (0: all).")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of VADER and the lexicon path (best is kept).")
    parser.add_argument("--json", action="store_true", help="Print the measurements as JSON, not markdown.")
    parser.add_argument("--out", type=Path, help="Also write the markdown section to this file.")
    args = parser.parse_args(argv)
    result = run(args.data, args.limit, args.repeat)
    text = "\n".join(render(result))
    print(json.dumps(result, indent=1) if args.json else text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
