#!/usr/bin/env python3
"""Generates examples/traces/november.csv, a month of requests for examples/config/tokenbudget.yaml.

Deterministic (seed 2026; the helpers are in tracegen.py); run
`python3 generate_trace.py > november.csv` to regenerate.
- support-prod (feature support-copilot, model claude-opus-4-7): about 500 requests a weekday of
  ~14k input / ~2.8k output tokens, weekends at 40%; a launch on Monday 16 November multiplies
  traffic by 1.8, which takes the feature past its 50M monthly output limit before the month ends.
- agents (feature internal-agents, model gpt-4.1): about 250 requests a day of ~5k input / ~1k
  output tokens, with bursts on 10 and 24 November that hit the key's own 2M-a-day hard stop.
Requests are spread over the day with a business-hours profile (UTC).
"""
import datetime

from tracegen import Traffic, print_csv

traffic = Traffic(2026)
lognormal, moments = traffic.lognormal, traffic.moments
WEEKDAY = [1.25, 1.2, 1.1, 1.05, 0.95, 0.45, 0.4]  # Monday first

rows = []
start = datetime.date(2026, 11, 1)
for i in range(30):
    day = start + datetime.timedelta(days=i)
    level = WEEKDAY[day.weekday()] * (1.8 if day >= datetime.date(2026, 11, 16) else 1.0)
    n = int(round(lognormal(500 * level, 0.08)))
    for t in moments(day, n):
        out = min(4096, int(lognormal(2800, 0.5)))
        rows.append((t, "support-prod", "support-copilot", "claude-opus-4-7", int(lognormal(14000, 0.6)), out, 4096))
    burst = 2.1 if day.day in (10, 24) else 1.0
    n = int(round(lognormal(250 * burst, 0.1)))
    for t in moments(day, n):
        out = min(2048, int(lognormal(1000, 0.4)))
        rows.append((t, "agents", "internal-agents", "gpt-4.1", int(lognormal(5000, 0.5)), out, 2048))

print_csv(rows)
