"""The demo company: a realistic, deterministic experience data set with planted truths.

``DemoCompany(customers, seed, now=...)`` streams the contract tables chunk by chunk
(:meth:`DemoCompany.chunks`), gives the touchpoints reference table and :meth:`DemoCompany.truths`,
the machine-readable record of every effect planted in the data. See ``docs/demo.md``.
"""

from __future__ import annotations

from cxlens.demo.design import GENERATOR_VERSION
from cxlens.demo.generator import DemoChunk, DemoCompany

__all__ = ["GENERATOR_VERSION", "DemoChunk", "DemoCompany"]
