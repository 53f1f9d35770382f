"""The pure core of the closed loop: alert-rule conditions and the business-hours SLA clock.

Nothing here touches a database: the web app (``cxlens.web.loop``) stores rules and cases and
calls these functions; the loop metrics (``cxlens.metrics.loop``) read the ``cases`` table.
"""

from __future__ import annotations

from cxlens.loop.rules import All, AnyOf, Condition, Leaf, Not, describe, parse_condition
from cxlens.loop.sla import BusinessCalendar, SlaDue, SlaPolicy, SlaStatus, SlaTimer, parse_calendar

__all__ = [
    "All", "AnyOf", "BusinessCalendar", "Condition", "Leaf", "Not", "SlaDue", "SlaPolicy", "SlaStatus",
    "SlaTimer", "describe", "parse_calendar", "parse_condition",
]
