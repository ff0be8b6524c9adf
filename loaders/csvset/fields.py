"""Column types of the CSV format, and the converters that validate one field each.

Each converter takes the field's text (already stripped, never empty) and returns the
value, or raises :class:`FieldError` with a reason precise enough to fix the file without
reading this code. The reader turns that into a ``Reject`` with file, line and column.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from schema.errors import InvalidKeyError
from schema.identifiers import canonical_key, gs1_check_digit, key_kind, normalise_gtin
from schema.kinds import KEY_PREFIXES, NodeKind


class FieldError(ValueError):
    """One field cannot be accepted; ``str(error)`` is the reason shown to the user."""


class ColumnType(StrEnum):
    """How a column's text is read. The values are what docs/reference/csv-format.md prints."""

    KEY = "key"
    TEXT = "text"
    INTEGER = "integer"
    QUANTITY = "quantity"
    TIME = "time"
    DATE = "date"
    CHOICE = "choice"
    GTIN = "GTIN"
    MEASUREMENTS = "measurements"


@dataclass(frozen=True)
class Column:
    """One column of a recognised file, documented as the reference prints it."""

    name: str
    type: ColumnType
    required: bool
    meaning: str
    example: str
    #: For KEY columns: the node kinds a key here may name (empty: any kind).
    kinds: tuple[NodeKind, ...] = ()
    #: For CHOICE columns: the accepted values, in the order the reference lists them.
    choices: tuple[str, ...] = field(default=())

    @property
    def type_text(self) -> str:
        """The type as the reference prints it, e.g. ``key (Supplier)`` or ``one of pass, fail``."""
        if self.type is ColumnType.KEY and self.kinds:
            return "key (" + " or ".join(k.value for k in self.kinds) + ")"
        if self.type is ColumnType.CHOICE:
            return "one of " + ", ".join(f"`{c}`" for c in self.choices)
        return self.type.value


def parse_time(text: str) -> datetime:
    """An ISO 8601 date and time; without an offset it is taken as UTC. Returned in UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(f"not an ISO 8601 time: {text!r} (write e.g. 2024-03-05T14:30:00Z)") from None
    if len(text) <= 10:
        # fromisoformat also reads a bare date as midnight; a containment interval needs the
        # time of day, so say so instead of guessing.
        raise FieldError(f"{text!r} is a date without a time of day (write e.g. {text}T00:00:00Z)")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_date(text: str) -> str:
    """A calendar date written YYYY-MM-DD, returned as written (dates stay ISO strings in props)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise FieldError(f"not a date written YYYY-MM-DD: {text!r}")
    try:
        date.fromisoformat(text)
    except ValueError as exc:
        raise FieldError(f"not a valid date: {text!r} ({exc})") from None
    return text


def parse_quantity(text: str) -> int | float:
    """A non-negative number; integers stay integers so props read naturally."""
    try:
        value: int | float = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise FieldError(f"not a number: {text!r}") from None
        if not math.isfinite(value):
            raise FieldError(f"not a finite number: {text!r}") from None
    if value < 0:
        raise FieldError(f"negative quantity: {text}")
    return value


def parse_integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise FieldError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise FieldError(f"negative number: {text}")
    return value


@functools.lru_cache(maxsize=1024)
def parse_gtin(text: str) -> str:
    """A GTIN-8, -12, -13 or -14 with a valid check digit, returned as GTIN-14 (zero-padded)."""
    try:
        return normalise_gtin(text)
    except InvalidKeyError as exc:
        raise FieldError(str(exc)) from None


def parse_measurements(text: str) -> dict[str, float | int]:
    """``name=value`` pairs separated by ``;``, e.g. ``wall_mm=0.42;burst_kpa=610``."""
    values: dict[str, float | int] = {}
    for pair in text.split(";"):
        pair = pair.strip()
        if not pair:
            continue
        name, sep, number = pair.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name or not number:
            raise FieldError(f"measurement {pair!r} is not written name=value")
        if name in values:
            raise FieldError(f"measurement {name!r} is given twice")
        try:
            values[name] = int(number)
        except ValueError:
            try:
                values[name] = float(number)
            except ValueError:
                raise FieldError(f"measurement {name!r} has a value that is not a number: {number!r}") from None
            if not math.isfinite(values[name]):
                raise FieldError(f"measurement {name!r} is not a finite number: {number!r}") from None
    if not values:
        raise FieldError("no measurement in the field (write name=value;name=value)")
    return values


