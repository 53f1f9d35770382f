"""E-mails to customers in the customer's language: survey invitations (subject, body, the one-click
NPS question, ``Content-Language``, links that open the page in the same language), the unsubscribe
page, and the closed loop's acknowledgement. Real SMTP server on loopback, real hosted pages."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest

from .conftest import Mailbox, WebApp, require_web
from .test_distribution import Dist, html_of, make_project, now, path_of, text_of
from .test_loop_service import DETRACTOR, make_loop_project, response

require_web()

GERMAN = {"t_title": "Kundenumfrage 2026", "t_nps_text": "Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?",
          "t_went_wrong_text": "Das tut uns leid. Was ist schiefgelaufen?",
          "t_reason_text": "Was ist der wichtigste Grund für Ihre Bewertung?"}
ARABIC = {"t_title": "استطلاع الولاء", "t_nps_text": "ما مدى احتمال أن توصي بنا لصديق؟"}
ENGLISH_NPS = "How likely are you to recommend us to a friend or colleague?"


@pytest.fixture(scope="module")
def proj(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    return make_project(app, tmp_path_factory, "i18nmail")


@pytest.fixture(autouse=True)
def empty_outbox(proj: Dist) -> None:
    """Each test counts its own deliveries: invitations left queued by earlier tests are cancelled."""
    from cxlens.web.distribution.models import Invitation

    Invitation.objects.filter(project=proj.project, status__in=("queued", "failed")).update(status="cancelled")


def translated_survey(proj: Dist, slug: str, translations: dict[str, dict[str, str]], *, title: str = "",
                      language: str = "en") -> Any:
    """A live relationship NPS survey written in ``language`` with ``translations`` (builder form fields)."""
    from cxlens.web.surveys import service as surveys
    from cxlens.web.surveys.models import Survey

    survey = surveys.create_survey(proj.project, "relationship_nps", title or f"Survey {slug}", slug)
    if language != "en":
        Survey.objects.filter(pk=survey.pk).update(language=language)
        survey.refresh_from_db()
    for lang, form in translations.items():
        surveys.save_translation(survey, lang, form)
    surveys.publish(survey, now())
    return survey


def mail_for(proj: Dist, smtp_server: Mailbox, survey: Any, customer_id: str, address: str,
             language: str | None = None) -> Any:
    """Invite ``customer_id`` to ``survey``, send the due invitations and return the one message received."""
    from django.test import override_settings

    from cxlens.web.distribution import service

    t0 = now()
    result = service.invite(survey, customer_id=customer_id, email=address, now=t0, language=language)
    assert result.status == "queued", result.reason
    with override_settings(**smtp_server.settings()):
        assert service.send_due(proj.project, t0).sent == 1
    [message] = smtp_server.to(address)
    return message


def subject(message: Any) -> str:
    # Python's mail parser keeps the blank that folding puts before a long encoded (non-ASCII) subject.
    return str(message["Subject"]).strip()


def links_of(html: str) -> list[str]:
    return [unescape(u) for u in re.findall(r'href="([^"]+)"', html)]


def survey_link(html: str) -> str:
    return path_of(unescape(re.search(r'id="survey-link" href="([^"]+)"', html).group(1)))


# ------------------------------------------------------------------------------------- invitations


def test_a_german_contact_gets_a_german_invitation_and_page(app: WebApp, proj: Dist, smtp_server: Mailbox) -> None:
    from cxlens.web.distribution import service
    from cxlens.web.distribution.models import Invitation

    survey = translated_survey(proj, "i18n-mail-de", {"de": GERMAN, "ar": ARABIC})
    service.set_consent(proj.project, "de-1", "opt_in", now(), source="shop", email="anna@example.de",
                        language="de-DE")  # the contact's language: the same primary language as the translation
    message = mail_for(proj, smtp_server, survey, "de-1", "anna@example.de")
    text, html = text_of(message), html_of(message)
    inv = Invitation.objects.get(survey=survey, customer_id="de-1")
    assert inv.language == "de-DE"

    assert subject(message) == "Kundenumfrage 2026: Ihre Meinung ist uns wichtig"
    assert message["Content-Language"] == "de"
    assert text.startswith("Guten Tag,\n\nwir möchten gern Ihre Meinung hören: „Kundenumfrage 2026“ dauert etwa "
                           "eine Minute.\n")
    assert GERMAN["t_nps_text"] in text and "(0 = Sehr unwahrscheinlich, 10 = Sehr wahrscheinlich)" in text
    assert f"Dieser Link ist persönlich und gilt bis {inv.expires_at:%Y-%m-%d}." in text
    assert "\nVielen Dank!\n" in text
    assert "Sie erhalten diese E-Mail als Kundin oder Kunde von Project i18nmail." in text
    assert re.search(r"^Abmelden \(keine Umfrageeinladungen mehr\): http\S+/u/\S+\?lang=de$", text, re.M)
    for english in ("Hello", "we would like", ENGLISH_NPS, "Thank you", "Unsubscribe", "Or open"):
        assert english not in text and english not in html, english
    assert '<html lang="de" dir="ltr">' in html and "<strong>Kundenumfrage 2026</strong>" in html
    assert GERMAN["t_nps_text"] in html and 'aria-label="9 von 10"' in html and ">Oder die Umfrage öffnen<" in html

    # Every link carries the language; the survey links open the page in German.
    nps_links = dict(re.findall(r"^(\d+): (http\S+)$", text, re.M))
    plain = re.search(r"^Oder die Umfrage öffnen: (http\S+)$", text, re.M).group(1)
    assert len(nps_links) == 11 and all("&lang=de&nps=" in link for link in nps_links.values())
    assert "&lang=de" in plain and all("lang=de" in u for u in links_of(html))
    page = app.client().get(path_of(plain)).content.decode()
    assert '<html lang="de" dir="ltr">' in page and "Kundenumfrage 2026" in page
    assert GERMAN["t_nps_text"] in page and ">Weiter<" in page and ENGLISH_NPS not in page
    clicked = app.client(HTTP_ACCEPT_LANGUAGE="en").get(path_of(nps_links["9"])).content.decode()
    assert '<html lang="de"' in clicked and 'value="9" checked' in clicked  # the mail's language beats the browser's
    # Without its '&lang=' the personal link still remembers the invitation's language.
    bare = app.client().get(path_of(plain).replace("&lang=de", "")).content.decode()
    assert '<html lang="de"' in bare

    # The unsubscribe link of the mail opens the page in German.
    unsubscribe = re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert unsubscribe.endswith("?lang=de") and path_of(unsubscribe) in [path_of(u) for u in links_of(html)]
    asked = app.client().get(path_of(unsubscribe)).content.decode()
    assert '<html lang="de" dir="ltr">' in asked and ">Abmelden</button>" in asked
    assert "Keine Umfrageeinladungen mehr von Project i18nmail erhalten?" in asked


def test_an_arabic_invitation_is_written_right_to_left(app: WebApp, proj: Dist, smtp_server: Mailbox) -> None:
    survey = translated_survey(proj, "i18n-mail-ar", {"ar": ARABIC, "de": GERMAN})
    message = mail_for(proj, smtp_server, survey, "ar-1", "layla@example.com", language="ar")
    text, html = text_of(message), html_of(message)
    assert message["Content-Language"] == "ar" and subject(message) == f"{ARABIC['t_title']}: نود معرفة رأيك"
    assert '<html lang="ar" dir="rtl">' in html and '<body dir="rtl"' in html
    assert '<div lang="ar" dir="rtl" style="text-align:right">' in html
    assert ARABIC["t_nps_text"] in html and 'aria-label="10 من 10"' in html and "مرحبًا،" in html
    assert text.startswith("مرحبًا،\n") and "0 = غير مرجح على الإطلاق، 10 = مرجح للغاية" in text
    page = app.client().get(path_of(links_of(html)[0])).content.decode()
    assert '<html lang="ar" dir="rtl">' in page and ARABIC["t_nps_text"] in page


DUTCH = {"t_title": "Klantonderzoek 2026", "t_nps_text": "Hoe waarschijnlijk is het dat u ons aanbeveelt?"}


def test_a_dutch_contact_gets_a_dutch_invitation_and_page(app: WebApp, proj: Dist, smtp_server: Mailbox) -> None:
    from cxlens.web.distribution.models import Invitation

    survey = translated_survey(proj, "i18n-mail-nl", {"nl": DUTCH, "de": GERMAN})
    message = mail_for(proj, smtp_server, survey, "nl-1", "sanne@example.nl", language="nl-BE")
    text, html = text_of(message), html_of(message)
    inv = Invitation.objects.get(survey=survey, customer_id="nl-1")

    assert subject(message) == "Klantonderzoek 2026: wij horen graag uw mening"
    assert message["Content-Language"] == "nl"
    assert text.startswith("Beste klant,\n\nWij horen graag uw mening: “Klantonderzoek 2026” kost ongeveer een "
                           "minuut.\n")
    assert DUTCH["t_nps_text"] in text and "(0 = Zeer onwaarschijnlijk, 10 = Zeer waarschijnlijk)" in text
    assert re.search(r"^Of open de enquête: http\S+&lang=nl$", text, re.M)
    assert f"Deze link is persoonlijk en geldig tot {inv.expires_at:%Y-%m-%d}." in text
    assert "\nHartelijk dank!\n" in text
    assert "U ontvangt deze e-mail omdat u klant bent van Project i18nmail." in text
    assert re.search(r"^Afmelden \(geen enquête-uitnodigingen meer\): http\S+/u/\S+\?lang=nl$", text, re.M)
    for english in ("Hello", "we would like", ENGLISH_NPS, "Thank you", "Unsubscribe", "Or open", "out of 10"):
        assert english not in text and english not in html, english
    assert '<html lang="nl" dir="ltr">' in html and "<strong>Klantonderzoek 2026</strong>" in html
    assert 'aria-label="9 van 10"' in html and ">Of open de enquête<" in html and ">Afmelden</a>" in html

    page = app.client(HTTP_ACCEPT_LANGUAGE="en").get(survey_link(html)).content.decode()
    assert '<html lang="nl" dir="ltr">' in page and DUTCH["t_nps_text"] in page and ">Volgende<" in page
    assert "Zeer onwaarschijnlijk" in page and ">Next<" not in page
    unsubscribe = re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)
    asked = app.client().get(path_of(unsubscribe)).content.decode()
    assert '<html lang="nl" dir="ltr">' in asked and ">Afmelden</button>" in asked
    assert "Geen enquête-uitnodigingen meer ontvangen van Project i18nmail?" in asked


def test_a_language_the_survey_lacks_falls_back_to_its_default(app: WebApp, proj: Dist,
                                                               smtp_server: Mailbox) -> None:
    # Written in English with a German translation: a Japanese customer gets English, mail and page alike.
    english = translated_survey(proj, "i18n-mail-ja", {"de": GERMAN})
    message = mail_for(proj, smtp_server, english, "ja-1", "haruto@example.jp", language="ja")
    text, html = text_of(message), html_of(message)
    assert message["Content-Language"] == "en"
    assert subject(message) == "Survey i18n-mail-ja: we would like your opinion"
    assert text.startswith("Hello,\n") and ENGLISH_NPS in text and "Or open the survey: " in text
    assert '<html lang="en" dir="ltr">' in html and all("lang=en" in u for u in links_of(html))
    page = app.client(HTTP_ACCEPT_LANGUAGE="de").get(survey_link(html)).content.decode()
    assert '<html lang="en"' in page and ENGLISH_NPS in page and ">Next<" in page and ">Weiter<" not in page
    for german in ("Guten Tag", "Kundenumfrage", GERMAN["t_nps_text"], "Sehr wahrscheinlich"):
        assert german not in text and german not in html and german not in page

    # Written in Spanish (its own words are Spanish): the page words and the mail's follow the survey's
    # default language, not English.
    spanish = translated_survey(proj, "i18n-mail-es", {"de": GERMAN}, title="Encuesta de clientes", language="es")
    message = mail_for(proj, smtp_server, spanish, "ja-2", "yui@example.jp", language="ja")
    text, html = text_of(message), html_of(message)
    assert message["Content-Language"] == "es"
    assert subject(message) == "Encuesta de clientes: nos gustaría conocer su opinión"
    assert text.startswith("Hola:\n\nNos gustaría conocer su opinión: «Encuesta de clientes»")
    assert "(0 = Nada probable, 10 = Muy probable)" in text and "O abra la encuesta: " in text
    assert "Hello" not in text and "Guten Tag" not in text and '<html lang="es" dir="ltr">' in html
    page = app.client(HTTP_ACCEPT_LANGUAGE="ja").get(survey_link(html)).content.decode()
    assert '<html lang="es"' in page and ">Siguiente<" in page and ">Next<" not in page


def test_survey_texts_are_escaped_in_the_html_part(app: WebApp, proj: Dist, smtp_server: Mailbox) -> None:
    hostile = "<script>alert('t')</script> Feedback & more"
    question = "<script>alert('q')</script> Wie wahrscheinlich?"
    survey = translated_survey(proj, "i18n-mail-xss", {"de": {"t_title": hostile, "t_nps_text": question}},
                               title=hostile)
    for customer, address, lang in (("xss-1", "xss1@example.com", None), ("xss-2", "xss2@example.com", "de")):
        message = mail_for(proj, smtp_server, survey, customer, address, language=lang)
        text, html = text_of(message), html_of(message)
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; Feedback &amp; more" in html
        assert "<strong>&lt;script&gt;" in html  # our markup stays, the title inside it is text
        assert hostile in text and subject(message).startswith(hostile)  # the text part stays plain
    assert "&lt;script&gt;alert(&#x27;q&#x27;)&lt;/script&gt; Wie wahrscheinlich?" in html and question in text


def test_a_title_on_several_lines_makes_a_one_line_subject(app: WebApp, proj: Dist, smtp_server: Mailbox) -> None:
    survey = translated_survey(proj, "i18n-mail-lines", {"de": {"t_title": "Kunden\nUmfrage\r\nBcc: x@evil.example"}},
                               title="Customer\nsurvey")
    for customer, address, lang in (("lines-1", "lines1@example.com", None), ("lines-2", "lines2@example.com", "de")):
        message = mail_for(proj, smtp_server, survey, customer, address, language=lang)
        assert "\n" not in subject(message) and message["Bcc"] is None
    assert subject(message).startswith("Kunden Umfrage Bcc: x@evil.example")


# ------------------------------------------------------------------------------------- unsubscribe


def test_the_unsubscribe_page_speaks_the_link_or_browser_language(app: WebApp, proj: Dist) -> None:
    from cxlens.web.distribution import service

    token = service.make_unsubscribe_token(proj.project, "unsub-fr", now() + timedelta(days=30))
    c = app.client(enforce_csrf_checks=True)
    asked = c.get(f"/u/{token}/?lang=fr")
    page = asked.content.decode()
    assert asked.status_code == 200 and asked["Content-Language"] == "fr"
    assert '<html lang="fr" dir="ltr">' in page and "<title>Se désabonner</title>" in page
    assert "Ne plus recevoir d’invitations aux enquêtes de Project i18nmail ?" in page
    assert ">Se désabonner</button>" in page and "Unsubscribe" not in page
    assert service.consent_allows(proj.project, "unsub-fr", now())  # GET: no change
    done = c.post(f"/u/{token}/?lang=fr", {})
    assert done.status_code == 200 and "Désabonnement confirmé" in done.content.decode()
    assert "Vous ne recevrez plus d’invitations aux enquêtes de Project i18nmail." in done.content.decode()
    assert not service.consent_allows(proj.project, "unsub-fr", now())

    # The mail provider's one-click POST (RFC 8058) works on the same link, with its language.
    other = service.make_unsubscribe_token(proj.project, "unsub-click", now() + timedelta(days=30))
    click = app.client(enforce_csrf_checks=True).post(f"/u/{other}/?lang=fr", "List-Unsubscribe=One-Click",
                                                      content_type="application/x-www-form-urlencoded")
    assert click.status_code == 200 and not service.consent_allows(proj.project, "unsub-click", now())

    # No ?lang=: the browser's language among those with words; else English.
    spanish = app.client(HTTP_ACCEPT_LANGUAGE="ja, es-MX;q=0.8").get(f"/u/{token}/").content.decode()
    assert '<html lang="es" dir="ltr">' in spanish and ">Darse de baja</button>" in spanish
    arabic = app.client().get(f"/u/{token}/?lang=ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in arabic and "إلغاء الاشتراك" in arabic
    english = app.client(HTTP_ACCEPT_LANGUAGE="ja").get(f"/u/{token}/?lang=x!").content.decode()
    assert '<html lang="en" dir="ltr">' in english and ">Unsubscribe</button>" in english

    portuguese = app.client(HTTP_ACCEPT_LANGUAGE="ja, pt-BR;q=0.9").get(f"/u/{token}/").content.decode()
    assert '<html lang="pt" dir="ltr">' in portuguese and ">Cancelar inscrição</button>" in portuguese
    hebrew = app.client().get(f"/u/{token}/?lang=he").content.decode()
    assert '<html lang="he" dir="rtl">' in hebrew and ">הסרה מהרשימה</button>" in hebrew
    assert "להפסיק לקבל הזמנות לסקרים מ-Project i18nmail?" in hebrew

    # Broken links are explained in the page's language too.
    forged = app.client().get(f"/u/{token.split(':')[0]}:forged/?lang=fr")
    assert forged.status_code == 400 and "Ce lien de désabonnement n’est pas valide." in forged.content.decode()
    expired = service.make_unsubscribe_token(proj.project, "unsub-fr", now() - timedelta(seconds=1))
    gone = app.client().post(f"/u/{expired}/?lang=de")
    day = f"{now() - timedelta(seconds=1):%Y-%m-%d}"
    assert gone.status_code == 410 and f"Dieser Abmeldelink ist am {day} abgelaufen." in gone.content.decode()


# ---------------------------------------------------------------------------- loop acknowledgement


def test_the_case_acknowledgement_speaks_the_customer_language(app: WebApp, tmp_path_factory: pytest.TempPathFactory,
                                                              smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service as distribution
    from cxlens.web.loop import notify, service
    from cxlens.web.loop.models import Case
    from cxlens.web.surveys import service as surveys

    lp = make_loop_project(app, tmp_path_factory.mktemp("loopi18n") / "ws", "loopi18n")
    t0 = now()
    service.create_rule(lp.project, {"name": "ack", "source": "responses", "reason": "unhappy",
                                     "acknowledge_customer": True, "condition": DETRACTOR}, now=t0)
    distribution.set_consent(lp.project, "L1", "opt_in", t0, source="shop", language="de")
    distribution.set_consent(lp.project, "L2", "opt_in", t0, source="shop", language="ja")  # no words: English
    distribution.set_consent(lp.project, "L4", "opt_in", t0, source="shop", email="l4@example.com")
    lp.ingest("responses", [response("i1", "L1", 2), response("i2", "L2", 3)], now=t0)

    # L4 answers a hosted survey in French: the case opened from that response is acknowledged in French.
    survey = surveys.create_survey(lp.project, "relationship_nps", "Fidélité", "loopi18n-rel")
    surveys.publish(survey, t0)
    respondent = app.client()
    r = respondent.post("/s/loopi18n-rel/?customer_id=L4&lang=fr", {"a_nps": "1"})
    for _ in range(3):
        if r["Location"].endswith("/thanks/"):
            break
        page = respondent.get(r["Location"]).content.decode()
        r = respondent.post(r["Location"], {"page": re.search(r'name="page" value="(\d+)"', page).group(1)})
    assert r["Location"].endswith("/thanks/")
    surveys.flush(lp.project, t0)

    service.evaluate_rules(lp.project, t0)
    cases = {c.customer_id: c for c in Case.objects.filter(project=lp.project, reason="unhappy")}
    assert set(cases) == {"L1", "L2", "L4"} and cases["L4"].source_id.startswith("loopi18n-rel-")
    assert service.customer_language(cases["L4"]) == "fr"
    with override_settings(**smtp_server.settings()):
        notify.send_due(lp.project, t0)
    [german] = smtp_server.to("l1@example.com")
    assert subject(german) == f"Wir kümmern uns um Ihr Feedback ({cases['L1'].case_id})"
    assert german["Content-Language"] == "de"
    assert text_of(german).strip() == (
        f"Guten Tag,\n\nvielen Dank für Ihr Feedback. Es tut uns leid, dass Sie diese Erfahrung gemacht haben. Wir "
        f"haben dazu den Vorgang {cases['L1'].case_id} angelegt; jemand aus unserem Team kümmert sich darum und "
        f"meldet sich bei Ihnen.\n\nMit freundlichen Grüßen\nLoop loopi18n")
    [english] = smtp_server.to("l2@example.com")
    assert subject(english) == f"We are looking into your feedback ({cases['L2'].case_id})"
    assert text_of(english).startswith("Hello,\n\nthank you for your feedback.")
    [french] = smtp_server.to("l4@example.com")
    assert subject(french) == f"Nous examinons votre avis ({cases['L4'].case_id})"
    assert french["Content-Language"] == "fr"
    assert "merci pour votre avis" in text_of(french) and "Cordialement," in text_of(french)
    assert all(Case.objects.get(pk=c.pk).customer_contacted for c in cases.values())
