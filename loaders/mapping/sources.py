"""Reading an export (CSV or XLSX) as rows of cells keyed by column name.

Row numbers are what the user sees: a CSV record's first line (the header is line
``header_row``); in a workbook the sheet's row number. Problems that stop a whole file
(unreadable, no such sheet, no header) are reported as a :class:`SourceProblem`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from loaders.mapping.spec import SourceSpec
from loaders.mapping.values import EXCEL_EPOCH, Cell, cell_text

XLSX_SUFFIXES = (".xlsx", ".xlsm")

_CsvReader = Any  # csv.reader's type (_csv.Reader) is not importable under one name across versions


class SourceProblem(Exception):
    """The export as a whole cannot be read; ``line`` is where, when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass
class SourceRow:
    line: int
    cells: list[Cell]
    #: Set when the record itself could not be read (a stray quote in a CSV).
    problem: str | None = None

    def text(self) -> str:
        """The row as one CSV line: how a reject quotes it and its record hash is taken."""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow([cell_text(c) for c in self.cells])
        return buffer.getvalue()


@dataclass
class Export:
    """An opened export: where it came from, its header and its rows (read lazily)."""

    name: str
    header: list[str]
    header_line: int
    rows: Iterator[SourceRow]
    #: Day 0 of the workbook's serial dates (1900 or 1904 system).
    epoch: datetime = EXCEL_EPOCH


def header_name(text: Cell) -> str:
    """Column names compare without case and with runs of spaces as one: exports disagree
    about ``Batch no.`` and ``BATCH  NO.``, never about meaning."""
    return re.sub(r"\s+", " ", cell_text(text).lstrip("\ufeff")).strip().casefold()


def is_xlsx(path: Path, spec: SourceSpec) -> bool:
    if spec.format == "auto":
        return path.suffix.lower() in XLSX_SUFFIXES
    return spec.format == "xlsx"


def open_export(path: Path, spec: SourceSpec) -> Export:
    if is_xlsx(path, spec):
        return _open_xlsx(path, spec)
    return _open_csv(path, spec)


# --------------------------------------------------------------------------------- CSV


def _open_csv(path: Path, spec: SourceSpec) -> Export:
    try:
        text = path.read_text(encoding=spec.encoding)
    except LookupError:
        raise SourceProblem(f"unknown text encoding {spec.encoding!r} (source.encoding)") from None
    except UnicodeDecodeError as exc:
        raise SourceProblem(f"not {spec.encoding} text: {exc} (set source.encoding, e.g. cp1252)") from None
    except OSError as exc:
        raise SourceProblem(f"cannot read the file: {exc.strerror or exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter, strict=True)
    header: list[str] | None = None
    line = 1
    while header is None:
        try:
            record = next(reader)
        except StopIteration:
            raise SourceProblem(f"no header: the file ends before line {spec.header_row}", spec.header_row) from None
        except csv.Error as exc:
            raise SourceProblem(f"malformed CSV before the header: {exc}", line) from None
        if line >= spec.header_row:
            header = record
        line = reader.line_num + 1
    return Export(path.name, header, spec.header_row, _csv_rows(reader, line))


def _csv_rows(reader: _CsvReader, first_line: int) -> Iterator[SourceRow]:
    line = first_line
    while True:
        try:
            record: list[Cell] = list(next(reader))
        except StopIteration:
            return
        except csv.Error as exc:
            # A stray quote loses this record; reading goes on after it.
            yield SourceRow(line, [], problem=f"malformed CSV: {exc}")
        else:
            yield SourceRow(line, record)
        line = reader.line_num + 1


# -------------------------------------------------------------------------------- XLSX


def _open_xlsx(path: Path, spec: SourceSpec) -> Export:
    from openpyxl import load_workbook  # only exports need it; keep CLI start-up light

    try:
        # read_only streams rows; data_only gives formulas' cached values, as Excel shows them.
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SourceProblem(f"not a readable XLSX workbook: {exc}") from None
    names = workbook.sheetnames
    if spec.sheet is None:
        sheet = workbook[names[0]]
    elif spec.sheet in names:
        sheet = workbook[spec.sheet]
    else:
        workbook.close()
        raise SourceProblem(f"no sheet {spec.sheet!r} (source.sheet); sheets: {', '.join(names)}")
    rows = sheet.iter_rows(min_row=spec.header_row, values_only=True)
    header_cells = next(rows, None)
    if header_cells is None:
        workbook.close()
        raise SourceProblem(f"no header: the sheet ends before row {spec.header_row}", spec.header_row)
    export = Export(
        f"{path.name}!{sheet.title}",
        [cell_text(c) for c in header_cells],
        spec.header_row,
        _xlsx_rows(rows, spec.header_row + 1, workbook),
        epoch=workbook.epoch,
    )
    return export


def _xlsx_rows(rows: Iterator[tuple[Cell, ...]], first: int, workbook: object) -> Iterator[SourceRow]:
    try:
        for number, cells in enumerate(rows, start=first):
            yield SourceRow(number, list(cells))
    finally:
        workbook.close()  # type: ignore[attr-defined]
