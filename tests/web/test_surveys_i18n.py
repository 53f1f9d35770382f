"""Translations and right-to-left pages: per-language texts kept in the version, the page
language from ?lang=, the personal link or Accept-Language, the page's own words, and (in a real
Chromium) an Arabic page laid out right to left."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from .browser import chromium, needs_chromium
from .conftest import Served, WebApp, require_web

require_web()

REPO = Path(__file__).resolve().parents[2]
ARABIC = {"t_title": "استطلاع الولاء", "t_nps_text": "ما مدى احتمال أن توصي بنا لصديق؟",
          "t_went_wrong_text": "نأسف لذلك. ما الخطأ الذي حدث؟", "t_reason_text": "ما السبب الرئيسي لتقييمك؟"}


def _survey(app: WebApp, slug: str, template: str = "relationship_nps") -> Any:
    c = app.client("ana")
    made = c.post("/p/main/surveys/", {"template": template, "title": f"I18n {slug}", "slug": slug})
    assert made.status_code == 302
    return c


# ------------------------------------------------------------------------------------ pure parts


def test_language_picking_and_direction() -> None:
    from cxlens.web.surveys import i18n

    assert i18n.accept_language("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") == ["fr-CH", "fr", "en", "de"]
    assert i18n.accept_language("de;q=0, ar") == ["ar"]
    assert i18n.accept_language("not a tag!, ;q=x") == []
    available = ["en", "ar", "pt-BR"]
    assert i18n.pick(available, ["pt-BR"]) == "pt-BR"
    assert i18n.pick(available, ["pt-PT"]) == "pt-BR"  # same primary language
    assert i18n.pick(available, ["AR-eg"]) == "ar"
    assert i18n.pick(available, [None, "ja", "en-GB"]) == "en"
    assert i18n.pick(available, ["ja"]) is None
    assert [i18n.direction(t) for t in ("ar", "he-IL", "fa", "ur", "en", "de")] == ["rtl"] * 4 + ["ltr"] * 2
    assert i18n.text("de", "next") == "Weiter" and i18n.text("ja", "next") == "Next"
    assert i18n.text("ar", "page_of", step=1, steps=2) == "الصفحة 1 من 2 كحد أقصى"
    assert set(i18n.UI) == {"en", "de", "fr", "es", "ar", "it", "pt", "nl", "he"}
    assert i18n.text("it", "next") == "Avanti" and i18n.text("pt-BR", "next") == "Avançar"
    assert i18n.text("nl-BE", "page_of", step=2, steps=3) == "Pagina 2 van maximaal 3"
    assert i18n.text("he", "err_range", low=0, high=10) == "נא לבחור מספר שלם בין 0 ל-10."


@pytest.mark.parametrize("lang", ["de", "fr", "es", "ar", "it", "pt", "nl", "he"])
def test_every_shipped_language_has_every_word_with_its_placeholders(lang: str) -> None:
    from string import Formatter

    from cxlens.web.surveys import i18n

    def placeholders(template: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(template) if name}

    assert set(i18n.UI[lang]) == set(i18n.UI["en"])
    for key, english in i18n.UI["en"].items():
        assert placeholders(i18n.UI[lang][key]) == placeholders(english), key
        assert i18n.UI[lang][key].strip(), key
    # Not an English word left behind: only signs and words spelled alike ("No", "(optional)", "Excellent").
    alike = {"mail_scale", "mail_colon", "no", "optional", "rating_high"}
    assert {k for k, v in i18n.UI[lang].items() if v == i18n.UI["en"][k]} <= alike


def test_translations_are_checked() -> None:
    from cxlens.errors import CxlensInputError
    from cxlens.web.surveys import i18n

    questions = [{"id": "q1", "type": "single", "text": "Pick", "options": ["red", "blue"]},
                 {"id": "q2", "type": "text", "text": "Why?"}]
    ok = i18n.validate_translations(questions, {"de": {"q1": {"text": " Wähle ", "options": ["rot", "blau"]},
                                                       "q2": {"text": ""}, "gone": {"text": "x"}}})
    assert ok == {"de": {"q1": {"text": "Wähle", "options": ["rot", "blau"]}}}
    with pytest.raises(CxlensInputError, match="one label per option, 2 in the same order. Got 1"):
        i18n.validate_translations(questions, {"de": {"q1": {"options": ["rot"]}}})
    with pytest.raises(CxlensInputError, match="language tag such as de, ar or pt-BR. Got 'german!'"):
        i18n.validate_translations(questions, {"german!": {}})
    assert i18n.localized(questions[0], ok, "de") == ("Wähle", ["rot", "blau"])
    assert i18n.localized(questions[1], ok, "de") == ("Why?", [])
    assert i18n.localized(questions[0], ok, "fr") == ("Pick", ["red", "blue"])


# --------------------------------------------------------------------------------- the builder


def test_builder_translation_forms_and_versions(app: WebApp) -> None:
    from cxlens.web.surveys.models import Survey

    c = _survey(app, "i18n-builder", template="onboarding_checkin")
    survey = Survey.objects.get(slug="i18n-builder")
    multi = next(q for q in survey.latest().questions if q["type"] == "multi")
    labels = "\n".join(f"DE {o}" for o in multi["options"])
    r = c.post("/p/main/surveys/i18n-builder/", {"action": "translation", "lang": "de", "t_title": "Start-Check",
                                                 f"t_{multi['id']}_text": "Welche Funktionen?",
                                                 f"t_{multi['id']}_options": labels})
    assert r.status_code == 302, r.content.decode()[:400]
    assert survey.versions.count() == 1  # an unanswered draft is rewritten
    assert survey.latest().translations == {"de": {"@title": {"text": "Start-Check"}, multi["id"]: {
        "text": "Welche Funktionen?", "options": [f"DE {o}" for o in multi["options"]]}}}
    page = c.get("/p/main/surveys/i18n-builder/").content.decode()
    assert 'id="translation-de"' in page and "Welche Funktionen?" in page
    bad = c.post("/p/main/surveys/i18n-builder/", {"action": "translation", "lang": "fr",
                                                   f"t_{multi['id']}_options": "une seule"})
    assert bad.status_code == 400 and "one label per option" in unescape(bad.content.decode())
    own = c.post("/p/main/surveys/i18n-builder/", {"action": "translation", "lang": "en"})
    assert own.status_code == 400 and "survey&#x27;s own language" in own.content.decode()
    assert app.client("vic").post("/p/main/surveys/i18n-builder/", {"action": "translation", "lang": "es"}
                                  ).status_code == 403

    # Editing a question keeps the translations that still fit; after answers, a change is a new version.
    c.post("/p/main/surveys/i18n-builder/", {"action": "publish"})
    respondent = app.client()
    first = survey.latest().questions[0]
    respondent.post("/s/i18n-builder/", {f"a_{first['id']}": "4"})
    c.post("/p/main/surveys/i18n-builder/", {"action": "translation", "lang": "es", "t_title": "Comprobación"})
    assert survey.versions.count() == 2
    assert set(survey.latest().translations) == {"de", "es"}
    assert c.post("/p/main/surveys/i18n-builder/", {"action": "delete_translation", "lang": "es"}).status_code == 302
    assert set(survey.latest().translations) == {"de"}


# ------------------------------------------------------------------------------ hosted pages


def test_page_language_from_query_browser_and_link(app: WebApp) -> None:
    from cxlens.web.projects import POOL
    from cxlens.web.surveys import service

    c = _survey(app, "i18n-pages")
    assert c.post("/p/main/surveys/i18n-pages/", {"action": "translation", "lang": "ar", **ARABIC}).status_code == 302
    assert c.post("/p/main/surveys/i18n-pages/", {"action": "translation", "lang": "de",
                                                  "t_nps_text": "Wie wahrscheinlich empfehlen Sie uns weiter?"}
                  ).status_code == 302
    c.post("/p/main/surveys/i18n-pages/", {"action": "publish"})

    arabic = app.client().get("/s/i18n-pages/?lang=ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in arabic
    assert ARABIC["t_nps_text"] in arabic and ARABIC["t_title"] in arabic and "التالي" in arabic
    assert "غير مرجح على الإطلاق" in arabic  # the scale's ends
    german = app.client(HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9,en;q=0.5").get("/s/i18n-pages/").content.decode()
    assert '<html lang="de" dir="ltr">' in german and "Wie wahrscheinlich" in german and ">Weiter<" in german
    assert "Pflichtfeld" in german
    fallback = app.client(HTTP_ACCEPT_LANGUAGE="ja").get("/s/i18n-pages/?lang=xx-!!").content.decode()
    assert '<html lang="en" dir="ltr">' in fallback and "How likely are you" in fallback and ">Next<" in fallback

    # Problems are told in the page's language; answering in Arabic stores the same values.
    missing = app.client().post("/s/i18n-pages/?lang=ar", {})
    assert missing.status_code == 400 and "يرجى الإجابة عن هذا السؤال." in missing.content.decode()
    respondent = app.client()
    nxt = respondent.post("/s/i18n-pages/?lang=ar", {"a_nps": "4"})
    second = respondent.get(nxt["Location"]).content.decode()
    assert '<html lang="ar" dir="rtl">' in second and ARABIC["t_went_wrong_text"] in second
    assert 'id="back"' in second and "السابق" in second
    # Back: to the first page with the answer kept, then on again.
    back = respondent.post(nxt["Location"], {"page": "1", "nav": "back"})
    first_again = respondent.get(back["Location"]).content.decode()
    assert re.search(r'value="4" checked', first_again)
    respondent.post(back["Location"], {"page": "0", "a_nps": "4"})
    done = respondent.post(nxt["Location"], {"page": "1", "a_went_wrong": "التوصيل متأخر"})
    thanks = respondent.get(done["Location"]).content.decode()
    assert "شكرًا لك!" in thanks and 'dir="rtl"' in thanks

    link = c.post("/p/main/surveys/i18n-pages/", {"action": "make_link", "customer_id": "I18N-1", "lang": "de"})
    url = unescape(re.search(r'<code id="new-link-url">([^<]+)</code>', link.content.decode()).group(1))
    personal = app.client().get(url.split("testserver", 1)[1]).content.decode()
    assert '<html lang="de"' in personal and "Wie wahrscheinlich" in personal
    bad_link = c.post("/p/main/surveys/i18n-pages/", {"action": "make_link", "customer_id": "I", "lang": "fr"})
    assert bad_link.status_code == 400 and "one of the survey" in unescape(bad_link.content.decode())

    service.flush(app.projects["main"], datetime.now(UTC))
    with POOL.use(app.projects["main"]) as ws:
        t = ws.table("responses")
        [row] = t.filter(t.survey_id == "i18n-pages").execute().to_dict("records")
    assert (row["language"], row["nps"], row["comment"]) == ("ar", 4, "التوصيل متأخر")


ITALIAN = {"t_title": "Sondaggio fedeltà", "t_nps_text": "Quanto è probabile che ci raccomandi a un amico?",
           "t_went_wrong_text": "Ci dispiace. Che cosa è andato storto?"}
HEBREW = {"t_title": "סקר נאמנות", "t_nps_text": "עד כמה סביר שתמליצו עלינו לחבר?",
          "t_went_wrong_text": "מצטערים לשמוע. מה השתבש?"}


def test_an_italian_page_has_italian_words(app: WebApp) -> None:
    c = _survey(app, "i18n-it")
    assert c.post("/p/main/surveys/i18n-it/", {"action": "translation", "lang": "it", **ITALIAN}).status_code == 302
    c.post("/p/main/surveys/i18n-it/", {"action": "publish"})

    respondent = app.client()
    first = respondent.get("/s/i18n-it/?lang=it").content.decode()
    assert '<html lang="it" dir="ltr">' in first and ITALIAN["t_nps_text"] in first
    assert ">Avanti<" in first and "(obbligatoria)" in first and "Pagina 1 di 2 al massimo" in first
    assert "Per niente probabile" in first and "Estremamente probabile" in first
    for english in (">Next<", "(required)", "Not at all likely", "Extremely likely", "Page 1 of"):
        assert english not in first, english
    missing = respondent.post("/s/i18n-it/?lang=it", {})
    page = missing.content.decode()
    assert missing.status_code == 400 and "Controlli 1 risposta:" in page and "Risponda a questa domanda." in page
    nxt = respondent.post("/s/i18n-it/?lang=it", {"a_nps": "3"})
    second = respondent.get(nxt["Location"]).content.decode()
    assert ITALIAN["t_went_wrong_text"] in second and ">Invia<" in second and ">Indietro<" in second
    assert ">Submit<" not in second and ">Back<" not in second
    done = respondent.post(nxt["Location"], {"page": "1", "a_went_wrong": "Consegna in ritardo"})
    thanks = respondent.get(done["Location"]).content.decode()
    assert "Grazie!" in thanks and "Le sue risposte sono state registrate." in thanks


def test_a_hebrew_page_is_right_to_left_with_hebrew_words(app: WebApp) -> None:
    c = _survey(app, "i18n-he")
    assert c.post("/p/main/surveys/i18n-he/", {"action": "translation", "lang": "he", **HEBREW}).status_code == 302
    c.post("/p/main/surveys/i18n-he/", {"action": "publish"})

    respondent = app.client(HTTP_ACCEPT_LANGUAGE="he-IL,he;q=0.9,en;q=0.5")  # the browser's language
    first = respondent.get("/s/i18n-he/").content.decode()
    assert '<html lang="he" dir="rtl">' in first and HEBREW["t_title"] in first and HEBREW["t_nps_text"] in first
    assert ">הבא<" in first and "(חובה)" in first and "בכלל לא סביר" in first and "סביר מאוד" in first
    assert ">Next<" not in first and "(required)" not in first and "Not at all likely" not in first
    nxt = respondent.post("/s/i18n-he/", {"a_nps": "2"})
    second = respondent.get(nxt["Location"]).content.decode()
    assert '<html lang="he" dir="rtl">' in second and HEBREW["t_went_wrong_text"] in second
    assert ">שליחה<" in second and ">הקודם<" in second and ">Submit<" not in second


def test_translated_choice_labels_store_the_default_option(app: WebApp) -> None:
    from cxlens.web.surveys.models import Response, Survey

    c = _survey(app, "i18n-choice", template="return_ces")
    survey = Survey.objects.get(slug="i18n-choice")
    single = next(q for q in survey.latest().questions if q["type"] == "single")
    labels = [f"ES-{n}" for n in range(len(single["options"]))]
    c.post("/p/main/surveys/i18n-choice/", {"action": "translation", "lang": "es",
                                            f"t_{single['id']}_options": "\n".join(labels)})
    c.post("/p/main/surveys/i18n-choice/", {"action": "publish"})
    respondent = app.client()
    nxt = respondent.post("/s/i18n-choice/?lang=es", {"a_ces": "2"})
    page = respondent.get(nxt["Location"]).content.decode()
    assert f'value="{single["options"][1]}"' in unescape(page) and f"<span>{labels[1]}</span>" in page
    assert ">Enviar<" in page
    respondent.post(nxt["Location"], {"page": "1", f"a_{single['id']}": single["options"][1]})
    assert Response.objects.get(survey=survey).answers[single["id"]] == single["options"][1]


def test_widget_prompt_speaks_the_visitors_language(app: WebApp) -> None:
    import json

    from cxlens.web.surveys.models import Survey

    c = _survey(app, "i18n-widget")
    c.post("/p/main/surveys/i18n-widget/", {"action": "translation", "lang": "ar", **ARABIC})
    c.post("/p/main/surveys/i18n-widget/", {"action": "settings", "title": "w", "hidden_fields": "customer_id",
                                            "allowed_origins": "https://shop.example.com"})
    c.post("/p/main/surveys/i18n-widget/", {"action": "publish"})
    key = Survey.objects.get(slug="i18n-widget").public_key
    got = app.client().get(f"/s/i18n-widget/collect?key={key}&lang=ar-SA,en",
                           HTTP_ORIGIN="https://shop.example.com")
    prompt = json.loads(got.content)
    assert (prompt["language"], prompt["dir"], prompt["question"]["text"]) == ("ar", "rtl", ARABIC["t_nps_text"])
    assert prompt["words"]["send"] == "إرسال" and prompt["comment"]["text"] == ARABIC["t_reason_text"]
    browser = app.client(HTTP_ACCEPT_LANGUAGE="fr-FR").get(f"/s/i18n-widget/collect?key={key}",
                                                           HTTP_ORIGIN="https://shop.example.com")
    assert json.loads(browser.content)["language"] == "en"  # no French translation: the default


# ------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@needs_chromium
def test_arabic_page_is_right_to_left_in_chromium(browser: Any, served: Served) -> None:
    from .test_surveys_widget import login

    slug = "browser-rtl"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, served)
    page.goto(served.url + "/p/main/surveys/")
    page.check("input[name=template][value=relationship_nps]")
    page.fill("#title", "RTL")
    page.fill("#slug", slug)
    page.click("#create-survey button[type=submit]")
    page.wait_for_url(f"{served.url}/p/main/surveys/{slug}/")
    page.fill("#new-lang", "ar")
    page.fill("#new-tr-title", ARABIC["t_title"])
    page.fill("#new-tr-nps-text", ARABIC["t_nps_text"])
    page.click("#add-translation button[type=submit]")
    page.wait_for_selector("#translation-ar")
    page.click("#publish")
    page.wait_for_selector("#public-url")
    context.close()

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  java_script_enabled=False, locale="ar")
    page = context.new_page()
    page.goto(f"{served.url}/s/{slug}/")  # the browser's language picks Arabic
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    assert page.inner_text("h1") == ARABIC["t_title"]
    assert ARABIC["t_nps_text"] in page.inner_text("legend")
    context.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ar")
    page = context.new_page()
    page.goto(f"{served.url}/s/{slug}/")
    assert page.evaluate("getComputedStyle(document.querySelector('legend')).direction") == "rtl"
    zero, one = page.locator("label[for=a_nps-0]").bounding_box(), page.locator("label[for=a_nps-1]").bounding_box()
    assert zero["x"] > one["x"]  # the scale runs from the right
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(REPO / "test-artifacts" / "survey-rtl.png"), full_page=True)
    context.close()
