"""Language detection for theme routing: which comments are set apart, by language and length.

Theme discovery sets a comment apart (``lang-de``, ``lang-und``, ...) when its language is not
English (``cxlens.text.theme_languages``). Two errors matter, unequally:

- an **English comment set apart** vanishes from the themes (it must not happen);
- a **non-English comment not recognised** is clustered with the English ones and only adds a
  little noise to a theme.

Texts with a known language:

- **demo**: survey comments of the demo company (``DemoCompany``); each comment is written in its
  customer's answer language (``pop.language``, exported as ``responses.language``), so the truth
  needs no hand labelling. A comment whose words are also a comment of another language (``"ok"``,
  ``"Super!"``, ``"Excellent"``) cannot be told apart by anyone: it is counted as *shared* and left
  out of the recall;
- **held-out**: short comments written by hand for this evaluation in the seven languages of the
  detector, never used to choose its word lists (the demo grammar was: its figures flatter us);
- **English corpora** (when ``../shared/datasets`` is present): the tweets of the VADER ground
  truth (4,200 less 6 that are not in English) and the 10,003 banking77 queries, for English
  comments set apart.

Each candidate routes every text the way ``theme_languages`` does (non-Latin script ->
``lang-other``; fewer than two words -> clustered; mentions and links ignored); the libraries only
replace the language decision:

- ``cxlens``: :func:`cxlens.text.language.detect_language` as it is in the work tree (its model
  comes from py3langid: the install size is that package's);
- ``cxlens@REV`` (``--baseline REV``): the same module as committed at ``REV`` (read with ``git show``);
- ``lingua-*``: lingua-py restricted to our seven languages, high or low accuracy mode, with or
  without a minimum relative distance (``None`` -> clustered);
- ``py3langid>=p``: langid.py's bundled model restricted to our languages, normalised
  probabilities, a non-English answer below ``p`` -> clustered.

Recall is the share of a language's texts given their own language theme; "+k" counts those given
another language's theme (``lang-und`` included). Speed is the mean time per text over every text
of the run (one process, models loaded beforehand); install size is the size of the installed files
of the package (``importlib.metadata``).

``python bench/language_eval.py [--customers 20000] [--seed 42] [--baseline HEAD] [--out FILE]``
writes a Markdown report (stdout without ``--out``).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import re
import subprocess
import sys
import time
import types
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
OURS = ("en", "es", "de", "fr", "it", "pt", "nl")
BUCKETS = ("≤ 4", "5–8", "> 8")
CLUSTERED = "clustered"
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# Tweets of the VADER ground truth that are not in English (read one by one): Tagalog, Dutch,
# Norwegian and three Spanish ones. They are left out of "English texts set apart".
NOT_ENGLISH_TWEETS = frozenset({"1529", "1954", "2680", "3397", "3400", "3517"})

# Written by hand for this evaluation, apart from the demo grammar; not used to tune the detector.
HELD_OUT: dict[str, tuple[str, ...]] = {
    "de": (
        "Leider zu teuer.", "Nie wieder!", "Hat alles geklappt, danke.", "Schneller Versand, gerne wieder.",
        "Kundenservice nicht erreichbar.", "Ware kam beschädigt an.", "Preis-Leistung stimmt.",
        "Bin sehr enttäuscht.", "Warum dauert das so lange?", "Kann ich nur empfehlen.", "Alles bestens!",
        "Viel zu langsam.", "Rechnung stimmt nicht.", "Keine Antwort auf meine Mail.",
        "Immer wieder Probleme mit dem Login.", "Vielen Dank für die schnelle Hilfe!",
        "Zufrieden, aber etwas teuer.", "Lieferung hat zwei Wochen gedauert.",
        "Freundliche Mitarbeiter, gute Beratung.", "Geld zurück bitte!", "Das Paket ist nie angekommen.",
        "Geht so.", "Würde ich nicht weiterempfehlen.", "Top Service, weiter so!",
        "Mein Vertrag wurde ohne Grund gekündigt.", "Schlechte Erreichbarkeit am Telefon.",
        "Funktioniert einwandfrei.", "Warte seit Tagen auf Rückmeldung.", "Super schnell geliefert, danke!",
        "Der Router ist Schrott.",
    ),
    "fr": (
        "Trop cher pour ce que c'est.", "Jamais reçu ma commande.", "Service client injoignable.",
        "Rien à dire, parfait.", "Livraison rapide, merci !", "Je suis déçu.", "Pas terrible.",
        "Très satisfaite de mon achat.", "Le colis est arrivé abîmé.", "Toujours aucune réponse.",
        "Facture incorrecte.", "Bonne qualité, prix correct.", "Je recommande vivement !", "Beaucoup trop long.",
        "Impossible de me connecter.", "Conseiller très aimable.", "Plus jamais.", "Quel bazar !",
        "Remboursement toujours pas reçu.", "Ça marche bien.", "Bof, sans plus.", "Délai de livraison trop long.",
        "Application qui plante souvent.", "Merci pour votre aide.", "Rapport qualité-prix excellent.",
        "J'attends encore mon remboursement.", "Personne ne répond au téléphone.",
        "Produit conforme à la description.", "Très bonne expérience.", "Débit décevant le soir.",
    ),
    "es": (
        "Muy caro para lo que ofrece.", "Nunca llegó mi pedido.", "Todo perfecto, gracias.", "Envío rápido.",
        "Estoy muy decepcionado.", "No funciona.", "Atención al cliente pésima.", "Lo recomiendo.",
        "Tardaron demasiado.", "Buena calidad y buen precio.", "Sigo esperando el reembolso.",
        "Nadie contesta el teléfono.", "La factura está mal.", "Me cobraron dos veces.",
        "Excelente servicio, muy amables.", "No lo volveré a comprar.", "Llegó roto.", "Qué desastre.",
        "Bastante bien.", "Muy contenta con la compra.", "La aplicación se cuelga.", "Podría ser mejor.",
        "Ni bien ni mal.", "Gracias por la ayuda.", "Producto de mala calidad.", "Tuve que llamar tres veces.",
        "Rápido y fácil.", "Mucho mejor que antes.", "No me gustó nada.", "El router no sirve.",
    ),
    "it": (
        "Troppo caro.", "Spedizione veloce, grazie!", "Pessimo servizio clienti.", "Tutto perfetto.",
        "Non funziona.", "Sono molto deluso.", "Lo consiglio a tutti.", "Il pacco non è mai arrivato.",
        "Nessuna risposta.", "Ottimo rapporto qualità prezzo.", "Aspetto ancora il rimborso.",
        "Bravi, continuate così.", "Servizio lento e scortese.", "Molto soddisfatta.", "Mai più.",
        "L'app si blocca sempre.", "Fattura sbagliata.", "Personale gentile e disponibile.",
        "Non lo ricomprerei.", "Abbastanza bene.",
    ),
    "pt": (
        "Muito caro.", "Entrega rápida, obrigado!", "Péssimo atendimento.", "Tudo certo.", "Não funciona.",
        "Estou muito decepcionada.", "Recomendo a todos.", "O pedido nunca chegou.",
        "Nenhuma resposta até agora.", "Ótimo custo-benefício.", "Ainda aguardo o reembolso.",
        "Atendentes simpáticos.", "Demorou demais.", "Nunca mais compro aqui.", "O aplicativo trava sempre.",
        "Cobrança indevida na fatura.", "Gostei muito.", "Produto veio com defeito.", "Poderia ser melhor.",
        "Serviço excelente, parabéns.",
    ),
    "nl": (
        "Veel te duur.", "Snelle levering, bedankt!", "Slechte klantenservice.", "Alles prima.", "Werkt niet.",
        "Ik ben erg teleurgesteld.", "Zeker een aanrader.", "Pakket nooit ontvangen.",
        "Nog steeds geen antwoord.", "Goede prijs-kwaliteitverhouding.", "Wacht nog op mijn terugbetaling.",
        "Vriendelijk personeel.", "Duurde veel te lang.", "Nooit meer.", "De app crasht steeds.",
        "Factuur klopt niet.", "Heel tevreden.", "Product was kapot.", "Kan beter.", "Top service, dank je wel.",
    ),
    # Short English remarks, several with names, product words or a foreign courtesy word.
    "en": (
        "ok", "Thanks!", "super", "Top", "merci", "Merci, great service!", "Super fast delivery",
        "Top notch support", "Excellent", "Perfect", "Meh", "Not bad", "Could be better", "Love it!",
        "Terrible", "No complaints", "Too expensive", "Great value", "Slow delivery", "Bad app",
        "Customer service was rude", "Nice", "Dave was brilliant", "Maria in support was fantastic",
        "Jürgen sorted it out quickly", "François was very helpful", "José fixed my router",
        "Router keeps dropping", "Fibre 500 plan is great", "Premium plan too pricey", "App crashes",
        "Login code never arrives", "Bill wrong again", "Refund please", "Cancel my subscription",
        "Gracias amigo, you saved me", "Danke, all good now", "Ciao for now, great job", "Bravo team!",
        "Voila, fixed", "Adios, switching provider", "Kudos to the team", "Thx", "gr8 service", "5 stars",
        "10/10", "Pronto service please", "Déjà vu: billing error again", "No no no", "Si, it works now",
        "Hasta la vista, Telco, switching today", "Chapeau!", "Fiasco", "Le Creuset pan arrived damaged",
        "La Liga stream froze", "De facto no support", "Die hard fan of your service", "The app is kaput",
        "Merci beaucoup Chloé, you were great", "Pedro at the desk was super", "Top service from Lukas",
        "Fire Stick app fine now", "Business Fibre is solid", "Fibre 1000 + TV worth it",
        "Enterprise Connect uptime ok", "Good", "Fine", "Great job guys", "Super service", "Rubbish",
    ),
}


@dataclass(frozen=True)
class Sample:
    text: str
    language: str
    bucket: str
    shared: bool = False  # the same words are a text of another language too


@dataclass(frozen=True)
class Candidate:
    name: str
    route: Callable[[str], str]  # CLUSTERED or a language theme id ("lang-de", "lang-und", "lang-other")
    package: str | None = None  # the distribution to measure, for libraries


# ----------------------------------------------------------------------------------------------- texts


def bucket(text: str) -> str:
    n = len(_WORD.findall(text))
    return BUCKETS[0] if n <= 4 else BUCKETS[1] if n <= 8 else BUCKETS[2]


def _words_key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def demo_samples(customers: int, seed: int) -> list[Sample]:
    """Survey comments of the demo company with the language each was composed in."""
    from cxlens.demo import DemoCompany

    company = DemoCompany(customers, seed, now=datetime(2026, 11, 1, tzinfo=UTC))
    rows: list[tuple[str, str]] = []
    for chunk in company.chunks():
        table = chunk.tables.get("responses")
        if table is not None:
            rows += [(r["comment"], r["language"]) for r in table.select(["comment", "language"]).to_pylist()
                     if r["comment"]]
    languages_of: dict[str, set[str]] = {}
    for text, lang in rows:
        languages_of.setdefault(_words_key(text), set()).add(lang)
    return [Sample(text, lang, bucket(text), len(languages_of[_words_key(text)]) > 1) for text, lang in rows]


def held_out_samples() -> list[Sample]:
    return [Sample(text, lang, bucket(text)) for lang, texts in HELD_OUT.items() for text in texts]


def english_corpora() -> dict[str, list[Sample]]:
    """English-only public corpora (empty when the shared datasets are not there)."""
    out: dict[str, list[Sample]] = {}
    tweets = DATASETS / "vader-groundtruth" / "tweets_GroundTruth.txt"
    if tweets.exists():
        rows = [ln.split("\t", 2) for ln in tweets.read_text(encoding="utf-8", errors="replace").splitlines()]
        out["VADER tweets"] = [Sample(r[-1], "en", bucket(r[-1])) for r in rows
                               if r[-1] and r[0] not in NOT_ENGLISH_TWEETS]
    banking = DATASETS / "banking77" / "train.csv"
    if banking.exists():
        with banking.open(encoding="utf-8") as f:
            out["banking77"] = [Sample(r["text"], "en", bucket(r["text"])) for r in csv.DictReader(f)]
    return out


# ----------------------------------------------------------------------------------------------- candidates


def _cxlens_router(module: types.ModuleType) -> Callable[[str], str]:
    """The routing rule of ``theme_languages`` over a given ``language`` module."""

    def route(text: str) -> str:
        guess = module.detect_language(text)
        if guess.code != "und":
            return CLUSTERED if guess.code == "en" else "lang-" + guess.code
        if guess.script == "other":
            return "lang-other"
        if not (guess.reason or "").startswith("unclear"):
            return CLUSTERED
        best = module.detect_language(text, min_confidence=0.0).code
        return CLUSTERED if best in ("en", "und") else "lang-und"

    return route


def _module_at(rev: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{rev}:src/cxlens/text/language.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("language_at_" + re.sub(r"\W", "_", rev))
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{rev}:language.py", "exec"), module.__dict__)  # noqa: S102 - our own file from git
    return module


def _pre_route(text: str) -> tuple[str | None, str]:
    """The rules every candidate shares: (decided route or None, the words the library sees)."""
    from cxlens.text import language as lang

    if not text.strip():
        return CLUSTERED, ""
    script = lang._script(text)
    if script != "latin":
        return ("lang-other" if script == "other" else CLUSTERED), ""
    words = _WORD.findall(lang._NOISE.sub(" ", text))
    return (CLUSTERED, "") if len(words) < 2 else (None, " ".join(words))


def _library_router(decide: Callable[[str], str | None]) -> Callable[[str], str]:
    def route(text: str) -> str:
        fixed, cleaned = _pre_route(text)
        if fixed is not None:
            return fixed
        code = decide(cleaned)
        return CLUSTERED if code in (None, "en") else f"lang-{code}"

    return route


def lingua_candidates() -> list[Candidate]:
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    except ImportError:
        print("lingua-language-detector is not installed: skipped", file=sys.stderr)
        return []
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in OURS]
    out = []
    for name, low, distance, floor in (("lingua-high", False, 0.0, 0.0), ("lingua-low", True, 0.0, 0.0),
                                       ("lingua-high rd=0.25", False, 0.25, 0.0),
                                       ("lingua-high p≥0.7", False, 0.0, 0.7)):
        builder = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
        if low:
            builder = builder.with_low_accuracy_mode()
        if distance:
            builder = builder.with_minimum_relative_distance(distance)
        detector = builder.build()

        def decide(text: str, detector: object = detector, floor: float = floor) -> str | None:
            if floor:
                best = detector.compute_language_confidence_values(text)[0]  # type: ignore[attr-defined]
                return best.language.iso_code_639_1.name.lower() if best.value >= floor else None
            found = detector.detect_language_of(text)  # type: ignore[attr-defined]
            return None if found is None else found.iso_code_639_1.name.lower()

        out.append(Candidate(name, _library_router(decide), "lingua-language-detector"))
    return out


def py3langid_candidates() -> list[Candidate]:
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError:
        print("py3langid is not installed: skipped", file=sys.stderr)
        return []
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(OURS))
    out = []
    for threshold in (0.5, 0.9):
        def decide(text: str, threshold: float = threshold) -> str | None:
            code, p = identifier.classify(text)
            return code if p >= threshold else None

        out.append(Candidate(f"py3langid≥{threshold}", _library_router(decide), "py3langid"))
    return out


def candidates(baseline: str | None) -> list[Candidate]:
    from cxlens.text import language

    out = []
    if baseline:
        out.append(Candidate(f"cxlens@{baseline}", _cxlens_router(_module_at(baseline))))
    out.append(Candidate("cxlens", _cxlens_router(language), "py3langid"))
    return out + lingua_candidates() + py3langid_candidates()


# ----------------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Cell:
    n: int
    own: int  # given their own language theme (non-English) / set apart (English)
    other: int  # non-English given another language's theme

    def show(self, english: bool) -> str:
        if self.n == 0:
            return "–"
        if english:
            return f"{self.own}/{self.n}"
        extra = f" +{self.other}" if self.other else ""
        return f"{100 * self.own / self.n:.0f}% ({self.own}/{self.n}){extra}"


def score(samples: Sequence[Sample], routes: Sequence[str]) -> dict[tuple[str, str], Cell]:
    """Per (language, bucket) and (language, "all"): counts over the samples that are not shared."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for s, r in zip(samples, routes, strict=True):
        if s.shared:
            continue
        kind = ("own" if r != CLUSTERED else "n") if s.language == "en" else (
            "own" if r == f"lang-{s.language}" else "n" if r == CLUSTERED else "other")
        for b in (s.bucket, "all"):
            counts[(s.language, b, kind)] += 1
    out = {}
    for lang in OURS:
        for b in (*BUCKETS, "all"):
            own, other, rest = (counts[(lang, b, k)] for k in ("own", "other", "n"))
            out[(lang, b)] = Cell(own + other + rest, own, other)
    return out


