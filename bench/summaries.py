# SPDX-License-Identifier: MIT
"""bench/summaries.py: the per-round arithmetic both ends share.

The guest (bench/guest/) summarises each benchmark's rounds with it, and
bench/report.py recomputes per-round ratios from the raw rounds with it, so
that the two can never pair rounds differently.
"""
import statistics


def summary(values):
    v = sorted(values)
    return {"median": statistics.median(v), "min": v[0], "max": v[-1], "n": len(v)}


def ratios(a, b):
    """Per-round ratios of two series measured in the same rounds."""
    return [x / y for x, y in zip(a, b)]
