#!/usr/bin/env python3
"""Generates examples/routing/october.csv, a month of requests for the two configs beside it.

Deterministic (seed 1010; the helpers are in ../traces/tracegen.py); run
`python3 generate_trace.py > october.csv` to regenerate.
- support-prod (feature support-copilot, model claude-opus-4-7, max_tokens 4096): about 870
  requests a weekday of ~12k input / ~2.2k output tokens (weekends at 45%); a launch on Monday
  12 October lifts traffic by 35%. Demand for the month is about 390M tokens against the
  feature's 300M allocation.
- search (feature internal-search, model gpt-4.1-mini, max_tokens 1024): about 220 requests a day
  of ~5k input / ~500 output tokens, well below its 150M, so it has allocation to give at mid-month.
Requests are spread over the day with a business-hours profile (UTC).
"""
import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "traces"))
from tracegen import Traffic, print_csv  # noqa: E402

traffic = Traffic(1010)
lognormal, moments = traffic.lognormal, traffic.moments
WEEKDAY = [1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.45]  # Monday first
LAUNCH = datetime.date(2026, 10, 12)

rows = []
start = datetime.date(2026, 10, 1)
for i in range(31):
    day = start + datetime.timedelta(days=i)
    level = WEEKDAY[day.weekday()] * (1.35 if day >= LAUNCH else 1.0)
    for t in moments(day, int(round(lognormal(870 * level, 0.06)))):
        out = min(4096, int(lognormal(2200, 0.6)))
        rows.append((t, "support-prod", "support-copilot", "claude-opus-4-7", int(lognormal(12000, 0.5)), out, 4096))
    for t in moments(day, int(round(lognormal(220, 0.1)))):
        out = min(1024, int(lognormal(500, 0.4)))
        rows.append((t, "search", "internal-search", "gpt-4.1-mini", int(lognormal(5000, 0.5)), out, 1024))

print_csv(rows)