def run(cands: Sequence[Candidate], samples: Sequence[Sample]) -> tuple[list[list[str]], list[float]]:
    routes, seconds = [], []
    for c in cands:
        c.route("warm up: load the model")
        start = time.perf_counter()
        routes.append([c.route(s.text) for s in samples])
        seconds.append(time.perf_counter() - start)
    return routes, seconds


def table(title: str, cands: Sequence[Candidate], samples: Sequence[Sample], routes: Sequence[list[str]],
          languages: Iterable[str]) -> list[str]:
    scores = [score(samples, r) for r in routes]
    lines = [f"### {title}", "", "| language | words | " + " | ".join(c.name for c in cands) + " |",
             "|---|---|" + "---|" * len(cands)]
    for lang in languages:
        for b in (*BUCKETS, "all"):
            if scores[0][(lang, b)].n == 0:
                continue
            label = f"**{lang}** set apart" if lang == "en" else f"**{lang}**"
            lines.append(f"| {label} | {b} | " + " | ".join(s[(lang, b)].show(lang == "en") for s in scores) + " |")
    shared = sum(s.shared for s in samples)
    if shared:
        lines += ["", f"{shared} texts whose words are also a text of another language (\"ok\", \"Super!\") are "
                  "left out."]
    return lines + [""]


