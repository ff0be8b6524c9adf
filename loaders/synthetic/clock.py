"""Time in the synthetic plant: whole epoch seconds (UTC), printed the one way the CSV format reads."""

from __future__ import annotations

import calendar
import time

MINUTE = 60
HOUR = 3600
DAY = 86400

#: The plant's first day (a Monday). Fixed, so a seed alone decides the output.
EPOCH = calendar.timegm((2024, 1, 8, 0, 0, 0))


def iso_time(t: int) -> str:
    """``2024-03-05T14:30:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def iso_date(t: int) -> str:
    """``2024-03-05``: the UTC calendar day of ``t``."""
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def day_code(t: int) -> str:
    """``240305``: the day as lot numbers print it."""
    return time.strftime("%y%m%d", time.gmtime(t))
