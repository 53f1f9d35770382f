"""Server-side SVG charts: the value axis never goes below zero for figures that cannot (hours, rates)."""

from __future__ import annotations

import re

from .conftest import require_web

require_web()


def _axis_values(svg: str) -> list[float]:
    found = re.findall(r'<text class="axis" x="[\d.]+" y="[\d.]+" text-anchor="end">(-?[\d,.]+)h</text>', svg)
    return [float(v.replace(",", "")) for v in found]  # the value axis (the last time label ends no "h")


def test_the_value_axis_starts_at_zero_when_no_value_is_negative() -> None:
    from cxlens.web import charts

    def chart(*values: float) -> str:
        return str(charts.line_chart([charts.Series("s", tuple(charts.Point(f"2026-0{i + 1}", v, None, None, None)
                                                               for i, v in enumerate(values)))], unit="h"))

    flat = _axis_values(chart(0.0, 0.0))  # one value only: it used to show -1.2 h
    assert flat and min(flat) == 0.0
    assert min(_axis_values(chart(0.1, 5.0))) == 0.0  # 0.1 less a margin of 8% of 4.9 would be -0.29
    assert min(_axis_values(chart(2.0, 5.0))) == 1.8  # far from zero: the margin stays (2 - 0.24)
    signed = _axis_values(chart(-10.0, 20.0))  # NPS may be negative: the axis follows it
    assert min(signed) < -10.0 and max(signed) > 20.0