def english_table(cands: Sequence[Candidate], corpora: dict[str, list[Sample]],
                  results: dict[str, list[list[str]]]) -> list[str]:
    lines = ["### English corpora: texts set apart", "", "| corpus | texts | " + " | ".join(c.name for c in cands)
             + " |", "|---|---|" + "---|" * len(cands)]
    for name, samples in corpora.items():
        cells = [str(sum(r != CLUSTERED for r in routes)) for routes in results[name]]
        lines.append(f"| {name} | {len(samples)} | " + " | ".join(cells) + " |")
    return lines + [""]


def misrouted_examples(cands: Sequence[Candidate], samples: Sequence[Sample], routes: Sequence[list[str]],
                       limit: int = 8) -> list[str]:
    lines = []
    for c, rs in zip(cands, routes, strict=True):
        bad = [(s.text, r) for s, r in zip(samples, rs, strict=True) if s.language == "en" and r != CLUSTERED]
        if bad:
            shown = "; ".join(f"{t[:60]!r} → {r}" for t, r in bad[:limit])
            lines.append(f"- {c.name}: {shown}")
    return lines


def install_size(package: str | None) -> str:
    if package is None:
        return "0 (part of cxlens)"
    try:
        files = importlib.metadata.distribution(package).files or []
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
    size = sum(f.locate().stat().st_size for f in files if f.locate().exists())
    return f"{size / 1e6:.1f} MB"


