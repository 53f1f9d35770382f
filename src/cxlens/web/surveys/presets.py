"""Survey templates a new survey starts from (the builder's "create from a template")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    description: str
    touchpoint: str
    hidden: tuple[str, ...]
    questions: tuple[dict[str, Any], ...]


_DETRACTOR = {"question": "nps", "op": "<=", "value": 6}

PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("relationship_nps", "Relationship NPS", "How likely customers are to recommend you, with a follow-up "
           "for detractors.", "relationship", ("customer_id",), (
               {"id": "nps", "type": "nps", "required": True,
                "text": "How likely are you to recommend us to a friend or colleague?"},
               {"id": "went_wrong", "type": "text", "required": False, "show_if": _DETRACTOR,
                "text": "We are sorry to hear that. What went wrong?"},
               {"id": "reason", "type": "text", "required": False,
                "text": "What is the main reason for your score?"},
           )),
    Preset("post_ticket_csat", "Post-ticket CSAT", "Satisfaction with a support ticket, right after it is resolved.",
           "support", ("customer_id", "ticket_id"), (
               {"id": "csat", "type": "csat", "required": True, "scale_max": 5,
                "text": "How satisfied are you with the support you received?"},
               {"id": "resolved", "type": "yesno", "required": True, "text": "Was your issue resolved?"},
               {"id": "improve", "type": "text", "required": False,
                "show_if": {"question": "csat", "op": "<=", "value": 3},
                "text": "What could we have done better?"},
           )),
    Preset("return_ces", "CES after a return", "How easy it was to return an order.", "returns",
           ("customer_id", "order_id"), (
               {"id": "ces", "type": "ces", "required": True, "text": "How easy was it to return your order?"},
               {"id": "hardest", "type": "single", "required": False,
                "show_if": {"question": "ces", "op": "<=", "value": 3},
                "options": ["Finding the return policy", "Printing the label", "Shipping the parcel",
                            "Getting my refund", "Something else"],
                "text": "What was the hardest part?"},
               {"id": "comment", "type": "text", "required": False, "text": "Anything else you want to tell us?"},
           )),
    Preset("onboarding_checkin", "Onboarding check-in", "How the first weeks went for a new customer.",
           "onboarding", ("customer_id",), (
               {"id": "rating", "type": "rating", "required": True, "scale_max": 5,
                "text": "How would you rate your first weeks with us?"},
               {"id": "used", "type": "multi", "required": False,
                "options": ["Ordering", "Delivery tracking", "Customer support", "Mobile app"],
                "text": "Which of these have you used so far?"},
               {"id": "ready", "type": "yesno", "required": True, "text": "Do you have everything you need?"},
               {"id": "missing", "type": "text", "required": False,
                "show_if": {"question": "ready", "op": "==", "value": "no"}, "text": "What are you missing?"},
           )),
    Preset("case-followup", "Case follow-up", "Whether a customer's case was resolved, and how likely they are to "
           "recommend you after it.", "support", ("customer_id", "ticket_id"), (
               {"id": "resolved", "type": "yesno", "required": True, "text": "Did we resolve your issue?"},
               {"id": "nps", "type": "nps", "required": True,
                "text": "How likely are you to recommend us to a friend or colleague?"},
               {"id": "comment", "type": "text", "required": False, "text": "Anything else you want to tell us?"},
           )),
)}
