"""An export, read through a mapping, into facts and rejects.

Each export row becomes the row of a native CSV file (``CompiledMapping.target``): its
columns are rendered by the mapping's rules, validated by the CSV format's converters and
turned into facts by the file's own ``build``. So a mapped row is accepted or rejected by
exactly the rules of a native row, and there is one place that says what a row means.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loaders.base import ParseResult, Reject
from loaders.csvset.fields import Column, FieldError, KeyNormaliser, converter
from loaders.csvset.format import CsvFile, RowError, RowSink, Values
from loaders.mapping.sources import SourceProblem, SourceRow, header_name, open_export
from loaders.mapping.spec import MappingSpec, read_mapping_file
from loaders.mapping.values import Cell, CellError, FieldRule, cell_text
from schema.model import Provenance

#: How much of a bad record a reject quotes (as the CSV reader does).
_RECORD_QUOTE = 500


@dataclass(frozen=True)
class CompiledMapping:
    """A validated mapping, ready to read exports with."""

    name: str  # the mapping file's name
    spec: MappingSpec
    target: CsvFile
    rules: dict[str, FieldRule]

    @property
    def unit_rule(self) -> FieldRule | None:
        """The quantity conversion that fills the target's ``unit`` column, if any."""
        if "unit" not in self.target.column_names:
            return None
        return next((rule for rule in self.rules.values() if rule.spec.unit is not None), None)

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every export column the mapping reads, in the order it names them."""
        names = [c for f in self.spec.columns.values() for c in f.source_columns]
        names.extend(rule.column for rule in self.spec.source.skip)
        return tuple(dict.fromkeys(names))


def load_mapping(path: Path) -> CompiledMapping:
    """Read and validate a mapping file; raise ``MappingError`` listing every problem."""
    spec, target = read_mapping_file(path)
    by_name = {c.name: c for c in target.columns}
    rules = {name: FieldRule.compile(by_name[name], field, spec.timezone) for name, field in spec.columns.items()}
    return CompiledMapping(path.name, spec, target, rules)


@dataclass
class MappedResult:
    """What reading an export gave, with the counts a dry run reports."""

    result: ParseResult
    source: str
    skipped: int = 0
    rejected_rows: set[int] = field(default_factory=set)
    header_ok: bool = True

    @property
    def accepted(self) -> int:
        return 0 if not self.header_ok else self.result.records - len(self.rejected_rows)

    def nodes_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(n.kind.value for n in self.result.nodes).items()))

    def edges_by_type(self) -> dict[str, int]:
        return dict(sorted(Counter(e.type.value for e in self.result.edges).items()))


def read_export(path: Path, mapping: CompiledMapping) -> MappedResult:
    """Read ``path`` through ``mapping``. Never raises for bad data: every problem is a reject."""
    try:
        export = open_export(path, mapping.spec.source)
    except SourceProblem as exc:
        result = ParseResult(rejects=[Reject(source=path.name, line=exc.line, reason=exc.reason)])
        return MappedResult(result, path.name, header_ok=False)
    out = MappedResult(ParseResult(), export.name)
    columns = _locate_columns(export.name, export.header, export.header_line, mapping, out.result.rejects)
    out.header_ok = columns is not None
    row_reader = _RowReader(mapping, export.name, out, columns or {}, epoch=export.epoch)
    for row in export.rows:
        row_reader.read(row)
    return out


def _locate_columns(
    source: str, header: list[str], line: int, mapping: CompiledMapping, rejects: list[Reject]
) -> dict[str, int] | None:
    """Export column name -> its index; None (with rejects) when a column the mapping reads
    is missing or ambiguous, so that no row of a mismatched export is half-read."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(header_name(name), []).append(index)
    located: dict[str, int] = {}
    for name in mapping.source_columns:
        found = positions.get(header_name(name), [])
        if len(found) == 1:
            located[name] = found[0]
            continue
        reason = (
            "column appears more than once in the header"
            if found
            else f"column not found in the header (mapping {mapping.name}); the export has: "
            + ", ".join(h for h in header if h)
        )
        rejects.append(Reject(source=source, line=line, field=name, reason=reason))
    return located if len(located) == len(mapping.source_columns) else None


