"""From the cells of an export row to the text of one native column.

A :class:`FieldRule` is one ``columns:`` entry of a mapping, compiled. It renders the
native column's text (what a native CSV file would hold), which the CSV format's own
converter then validates, so a mapped row is held to exactly the rules of a native row.
Problems raise :class:`CellError` naming the export column at fault.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from loaders.csvset.fields import Column, ColumnType, FieldError
from loaders.mapping.spec import EXCEL, EXCEL_1904, ISO, FieldSpec, Template
from loaders.mapping.units import UnitError, compatible, convert
from schema.identifiers import encode_key_value
from schema.udi import parse_udi

#: What a cell holds: text from a CSV; from an XLSX also numbers, booleans and dates.
Cell = str | int | float | bool | datetime | date | time | None
Row = Mapping[str, Cell]

#: Day 0 of Excel's 1900 date system (the day before its fictitious 1900-02-29, so
#: serials from 1900-03-01 on come out right) and of the 1904 system.
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_1904_EPOCH = datetime(1904, 1, 1)


class CellError(FieldError):
    """A cell that cannot be read; ``column`` is the export column, when one is to blame."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(reason)
        self.column = column


def cell_text(value: Cell) -> str:
    """A cell as text, the way a spreadsheet shows it: whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


# ------------------------------------------------------------------------------ numbers

_GROUPS = {
    # decimal separator -> a number with optional thousands groups (never ambiguous ones)
    ".": re.compile(r"[+-]?(?:[0-9]{1,3}(?:[, \u00a0\u202f'][0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"),
    ",": re.compile(r"[+-]?(?:[0-9]{1,3}(?:[. \u00a0\u202f'][0-9]{3})+|[0-9]+)(?:,[0-9]+)?"),
}


def read_number(value: Cell, decimal: str, column: str | None) -> float | int:
    """A number from a cell. With ``decimal: ","``, ``1.234,5`` is 1234.5; thousands
    separators are accepted only in groups of three, so ``1.5`` is refused rather than
    read as 15 when the decimal separator is a comma."""
    if isinstance(value, bool):
        raise CellError(f"not a number: {value}", column)
    if isinstance(value, int | float):
        return value
    text = cell_text(value)
    if _GROUPS[decimal].fullmatch(text):
        plain = re.sub(r"[ \u00a0\u202f',.]", lambda m: "." if m.group() == decimal else "", text)
        return int(plain) if "." not in plain else float(plain)
    if decimal == ".":
        try:
            return float(text)  # 1e-3 and the like
        except ValueError:
            pass
    raise CellError(f"not a number written with decimal separator {decimal!r}: {text!r}", column)


def number_text(value: float | int) -> str:
    """How a number is written for the native converter: whole numbers without ``.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# -------------------------------------------------------------------------- times, dates


def _excel_serial(value: Cell, epoch: datetime, column: str | None) -> datetime:
    number = read_number(value, ".", column) if not isinstance(value, int | float) else value
    if not 0 <= number < 2_958_466:  # 9999-12-31
        raise CellError(f"not an Excel serial date: {number}", column)
    # Round to the millisecond: serials are binary fractions of a day.
    return epoch + timedelta(milliseconds=round(number * 86_400_000))


def read_datetime(value: Cell, fmt: str | None, *, epoch: datetime, column: str | None) -> datetime | date:
    """A date or time from a cell: XLSX dates as they are, text by ``fmt`` (ISO when not given)."""
    if isinstance(value, datetime | date):
        return value
    if fmt in (EXCEL, EXCEL_1904):
        return _excel_serial(value, EXCEL_1904_EPOCH if fmt == EXCEL_1904 else epoch, column)
    text = cell_text(value)
    if fmt is None or fmt == ISO:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise CellError(f"not an ISO 8601 date or time: {text!r}", column) from None
        # fromisoformat reads a bare date as midnight: keep it a date, so a time column can refuse it.
        return parsed.date() if len(text) <= 10 else parsed
    try:
        return datetime.strptime(text, fmt)
    except (ValueError, re.error):  # re.error: a pattern strptime cannot compile (spec.py refuses those)
        raise CellError(f"{text!r} does not match the format {fmt!r}", column) from None


def time_text(value: datetime | date, zone: tzinfo, column: str | None) -> str:
    if not isinstance(value, datetime):
        raise CellError(f"{value.isoformat()} is a date without a time of day", column)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.isoformat()


def date_text(value: datetime | date) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


# ------------------------------------------------------------------------------ the rule


