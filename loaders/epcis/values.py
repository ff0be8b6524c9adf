"""Lexical forms of EPCIS values: timestamps, offsets, decimals, URIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d+))?)?"
    r"(?P<tz>[Zz]|[+-]\d{2}:?\d{2})?"
)
_OFFSET = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_HEX = re.compile(r"[0-9A-Fa-f]+")


def parse_datetime(text: str) -> tuple[datetime, Decimal] | None:
    """An ISO 8601 date-time as (UTC datetime to the whole second, fraction of a second).

    The fraction is kept exactly (EPCIS allows nanoseconds) so that rounding can be done
    once, where it is needed. A time without offset is taken as UTC: XML Schema leaves it
    undetermined and a hash must not depend on the machine's time zone.
    """
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        return None
    try:
        whole = datetime.fromisoformat(f"{match['date']}T{match['h']}:{match['m']}:{match['s'] or '00'}")
    except ValueError:
        return None
    tz = match["tz"]
    if tz and tz not in "Zz":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 14 or minutes > 59:
            return None
        whole = whole.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    else:
        whole = whole.replace(tzinfo=UTC)
    fraction = Decimal("0." + match["frac"]) if match["frac"] else Decimal(0)
    return whole.astimezone(UTC), fraction


def to_datetime(text: str) -> datetime | None:
    """An ISO 8601 date-time as an aware UTC datetime (microseconds), or None."""
    parsed = parse_datetime(text)
    if parsed is None:
        return None
    whole, fraction = parsed
    return whole + timedelta(microseconds=int(fraction * 1_000_000))


def is_offset(text: str) -> bool:
    """``+HH:MM`` / ``-HH:MM`` between -14:00 and +14:00, as EPCIS requires."""
    return _OFFSET.fullmatch(text) is not None


def is_decimal(text: str) -> bool:
    return _DECIMAL.fullmatch(text.strip()) is not None


def is_uri(text: str) -> bool:
    """Has a scheme and no spaces: what EPCIS means by a URI (EPC, GLN, transaction id...)."""
    return _URI.fullmatch(text.strip()) is not None


def is_hex(text: str) -> bool:
    return _HEX.fullmatch(text) is not None
