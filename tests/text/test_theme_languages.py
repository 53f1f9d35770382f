"""Comments not in English are not clustered with the English ones: a theme per language, counted and shown.

The English-only encoder would group such comments by language; here each gets its language's
theme (``lang-de``, ...), they are never dropped, the CLI notes their counts on stderr, and new
texts are routed the same way.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_subthemes import OPTIONS, corpus

import cxlens
from cxlens.errors import CxlensInputError
from cxlens.text import theme_languages as langs
from cxlens.text.cli_themes import themes as themes_command
from cxlens.text.theme_fit import FitOptions
from cxlens.text.themes import discover_themes, fit_themes, rename_theme, theme_assignments, theme_summary

NOW = datetime(2026, 11, 1, tzinfo=UTC)
GERMAN = [
    "Die Rechnung ist schon wieder falsch und niemand hilft mir.",
    "Ich warte seit drei Wochen auf meine Rückerstattung.",
    "Die App stürzt jedes Mal ab, wenn ich mich anmelden will.",
    "Der Techniker ist nicht gekommen, ich habe den ganzen Tag gewartet.",
    "Das Internet ist am Abend sehr langsam.",
    "Mir wurde der Betrag doppelt abgebucht, das ist eine Frechheit.",
    "Der Kundenservice war sehr freundlich und hat mir schnell geholfen.",
    "Ich bekomme keinen Code per SMS und kann mich nicht einloggen.",
    "Die Verbindung bricht ständig ab, bitte kümmern Sie sich darum.",
    "Ich bin mit dem Preis nicht zufrieden und werde wohl kündigen.",
]
FRENCH = [
    "La facture est encore fausse et personne ne répond.",
    "J'attends mon remboursement depuis trois semaines.",
    "L'application plante à chaque fois que je veux me connecter.",
    "Le technicien n'est jamais venu, j'ai attendu toute la journée.",
    "La connexion est très lente le soir.",
    "On m'a prélevé deux fois le même montant, c'est inadmissible.",
    "Le service client a été très aimable et rapide.",
    "Je ne reçois pas le code par SMS pour me connecter.",
]
SPANISH = [
    "La factura está mal otra vez y nadie me ayuda.",
    "Llevo tres semanas esperando el reembolso.",
    "La aplicación se cierra cada vez que intento entrar.",
    "El técnico no vino y perdí todo el día esperando.",
    "Me cobraron dos veces el mismo mes, es una vergüenza.",
    "El servicio de atención al cliente fue muy amable.",
]
# Spanish and Portuguese in one comment: not English, but no language with confidence 0.5 (es 0.43).
UNCLEAR = ["Me cobraron dos veces. Muito caro."]
RUSSIAN = ["Интернет очень медленный по вечерам, и никто не помогает."]
# Short remarks: the first four are set apart, the last two have no function word and are clustered.
SHORT = ["Ich bin total zufrieden!", "Merci beaucoup pour tout !", "Es muy caro.", "Bitte meldet euch bei mir.",
         "Es demasiado caro.", "Alles gut."]
SHORT_ROUTES = ("lang-de", "lang-fr", "lang-es", "lang-de", None, None)


def mixed(seed: int = 0) -> tuple[list[str], list[str]]:
    """English corpus texts plus the German, French, Spanish, mixed and Russian ones, and the expected route."""
    english, _ = corpus(per_sub=20, seed=seed)
    texts = english + GERMAN + FRENCH + SPANISH + UNCLEAR + RUSSIAN
    expected = (["en"] * len(english) + ["lang-de"] * len(GERMAN) + ["lang-fr"] * len(FRENCH)
                + ["lang-es"] * len(SPANISH) + ["lang-und"] * len(UNCLEAR) + ["lang-other"] * len(RUSSIAN))
    return texts, expected


def test_each_text_is_routed_by_its_language() -> None:
    texts, expected = mixed()
    routes = langs.route(texts, langs.SUPPORTED)
    assert [r or "en" for r in routes] == expected
    assert langs.route(["ok", "", "thanks a lot"], langs.SUPPORTED) == (None, None, None)  # too short: clustered
    assert langs.route(SHORT, langs.SUPPORTED) == SHORT_ROUTES
    assert langs.route(["Merci, great service!", "Pizza time.", "Danke, all sorted now"], langs.SUPPORTED) == (
        None, None, None)
    assert langs.route(GERMAN[:2], None) == (None, None)  # language themes switched off
    assert langs.route(GERMAN[:1], ("en", "de")) == (None,)
    assert langs.label("lang-de") == "Comments in German (themes for German are not supported)"
    assert "non-Latin" in langs.label("lang-other") and "not told apart" in langs.label("lang-und")
    with pytest.raises(CxlensInputError, match="'languages' option must list codes among"):
        FitOptions(languages=("en", "klingon")).check()


def test_discovery_sets_other_languages_apart_and_counts_them() -> None:
    texts, expected = mixed()
    result = discover_themes(texts, options=OPTIONS, now=NOW)
    got = [r.theme_id for r in result.texts]
    for theme_id, want in zip(got, expected):
        if want == "en":
            assert not langs.is_language_theme(theme_id)
        else:
            assert theme_id == want
    rows = {r["theme_id"]: r for r in result.themes()}
    assert {k: rows[k]["count"] for k in ("lang-de", "lang-es", "lang-fr", "lang-und", "lang-other")} == {
        "lang-de": 10, "lang-es": 6, "lang-fr": 8, "lang-und": 1, "lang-other": 1}
    assert sum(r["count"] for r in rows.values()) == len(texts)  # nothing dropped
    assert list(rows)[-6:] == ["lang-de", "lang-es", "lang-fr", "lang-und", "lang-other", "other"]
    assert [r.sub_theme_id for r in result.texts if langs.is_language_theme(r.theme_id)] == [None] * 26
    assert [r.similarity for r in result.texts if langs.is_language_theme(r.theme_id)] == [None] * 26
    assert result.model.texts_fitted == len(texts) - 26  # the English texts only
    note = next(n for n in result.notes if "not clustered" in n)
    assert "26 texts not in English" in note and "10 in German (lang-de)" in note
    again = result.model.assign(texts)  # new texts are routed the same way
    assert list(again.theme_ids) == got


def test_too_few_english_texts_says_why() -> None:
    english, _ = corpus(per_sub=1)
    with pytest.raises(CxlensInputError, match="got 6 .* 25 more are in languages themes are not discovered in"):
        discover_themes(english + GERMAN + FRENCH + SPANISH + RUSSIAN, options=OPTIONS, now=NOW)
    everything = discover_themes(english + GERMAN + FRENCH + SPANISH + RUSSIAN,
                                 options=FitOptions(encoder="static", n_themes=3, languages=None), now=NOW)
    assert not any(langs.is_language_theme(r.theme_id) for r in everything.texts)


def test_workspace_stores_and_summarises_language_themes(tmp_path: Path) -> None:
    texts, expected = mixed()
    ws = cxlens.init(tmp_path / "ws")
    try:
        ids = [f"r{i:03d}" for i in range(len(texts))]
        ws.import_data("responses", pd.DataFrame({
            "response_id": ids, "submitted_at": pd.Timestamp("2026-10-15"), "nps": [i % 11 for i in range(len(texts))],
            "comment": texts}), now=NOW)
        report = fit_themes(ws, sources=("responses",), options=OPTIONS, now=NOW)
        assert any("10 in German (lang-de)" in n for n in report.notes)
        a = theme_assignments(ws).to_pandas().set_index("source_id")
        for i, want in zip(ids, expected):
            if want != "en":
                assert a.theme_id[i] == want and a.theme_label[i] == langs.label(want)
                assert pd.isna(a.similarity[i]) and pd.isna(a.sub_theme_id[i])
        summary = theme_summary(ws, now=NOW)
        by_id = {t.theme_id: t for t in summary.themes}
        assert by_id["lang-de"].kind == "language" and by_id["lang-de"].count == 10
        assert by_id["lang-de"].examples[0] in GERMAN
        assert summary.total == len(texts)
        assert summary.notes() == ["26 texts are in languages themes are not discovered in and have a theme per "
                                   "language: 10 in German (lang-de), 6 in Spanish (lang-es), 8 in French (lang-fr), "
                                   "1 in an unclear language (lang-und), 1 in other scripts (lang-other)"]
        with pytest.raises(CxlensInputError, match="cannot be edited"):
            rename_theme(ws, "lang-de", "Germany", now=NOW)
    finally:
        ws.close()
    result = CliRunner().invoke(themes_command, ["--workspace", str(ws.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "26 texts are in languages themes are not discovered in" in result.stderr
    doc = json.loads(result.stdout)
    assert [t["theme_id"] for t in doc["themes"] if t["kind"] == "language"] == [
        "lang-de", "lang-es", "lang-fr", "lang-und", "lang-other"]


def test_cli_on_a_file_notes_the_languages(tmp_path: Path) -> None:
    texts, expected = mixed()
    path = tmp_path / "c.csv"
    pd.DataFrame({"comment": texts}).to_csv(path, index=False)
    result = CliRunner().invoke(themes_command, [str(path), "--text-column", "comment", "--encoder", "static",
                                                 "--themes", "3", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert Counter(r["theme_id"] for r in out if r["theme_id"].startswith("lang-")) == Counter(
        e for e in expected if e != "en")
    assert "26 texts not in English were not clustered" in result.stderr
    assert "6 in Spanish (lang-es)" in result.stderr