@dataclass(frozen=True)
class FieldRule:
    """One native column, and how a row of the export fills it."""

    column: Column
    spec: FieldSpec
    zone: tzinfo
    template: Template | None

    @staticmethod
    def compile(column: Column, spec: FieldSpec, default_zone: str) -> FieldRule:
        template = Template.parse(spec.template) if spec.template is not None else None
        return FieldRule(column, spec, zoneinfo.ZoneInfo(spec.timezone or default_zone), template)

    @property
    def origin(self) -> str:
        """What a reject names as its field: the export column(s) this native column comes from."""
        columns = self.spec.value_columns
        if columns:
            return ", ".join(columns)
        return f"{self.column.name} (constant)"

    def render(self, row: Row, *, epoch: datetime) -> str | None:
        """The native text of this column for ``row``; None when not given."""
        raw = self._raw(row)
        if raw is None or raw == "":
            return None
        spec, kind = self.spec, self.column.type
        source = spec.column
        if spec.udi is not None:
            raw = self._from_barcode(cell_text(raw), source)
            if raw is None:
                return None
        if spec.values is not None:
            raw = self._mapped(cell_text(raw))
            if raw == "":
                return None
        if kind is ColumnType.TIME:
            return time_text(read_datetime(raw, spec.format, epoch=epoch, column=source), self.zone, source)
        if kind is ColumnType.DATE:
            return date_text(read_datetime(raw, spec.format, epoch=epoch, column=source))
        if kind in (ColumnType.QUANTITY, ColumnType.INTEGER) and spec.measurements is None:
            return number_text(self._number(raw, row))
        return cell_text(raw)

    def missing_column(self, row: Row) -> str | None:
        """The export column whose empty cell left this field empty, to name in the reject."""
        for name in self.spec.value_columns:
            if cell_text(row.get(name)) == "":
                return name
        return self.spec.column

    def _raw(self, row: Row) -> Cell:
        spec = self.spec
        if spec.constant is not None:
            return spec.constant.strip()
        if spec.column is not None:
            return row.get(spec.column)
        if self.template is not None:
            return self._fill(row, self.template)
        assert spec.measurements is not None
        return self._measurements(row, spec.measurements)

    def _fill(self, row: Row, template: Template) -> str | None:
        encode = template.is_key_path
        text = []
        for part in template.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            value = cell_text(row.get(part[0]))
            if not value:
                return None  # "lot:{Batch}" with no batch is no key, not the key "lot:"
            text.append(encode_key_value(value) if encode else value)
        return "".join(text)

    def _measurements(self, row: Row, columns: dict[str, str]) -> str | None:
        decimal = self.spec.decimal or "."
        pairs = []
        for label, column in columns.items():
            cell = row.get(column)
            if cell_text(cell) == "":
                continue  # a characteristic not measured on this lot
            pairs.append(f"{label.strip()}={number_text(read_number(cell, decimal, column))}")
        return ";".join(pairs) or None

    def _from_barcode(self, text: str, column: str | None) -> str | None:
        parsed = parse_udi(text)
        if not parsed.valid:
            raise CellError(f"not a valid UDI {text!r}: {'; '.join(parsed.errors)}", column)
        assert self.spec.udi is not None
        value: str | None = getattr(parsed, self.spec.udi)
        if value is None and self.column.required:
            raise CellError(f"the barcode {text!r} has no {self.spec.udi}", column)
        return value

    def _mapped(self, text: str) -> str:
        values = self.spec.values or {}
        if text in values:
            return values[text]
        folded = text.casefold()
        for source, target in values.items():
            if source.strip().casefold() == folded:
                return target
        return text  # unmapped values go on unchanged; the native column accepts or rejects them

    def _number(self, raw: Cell, row: Row) -> float | int:
        value = read_number(raw, self.spec.decimal or ".", self.spec.column)
        if self.spec.unit is None:
            return value
        source_unit, target = self._units(row)
        return convert(value, source_unit, target)

    def target_unit(self, row: Row) -> str:
        """The unit this row's quantity is converted to (what the ``unit`` column gets)."""
        return self._units(row)[1]

    def _units(self, row: Row) -> tuple[str, str]:
        """(unit of the row's quantity, unit it becomes); CellError naming the unit's column."""
        conversion = self.spec.unit
        assert conversion is not None
        if conversion.from_ is not None:
            source_unit, blame = conversion.from_, self.spec.column
        else:
            assert conversion.column is not None
            source_unit, blame = cell_text(row.get(conversion.column)), conversion.column
            if not source_unit:
                raise CellError("missing unit", blame)
        try:
            target = next((t for t in conversion.to if compatible(source_unit, t)), None)
        except UnitError as exc:
            raise CellError(str(exc), blame) from None
        if target is None:
            raise CellError(f"cannot convert {source_unit} to {' or '.join(conversion.to)}", blame)
        return source_unit, target