def choice_parser(column: Column) -> Callable[[str], str]:
    """Choices compare case-insensitively and treat ``-`` and spaces as ``_`` (``In-Process``)."""
    accepted = frozenset(column.choices)
    listed = ", ".join(column.choices)

    def parse(text: str) -> str:
        value = text.lower().replace("-", "_").replace(" ", "_")
        if value not in accepted:
            raise FieldError(f"unknown value {text!r}; expected one of {listed}")
        return value

    return parse


#: Already-canonical GS1 keys whose values need no percent-encoding and are valid GS1 AI 10/21
#: values (set 82, at most 20 characters): the form exports and the synthetic plant write.
_PLAIN_GS1_ITEM = re.compile(r"01/([0-9]{14})/(?:21|10)/[A-Za-z0-9._-]{1,20}")
_PLAIN_GS1_NUMBER = re.compile(r"(?:00/([0-9]{18})|414/([0-9]{13}))")


def plain_gs1_key(text: str) -> str | None:
    """``text`` itself when it is a canonical GS1 key in its plainest form, else None.

    :func:`canonical_key` parses GS1 keys as Digital Link URIs, which costs tens of
    microseconds a key: a million-device export would spend minutes there. Keys already in
    canonical form with plain values only need their check digit verified; everything else
    (other forms, escapes, errors to explain) still goes through ``canonical_key``. A
    property test holds this to ``canonical_key``'s answer.
    """
    match = _PLAIN_GS1_ITEM.fullmatch(text) or _PLAIN_GS1_NUMBER.fullmatch(text)
    if match is None:
        return None
    number = next(g for g in match.groups() if g is not None)
    return text if _check_digit_ok(number) else None


@functools.lru_cache(maxsize=4096)
def _check_digit_ok(number: str) -> bool:
    # Cached: an export repeats a handful of GTINs on every row.
    return gs1_check_digit(number[:-1]) == number[-1]


class KeyNormaliser:
    """Turns key fields into canonical keys, remembering what it has seen.

    A plant export repeats the same lot, work order or container on thousands of rows, so one
    canonicalisation per distinct text pays for the cache many times over.
    """

    def __init__(self) -> None:
        self._seen: dict[str, str | InvalidKeyError] = {}

    def parser(self, column: Column) -> Callable[[str], str]:
        allowed = frozenset(column.kinds)
        wanted = " or ".join(k.value for k in column.kinds)
        prefixes = [p for p, kind in KEY_PREFIXES.items() if kind in allowed]
        seen = self._seen

        def parse(text: str) -> str:
            known = seen.get(text)
            if known is None:
                try:
                    known = plain_gs1_key(text) or canonical_key(text)
                except InvalidKeyError as exc:
                    known = exc
                seen[text] = known
            if isinstance(known, InvalidKeyError):
                reason = str(known)
                if prefixes and ":" not in text and "/" not in text:
                    # The usual slip: an ERP code without its kind prefix.
                    reason += f" (a natural key carries its kind, e.g. {prefixes[0]}:{text})"
                raise FieldError(reason)
            if allowed:
                kind = key_kind(known)
                if kind is not None and kind not in allowed:
                    raise FieldError(f"{known} is a {kind.value} key; this column takes a {wanted}")
            return known

        return parse


def converter(column: Column, keys: KeyNormaliser) -> Callable[[str], Any]:
    """The function that reads one field of ``column``."""
    simple: dict[ColumnType, Callable[[str], Any]] = {
        ColumnType.TEXT: str,
        ColumnType.INTEGER: parse_integer,
        ColumnType.QUANTITY: parse_quantity,
        ColumnType.TIME: parse_time,
        ColumnType.DATE: parse_date,
        ColumnType.GTIN: parse_gtin,
        ColumnType.MEASUREMENTS: parse_measurements,
    }
    if column.type is ColumnType.KEY:
        return keys.parser(column)
    if column.type is ColumnType.CHOICE:
        return choice_parser(column)
    return simple[column.type]
