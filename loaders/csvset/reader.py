"""Reading CSV files of the documented format into facts and rejects.

The reader never raises for bad data: every problem becomes a ``Reject`` naming the file,
the line (the header is line 1; a record that spans lines is reported at its first line),
the column and the reason. A row with several bad fields gets one reject per field, so a
file can be fixed in one pass.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loaders.base import ParseResult, Reject
from loaders.csvset.fields import Column, FieldError, KeyNormaliser, converter
from loaders.csvset.format import (
    CSV_FILES,
    EXTENSION_PREFIX,
    IGNORED_NAMES,
    IGNORED_PREFIXES,
    CsvFile,
    RowError,
    RowSink,
    Values,
)
from schema.model import Provenance

SOURCE_SYSTEM = "csv"

#: How much of a bad record a reject quotes: enough to recognise it, not a whole export.
_RECORD_QUOTE = 500


def parse_csv_path(path: Path) -> ParseResult:
    """Read one recognised file, or every recognised file in a directory.

    In a directory, files are read in the order of ``CSV_FILES`` (catalogue before flow);
    any other entry is a reject, except ``manifest.json`` and ``README*``, so a misnamed
    file (``device.csv``) is never silently left out of a load.
    """
    with _collector_paused():
        return _parse_path(path)


def _parse_path(path: Path) -> ParseResult:
    result = ParseResult()
    keys = KeyNormaliser()
    if path.is_dir():
        found: dict[str, Path] = {}
        for entry in sorted(path.iterdir(), key=lambda p: p.name):
            if entry.name in CSV_FILES and entry.is_file():
                found[entry.name] = entry
            elif entry.name not in IGNORED_NAMES and not entry.name.startswith(IGNORED_PREFIXES):
                result.rejects.append(Reject(source=entry.name, reason=_unrecognised(entry.name)))
        for name in CSV_FILES:
            if name in found:
                result.extend(_parse_file(found[name], keys))
    elif path.is_file():
        if path.name in CSV_FILES:
            result.extend(_parse_file(path, keys))
        else:
            result.rejects.append(Reject(source=path.name, reason=_unrecognised(path.name)))
    else:
        result.rejects.append(Reject(source=str(path), reason="no such file or directory"))
    return result


def parse_csv_text(file_name: str, text: str) -> ParseResult:
    """Read the content of one recognised file, named as it would be on disk (an upload)."""
    spec = CSV_FILES.get(Path(file_name).name)
    if spec is None:
        return ParseResult(rejects=[Reject(source=file_name, reason=_unrecognised(file_name))])
    with _collector_paused():
        # newline="": split at \n, \r and \r\n only, as csv does (not at \u2028 and the like).
        return parse_lines(spec, Path(file_name).name, io.StringIO(text, newline=""), KeyNormaliser())


def _unrecognised(name: str) -> str:
    return "not a recognised file of the CSV format; expected one of " + ", ".join(CSV_FILES)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is read.

    A load builds hundreds of thousands of small acyclic objects, and the collections they
    trigger rescan the growing heap again and again: pausing more than halved the parse
    time of the medium plant. Nothing read here forms cycles, so nothing is lost by waiting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_file(path: Path, keys: KeyNormaliser) -> ParseResult:
    spec = CSV_FILES[path.name]
    try:
        # utf-8-sig: spreadsheet programs start their CSV exports with a byte order mark.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return parse_lines(spec, path.name, handle, keys)
    except UnicodeDecodeError as exc:
        return ParseResult(rejects=[Reject(source=path.name, reason=f"not UTF-8 text: {exc}")])
    except OSError as exc:
        return ParseResult(rejects=[Reject(source=path.name, reason=f"cannot read the file: {exc.strerror or exc}")])


class _Tap:
    """Hands lines to ``csv.reader`` and keeps the ones the current record was read from,
    so each record is hashed and quoted as it stood in the file."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines = lines
        self.taken: list[str] = []
        self.consumed = 0  # physical lines handed out before the current record

    def __iter__(self) -> Iterator[str]:
        taken = self.taken
        for line in self.lines:
            taken.append(line)
            yield line

    def record(self) -> tuple[int, str]:
        """The first line number and the raw text of the record just read; then forget it."""
        line = self.consumed + 1
        raw = self.taken[0] if len(self.taken) == 1 else "".join(self.taken)
        self.consumed += len(self.taken)
        self.taken.clear()
        return line, raw.rstrip("\r\n")