class _RowReader:
    """Reads one export's rows, with the per-file state the CSV format keeps (``seen``)."""

    def __init__(
        self, mapping: CompiledMapping, source: str, out: MappedResult, columns: dict[str, int], *, epoch: Any
    ) -> None:
        self.mapping = mapping
        self.source = source
        self.out = out
        self.columns = columns
        self.epoch = epoch
        keys = KeyNormaliser()
        self.converters: list[tuple[Column, FieldRule | None, Callable[[str], Any]]] = [
            (column, mapping.rules.get(column.name), converter(column, keys)) for column in mapping.target.columns
        ]
        self.unit_rule = mapping.unit_rule
        self.absent: Values = {c.name: None for c in mapping.target.columns}
        self.skip = [(rule.column, {v.strip().casefold() for v in rule.values}) for rule in mapping.spec.source.skip]
        result = out.result
        self.sink = RowSink(result.nodes, result.edges, set(), Provenance(source_system="", source=source))

    def read(self, row: SourceRow) -> None:
        result = self.out.result
        if row.problem is not None:
            result.records += 1
            self._reject(row, None, row.problem)
            return
        if not any(cell_text(c) for c in row.cells):
            return  # blank rows (and a sheet's formatted but empty rows) are not records
        cells = {name: (row.cells[i] if i < len(row.cells) else None) for name, i in self.columns.items()}
        if self._skipped(cells):
            self.out.skipped += 1
            return
        result.records += 1
        if not self.out.header_ok:
            return  # reported once, at the header
        values = self._values(row, cells)
        if values is None:
            return
        raw = row.text()
        self.sink.provenance = Provenance(
            source_system=self.mapping.spec.source_system,
            source=self.source,
            line=row.line,
            record_hash=hashlib.sha256(raw.encode()).hexdigest(),
        )
        # A row's facts go in together or not at all: undo a half-built row.
        mark_nodes, mark_edges = len(result.nodes), len(result.edges)
        try:
            self.mapping.target.build(values, self.sink)
        except RowError as exc:
            del result.nodes[mark_nodes:]
            del result.edges[mark_edges:]
            rule = self.mapping.rules.get(exc.field)
            self._reject(row, rule.origin if rule else exc.field, exc.reason)

    def _skipped(self, cells: dict[str, Cell]) -> bool:
        for column, values in self.skip:
            text = cell_text(cells.get(column)).casefold()
            if (not values and not text) or text in values:
                return True
        return False

    def _values(self, row: SourceRow, cells: dict[str, Cell]) -> Values | None:
        """The native row's validated values; None (with one reject per bad field) if any is bad."""
        values = dict(self.absent)
        bad = False
        for column, rule, convert in self.converters:
            try:
                text = self._text(column, rule, cells)
                if text is None:
                    if column.required:
                        blame = rule.missing_column(cells) if rule else None
                        self._reject(row, blame or column.name, "missing value")
                        bad = True
                    continue
                values[column.name] = convert(text)
            except CellError as exc:
                self._reject(row, exc.column or (rule.origin if rule else column.name), str(exc))
                bad = True
            except FieldError as exc:
                self._reject(row, rule.origin if rule else column.name, str(exc))
                bad = True
        return None if bad else values

    def _text(self, column: Column, rule: FieldRule | None, cells: dict[str, Cell]) -> str | None:
        if rule is None:
            if column.name == "unit" and self.unit_rule is not None:
                return self.unit_rule.target_unit(cells)
            return None
        text = rule.render(cells, epoch=self.epoch)
        return None if text is None or not text.strip() else text.strip()

    def _reject(self, row: SourceRow, column: str | None, reason: str) -> None:
        reject = Reject(
            source=self.source, line=row.line, field=column, reason=reason, record=row.text()[:_RECORD_QUOTE]
        )
        rejects = self.out.result.rejects
        if row.line in self.out.rejected_rows and reject in rejects[-len(self.converters) :]:
            return  # one cause, two native columns (a quantity and the unit it converts to): say it once
        self.out.rejected_rows.add(row.line)
        rejects.append(reject)
