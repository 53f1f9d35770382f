"""Template tags of the closed loop: ``{% customer_cases project customer_id %}`` renders the
customer's cases (for the customer 360 page)."""

from __future__ import annotations

from typing import Any

from django import template

from cxlens.web.loop.service import cases_for_customer

register = template.Library()


@register.inclusion_tag("cxlens/loop/_customer_cases.html")
def customer_cases(project: Any, customer_id: str) -> dict[str, Any]:
    return {"project": project, "cases": cases_for_customer(project, str(customer_id))}