def parse_lines(spec: CsvFile, source: str, lines: Iterable[str], keys: KeyNormaliser) -> ParseResult:
    """Read one file's lines (line breaks kept) against ``spec``."""
    result = ParseResult()
    rejects = result.rejects
    tap = _Tap(lines)
    # strict: a stray or unterminated quote is an error to report, not data to guess at.
    reader = csv.reader(tap, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        rejects.append(Reject(source=source, line=1, reason="empty file: the header line is missing"))
        return result
    except csv.Error as exc:
        rejects.append(Reject(source=source, line=1, reason=f"unreadable header: {exc}"))
        return result
    tap.record()

    plan, header_ok = _read_header(spec, source, header, rejects, keys)
    width = len(header)
    build = spec.build
    absent: Values = {c.name: None for c in spec.columns}
    sink = RowSink(result.nodes, result.edges, set(), Provenance(source_system=SOURCE_SYSTEM, source=source))

    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # A stray quote (strict mode): this record is lost, reading goes on after it.
            line, raw = tap.record()
            result.records += 1
            rejects.append(Reject(source=source, line=line, reason=f"malformed CSV: {exc}", record=raw[:_RECORD_QUOTE]))
            continue
        line, raw = tap.record()
        if not any(row):
            continue  # blank lines (and spreadsheets' trailing ",,,,") are not records
        result.records += 1
        if not header_ok:
            continue  # reported once, at the header
        if len(row) != width:
            rejects.append(
                Reject(
                    source=source,
                    line=line,
                    reason=f"the row has {len(row)} fields, the header {width}",
                    record=raw[:_RECORD_QUOTE],
                )
            )
            continue
        values = dict(absent)
        bad = False
        for index, column, convert in plan:
            text = row[index].strip()
            if not text:
                if column.required:
                    rejects.append(
                        Reject(
                            source=source,
                            line=line,
                            field=column.name,
                            reason="missing value",
                            record=raw[:_RECORD_QUOTE],
                        )
                    )
                    bad = True
                continue
            try:
                values[column.name] = convert(text)
            except FieldError as exc:
                rejects.append(
                    Reject(source=source, line=line, field=column.name, reason=str(exc), record=raw[:_RECORD_QUOTE])
                )
                bad = True
        if bad:
            continue
        sink.provenance = Provenance(
            source_system=SOURCE_SYSTEM,
            source=source,
            line=line,
            record_hash=hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest(),
        )
        # A row's facts go in together or not at all: undo a half-built row.
        mark_nodes, mark_edges = len(result.nodes), len(result.edges)
        try:
            build(values, sink)
        except RowError as exc:
            del result.nodes[mark_nodes:]
            del result.edges[mark_edges:]
            rejects.append(
                Reject(source=source, line=line, field=exc.field, reason=exc.reason, record=raw[:_RECORD_QUOTE])
            )
    return result


_Plan = list[tuple[int, Column, Callable[[str], Any]]]


def _read_header(
    spec: CsvFile, source: str, header: list[str], rejects: list[Reject], keys: KeyNormaliser
) -> tuple[_Plan, bool]:
    """Which column of the file each spec column is read from; rejects for a bad header.

    Unknown columns are rejected (a misspelt ``unpacked_at`` would otherwise silently drop
    every unpacking and widen recalls); ``x_…`` columns are the exporter's own and skipped.
    """
    # A byte order mark survives when text was decoded without utf-8-sig (an upload).
    names = [h.strip().lstrip("\ufeff").strip().lower() for h in header]
    by_name = {c.name: c for c in spec.columns}
    plan: _Plan = []
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            rejects.append(Reject(source=source, line=1, field=name, reason="column appears twice in the header"))
            continue
        seen.add(name)
        column = by_name.get(name)
        if column is not None:
            plan.append((index, column, converter(column, keys)))
        elif not name.startswith(EXTENSION_PREFIX):
            rejects.append(
                Reject(
                    source=source,
                    line=1,
                    field=name or f"#{index + 1}",
                    reason="unknown column; expected "
                    + ", ".join(spec.column_names)
                    + f" (columns starting with {EXTENSION_PREFIX} are ignored)",
                )
            )
    missing = [c for c in spec.required if c not in seen]
    for name in missing:
        rejects.append(Reject(source=source, line=1, field=name, reason="required column missing"))
    return plan, not missing
