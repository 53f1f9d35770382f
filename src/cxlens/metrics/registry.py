"""Every metric runner, by name. New runner modules register here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ibis

from cxlens.metrics.loop import LOOP_RUNNERS, LOOP_SPECIAL
from cxlens.metrics.result import MetricQuery, MetricResult
from cxlens.metrics.retention import churn, retention
from cxlens.metrics.runner import Runner
from cxlens.metrics.scores import SCORE_RUNNERS
from cxlens.metrics.service import SERVICE_RUNNERS, backlog

#: Runners computed by the generic engine (group by breakdowns and period, aggregate, estimate).
RUNNERS: dict[str, type[Runner]] = {r.name: r for r in (*SCORE_RUNNERS, *SERVICE_RUNNERS, *LOOP_RUNNERS)}

#: Metrics whose computation does not fit the generic engine (e.g. churn needs the customers
#: active at each period's start); each takes (tables, settings, query) like run_metric.
MetricFunction = Callable[[Mapping[str, ibis.Table], Mapping[str, Any], MetricQuery], MetricResult]
SPECIAL: dict[str, MetricFunction] = {}
SPECIAL["backlog"] = backlog
SPECIAL["churn"] = churn
SPECIAL["retention"] = retention
SPECIAL.update(LOOP_SPECIAL)