def report(customers: int, seed: int, baseline: str | None) -> str:
    cands = candidates(baseline)
    demo, held = demo_samples(customers, seed), held_out_samples()
    corpora = english_corpora()
    demo_routes, demo_s = run(cands, demo)
    held_routes, held_s = run(cands, held)
    results, corpus_s = {}, [0.0] * len(cands)
    for name, samples in corpora.items():
        results[name], secs = run(cands, samples)
        corpus_s = [a + b for a, b in zip(corpus_s, secs, strict=True)]
    total = len(demo) + len(held) + sum(len(s) for s in corpora.values())
    lines = [f"## Language detection ({customers} demo customers, seed {seed})", ""]
    lines += table(f"Demo comments ({len(demo)}): recall per language (+ wrong language), English set apart",
                   cands, demo, demo_routes, ("de", "fr", "es", "en"))
    lines += table(f"Held-out hand-written comments ({len(held)})", cands, held, held_routes, OURS[1:] + ("en",))
    if corpora:
        lines += english_table(cands, corpora, results)
    bad = misrouted_examples(cands, demo + held + [s for v in corpora.values() for s in v],
                             [a + b + [r for name in corpora for r in results[name][i]]
                              for i, (a, b) in enumerate(zip(demo_routes, held_routes, strict=True))])
    if bad:
        lines += ["English texts set apart (first ones):", "", *bad, ""]
    lines += ["### Cost", "", "| candidate | µs per text | install size |", "|---|---|---|"]
    for i, c in enumerate(cands):
        us = 1e6 * (demo_s[i] + held_s[i] + corpus_s[i]) / total
        lines.append(f"| {c.name} | {us:.0f} | {install_size(c.package)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000, help="demo company size (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="demo seed (default 42)")
    parser.add_argument("--baseline", help="also evaluate language.py as committed at this git revision")
    parser.add_argument("--out", type=Path, help="write the Markdown report here (default: stdout)")
    args = parser.parse_args()
    text = report(args.customers, args.seed, args.baseline)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
