"""Language detection on hand-written sentences of each supported language."""

from __future__ import annotations

import pytest

from cxlens.errors import CxlensInputError
from cxlens.text.language import LANGUAGES, detect_language, detect_languages

SENTENCES: dict[str, list[str]] = {
    "en": ["The delivery was late and nobody answered my emails.",
           "I love the new app, it is so much faster than before!",
           "Why does it take so long to cancel a subscription?",
           "I have been a customer for years but this is the last time."],
    "es": ["El pedido llegó tarde y nadie respondió a mis correos.",
           "Me encanta la nueva aplicación, es mucho más rápida que antes.",
           "¿Por qué es tan difícil cancelar una suscripción?",
           "Soy cliente desde hace años pero esta es la última vez."],
    "de": ["Die Lieferung kam zu spät und niemand hat auf meine E-Mails geantwortet.",
           "Ich liebe die neue App, sie ist viel schneller als vorher.",
           "Warum ist es so schwierig, ein Abo zu kündigen?",
           "Ich bin seit Jahren Kunde, aber das ist das letzte Mal."],
    "fr": ["La livraison est arrivée en retard et personne n'a répondu à mes courriels.",
           "J'adore la nouvelle application, elle est beaucoup plus rapide qu'avant.",
           "Pourquoi est-il si difficile de résilier un abonnement ?",
           "Je suis client depuis des années mais c'est la dernière fois."],
    "it": ["La consegna è arrivata in ritardo e nessuno ha risposto alle mie email.",
           "Adoro la nuova app, è molto più veloce di prima.",
           "Perché è così difficile disdire un abbonamento?",
           "Sono cliente da anni ma questa è l'ultima volta."],
    "pt": ["A entrega chegou atrasada e ninguém respondeu aos meus e-mails.",
           "Adoro o novo aplicativo, é muito mais rápido do que antes.",
           "Por que é tão difícil cancelar uma assinatura?",
           "Sou cliente há anos mas esta é a última vez."],
    "nl": ["De levering was te laat en niemand heeft mijn e-mails beantwoord.",
           "Ik vind de nieuwe app geweldig, hij is veel sneller dan eerst.",
           "Waarom is het zo moeilijk om een abonnement op te zeggen?",
           "Ik ben al jaren klant maar dit is de laatste keer."],
}

# Written separately from the sentences above (not used while choosing the word lists).
SHORT_REVIEWS: dict[str, list[str]] = {
    "en": ["Terrible support, I will not order from you again.", "Quick delivery and the quality is good."],
    "es": ["El producto no funciona y nadie me ayuda.", "Muy buena atención, gracias por todo."],
    "de": ["Das Produkt funktioniert nicht und keiner hilft mir.", "Sehr guter Service, vielen Dank für alles."],
    "fr": ["Le produit ne fonctionne pas et personne ne m'aide.", "Très bon service, merci pour tout."],
    "it": ["Il prodotto non funziona e nessuno mi aiuta.", "Servizio molto buono, grazie di tutto."],
    "pt": ["O produto não funciona e ninguém me ajuda.", "Atendimento muito bom, obrigado por tudo."],
    "nl": ["Het product werkt niet en niemand helpt mij.", "Heel goede service, bedankt voor alles."],
}


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_sentences_of_each_language(code: str) -> None:
    for sentence in SENTENCES[code] + SHORT_REVIEWS[code]:
        guess = detect_language(sentence)
        assert guess.code == code, (sentence, guess)
        assert 0.5 <= guess.confidence <= 1.0
        assert guess.reason is None


@pytest.mark.parametrize("text", ["", "   ", None, "ok", "Thanks!", "12345 678", ":-) :-)"])
def test_too_short_or_empty_is_undetermined(text: str | None) -> None:
    guess = detect_language(text)
    assert guess.code == "und"
    assert guess.confidence == 0.0 or guess.confidence < 0.5
    assert guess.reason


def test_non_latin_script_is_undetermined_and_says_so() -> None:
    for text in ["Доставка задержалась на неделю, очень плохо.", "配送が遅れて、とても残念です。",
                 "التوصيل تأخر كثيرا"]:
        guess = detect_language(text)
        assert (guess.code, guess.script) == ("und", "other")
        assert "non-Latin" in (guess.reason or "")


def test_unknown_latin_language_is_not_forced_into_a_supported_one() -> None:
    # Swedish and Polish are not detected languages; they must not come out as English.
    for text in ["Leveransen var sen och ingen svarade på mina mejl.", "Przesyłka dotarła późno i nikt nie odpisał."]:
        assert detect_language(text).code != "en"


def test_mentions_links_and_emails_are_ignored() -> None:
    assert detect_language("@anonymous http://example.com/de/la/le me@example.fr").code == "und"
    assert detect_language("@maria the parcel is still not here and it is late").code == "en"


def test_batch_and_bad_threshold() -> None:
    guesses = detect_languages(["Ich warte immer noch auf meine Rückerstattung.", None])
    assert [g.code for g in guesses] == ["de", "und"]
    assert guesses[0].name == "German"
    with pytest.raises(CxlensInputError, match="min_confidence=1.5"):
        detect_language("hello there", min_confidence=1.5)
