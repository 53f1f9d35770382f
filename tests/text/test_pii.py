"""PII redaction: unit checks and precision/recall per kind on our labelled set."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pii_labelled import Labelled, build, iban_check_digits, luhn_check_digit

from cxlens.errors import CxlensInputError
from cxlens.text.pii import (
    KINDS,
    PiiSpan,
    Redaction,
    card_network,
    find_pii,
    iban_valid,
    luhn_valid,
    redact,
    redact_many,
)


def kinds_in(text: str) -> list[str]:
    return [s.kind for s in find_pii(text)]


# --- checks ------------------------------------------------------------------------------------

def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112") and not luhn_valid("41111x1111111111")
    body = "453201511283036"
    assert luhn_valid(body + luhn_check_digit(body))


def test_iban_mod97() -> None:
    assert iban_valid("DE89 3704 0044 0532 0130 00")
    assert iban_valid("GB82WEST12345698765432")
    assert iban_valid("nl91abna0417164300")
    assert not iban_valid("DE89 3704 0044 0532 0130 01")  # check fails
    assert not iban_valid("DE89 3704 0044 0532 0130")  # wrong length for DE
    assert not iban_valid("XX89 3704 0044 0532 0130 00")  # no such country
    assert iban_check_digits("DE", "370400440532013000") == "89"


def test_card_networks() -> None:
    assert card_network("4111111111111111") == "visa"
    assert card_network("5555555555554444") == "mastercard"
    assert card_network("378282246310005") == "amex"
    assert card_network("8944123456789012345") is None  # a SIM card ICCID


# --- redaction -----------------------------------------------------------------------------------

def test_redact_replaces_and_reports_positions() -> None:
    text = "Mail anna@example.com or call +44 20 7946 0958, card 4111 1111 1111 1111."
    result = redact(text)
    assert result.text == "Mail [EMAIL] or call [PHONE], card [CARD]."
    assert [s.kind for s in result.spans] == ["email", "phone", "card"]
    first = result.spans[0]
    assert text[first.start:first.end] == "anna@example.com"
    assert result.counts() == {"email": 1, "phone": 1, "card": 1} and result.found


def test_kinds_and_placeholder_are_configurable() -> None:
    text = "anna@example.com, +1 (415) 555-2671"
    assert redact(text, kinds=("phone",)).text == "anna@example.com, [PHONE]"
    assert redact(text, kinds="email").text == "[EMAIL], +1 (415) 555-2671"
    assert redact(text, placeholder="<{kind}>").text == "<email>, <phone>"
    assert redact(text, placeholder="***").text == "***, ***"


def test_bad_kinds_and_placeholder_are_explained() -> None:
    with pytest.raises(CxlensInputError, match="kinds=ssn is not allowed.*email, phone, card, iban"):
        redact("x", kinds=("email", "ssn"))
    with pytest.raises(CxlensInputError, match="placeholder='\\[{TYPE}\\]'.*{KIND}"):
        redact("x", placeholder="[{TYPE}]")


@pytest.mark.parametrize("text", [
    "Delivered on 15.03.2024 10:30 for $1,299.99",
    "Updated to version 10.0.19045.2965 and v2.13.0",
    "Order number 4829104721 is late",
    "Ticket #48291047 and case 00123456",
    "Tracking 1Z999AA10123456784 and 9400 1118 9922 3344 5566 77",
    "ISBN 978-3-16-148410-0, IMEI 356938035643809",
    "Code 4111 1111 1111 1112 failed",
    "IBAN DE89 3704 0044 0532 0130 01 bounced",
    "Server 192.168.100.200 is down since 2024-01-02",
    "Price went from 1.299,00 € to 1 499,00 €",
])
def test_hard_negatives_are_left_alone(text: str) -> None:
    assert redact(text) == Redaction(text, ())


@pytest.mark.parametrize("text", [
    "+1 (415) 555-2671", "(415) 555-2671", "415.555.2671", "1-800-555-0199", "+44 (0)20 7946 0958",
    "020 7946 0958", "0044 20 7946 0958", "030/12345678", "0151 23456789", "06.12.34.56.78",
    "01 23 45 67 89", "+33 6 12 34 56 78", "06-12345678", "+39 06 1234 5678", "+4915123456789",
])
def test_phone_formats(text: str) -> None:
    assert find_pii(f"Contact me: {text}.") == [PiiSpan("phone", 12, 12 + len(text))]


def test_numbers_without_phone_marks_need_a_phone_word() -> None:
    assert kinds_in("call me on 4155552671") == ["phone"]
    assert kinds_in("my mobile is 612 34 56 78") == ["phone"]
    assert kinds_in("reference 4155552671") == []
    assert kinds_in("we sold 4155552671 units") == []


def test_order_context_wins_over_a_following_number_word() -> None:
    assert kinds_in("order number 07700900123") == []
    assert kinds_in("My order arrived but call me at 020 7946 0958") == ["phone"]


def test_redact_many() -> None:
    results = redact_many(["anna@example.com", None, float("nan"), "nothing here"])  # type: ignore[list-item]
    assert [r.text for r in results] == ["[EMAIL]", "", "", "nothing here"]
    with pytest.raises(CxlensInputError, match="single string"):
        redact_many("anna@example.com")  # type: ignore[arg-type]


# --- precision and recall on the labelled set ------------------------------------------------------

def _scores(data: list[Labelled]) -> dict[str, tuple[float, float, int]]:
    tp = dict.fromkeys(KINDS, 0)
    fp = dict.fromkeys(KINDS, 0)
    fn = dict.fromkeys(KINDS, 0)
    for item in data:
        predicted = {(s.kind, s.start, s.end) for s in find_pii(item.text)}
        gold = set(item.spans)
        for kind, *_ in predicted & gold:
            tp[kind] += 1
        for kind, *_ in predicted - gold:
            fp[kind] += 1
        for kind, *_ in gold - predicted:
            fn[kind] += 1
    return {k: (tp[k] / max(1, tp[k] + fp[k]), tp[k] / max(1, tp[k] + fn[k]), tp[k] + fn[k]) for k in KINDS}


def test_labelled_set_is_large_and_mixed() -> None:
    data = build()
    assert len(data) >= 400
    assert sum(1 for d in data if not d.spans) >= 150  # sentences with hard negatives only
    assert {k for d in data for k, *_ in d.spans} == set(KINDS)


def test_precision_and_recall_per_kind() -> None:
    scores = _scores(build())
    for kind, (precision, recall, n) in scores.items():
        print(f"\n{kind}: precision {precision:.3f}, recall {recall:.3f} (n={n})")
        assert precision >= 0.95, (kind, precision)
        assert recall >= 0.95, (kind, recall)


def test_redaction_removes_every_labelled_value() -> None:
    for item in build(positives=40, negatives=0, mixed=12):
        redacted = redact(item.text).text
        for _, start, end in item.spans:
            assert item.text[start:end] not in redacted


# --- robustness -----------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +-()./@abcXYZ:#€$\n"), max_size=80))
def test_any_text_redacts_consistently(text: str) -> None:
    result = redact(text)
    spans = result.spans
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))  # sorted, never overlapping
    assert redact(result.text, placeholder="[{KIND}]").spans == ()  # the redacted text has nothing left
