"""The mapping file: how the columns of one export become the columns of one native CSV file.

A mapping is YAML (docs/reference/mappings.md). It is validated twice: its shape by the
pydantic models below, and its meaning against the target file of ``CSV_FILES`` (columns
that exist, required columns mapped, options that fit the column's type, constants the
target column accepts). Every problem is reported with its YAML path and line, all at once,
so a mapping can be fixed in one pass.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from loaders.csvset.fields import Column, ColumnType, FieldError, KeyNormaliser, converter
from loaders.csvset.format import CSV_FILES, CsvFile
from loaders.mapping.units import UnitError, compatible, unit
from schema.errors import InvalidInputError

__all__ = [
    "FieldSpec",
    "MappingError",
    "MappingProblem",
    "MappingSpec",
    "SkipRule",
    "SourceSpec",
    "Template",
    "UnitSpec",
    "read_mapping",
]

#: What ``udi`` may take from a barcode column: the fields of ``schema.udi.UdiParse``.
UdiElement = Literal["key", "di", "gtin", "lot", "serial", "expiry", "manufactured"]

#: ``format`` values that are not strptime patterns.
ISO, EXCEL, EXCEL_1904 = "iso", "excel", "excel1904"


class MappingProblem(NamedTuple):
    """One thing wrong with a mapping file: where (YAML path and line) and what."""

    path: str
    message: str
    line: int | None = None

    def located(self, source: str) -> str:
        where = source + (f":{self.line}" if self.line is not None else "")
        return f"{where}: {self.path or '(document)'}: {self.message}"


class MappingError(InvalidInputError):
    """A mapping file that cannot be used; ``problems`` lists every problem found."""

    code = "invalid_mapping"

    def __init__(self, source: str, problems: Sequence[MappingProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        listed = "".join(f"\n  {p.located(source)}" for p in self.problems)
        super().__init__(f"the mapping {source} is not valid:{listed}")


# ---------------------------------------------------------------------------- the models


class _Strict(BaseModel):
    # extra="forbid": a misspelt option (``formatt:``) must be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SkipRule(_Strict):
    """Rows to leave out without a reject: subtotals, cancelled lines, comment rows."""

    column: str = Field(min_length=1, description="Source column to look at")
    values: tuple[str, ...] = Field(
        (), description="Skip when the value is one of these (case-insensitive); empty: skip when the cell is empty"
    )


class SourceSpec(_Strict):
    """How to read the export."""

    format: Literal["auto", "csv", "xlsx"] = Field("auto", description="auto: by the file's suffix")
    sheet: str | None = Field(None, description="XLSX: the worksheet (default: the first)")
    header_row: int = Field(1, ge=1, description="Row (line) holding the column names; rows above it are ignored")
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV field separator")
    encoding: str = Field("utf-8-sig", description="CSV text encoding")
    skip: tuple[SkipRule, ...] = ()


class UnitSpec(_Strict):
    """Convert a quantity to the unit the graph keeps, from a fixed unit or a unit column.

    ``to`` is one unit, or one unit per dimension (``[kg, L, ea]``) when an export mixes
    materials counted in different ways: each row is converted to the one it can be.
    """

    to: tuple[str, ...] = Field(min_length=1)
    from_: str | None = Field(None, alias="from")
    column: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_target(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("to"), str):
            return {**data, "to": (data["to"],)}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> UnitSpec:
        if (self.from_ is None) == (self.column is None):
            raise ValueError("give exactly one of 'from' (a fixed unit) or 'column' (a column naming each row's unit)")
        return self


class FieldSpec(_Strict):
    """How one native column is filled. Exactly one of column, constant, template, measurements."""

    column: str | None = None
    constant: str | None = None
    template: str | None = None
    measurements: dict[str, str] | None = None
    udi: UdiElement | None = None
    values: dict[str, str] | None = None
    format: str | None = None
    timezone: str | None = None
    decimal: Literal[".", ","] | None = None
    unit: UnitSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # ``lot: Batch`` is short for ``lot: {column: Batch}``: most fields are plain renames.
        return {"column": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [n for n in ("column", "constant", "template", "measurements") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column, constant, template or measurements"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.udi is not None and self.column is None:
            raise ValueError("'udi' reads a barcode from a column: give 'column' with it")
        return self

    @property
    def value_columns(self) -> tuple[str, ...]:
        """The export columns the value is read from (a reject about the value names them)."""
        names: list[str] = []
        if self.column is not None:
            names.append(self.column)
        if self.template is not None:
            names.extend(Template.parse(self.template).columns)
        if self.measurements is not None:
            names.extend(self.measurements.values())
        return tuple(dict.fromkeys(names))

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every export column this field reads: its value's, and its unit's."""
        if self.unit is not None and self.unit.column is not None:
            return tuple(dict.fromkeys((*self.value_columns, self.unit.column)))
        return self.value_columns


class MappingSpec(_Strict):
    """A whole mapping file."""

    name: str = Field(min_length=1, description="What the export is, for people")
    description: str | None = None
    source_system: str = Field(min_length=1, description="Provenance source system: erp, mes, lims, wms, supplier, …")
    target: str = Field(description="The native CSV file whose rows this export becomes, e.g. consumption.csv")
    timezone: str = Field("UTC", description="Zone of times written without an offset")
    source: SourceSpec = SourceSpec()
    columns: dict[str, FieldSpec]


# ------------------------------------------------------------------------------ templates

_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
#: A template whose literal start is a GS1/HIBCC/MA key path gets its values percent-encoded.
_KEY_PATH_START = re.compile(r"(?:[0-9]{2,4}|hibc|ma)/", re.IGNORECASE)


@dataclass(frozen=True)
class Template:
    """``lot:{Batch}`` or ``01/{GTIN}/10/{Lot}``: text with ``{column}`` placeholders
    (``{{`` and ``}}`` for literal braces)."""

    parts: tuple[str | tuple[str], ...]  # literal text, or (column,) for a placeholder

    @staticmethod
    def parse(text: str) -> Template:
        parts: list[str | tuple[str]] = []
        position = 0
        for match in _TEMPLATE_TOKEN.finditer(text):
            if match.start() > position:
                parts.append(text[position : match.start()])
            token = match.group(0)
            if token in ("{{", "}}"):
                parts.append(token[0])
            elif match.group(1) is None:
                raise ValueError(f"unmatched {token!r} at position {match.start()} (write {token * 2} for a brace)")
            elif not match.group(1).strip():
                raise ValueError(f"empty placeholder at position {match.start()}")
            else:
                parts.append((match.group(1).strip(),))
            position = match.end()
        if position < len(text):
            parts.append(text[position:])
        if not any(isinstance(p, tuple) for p in parts):
            raise ValueError("a template needs at least one {column} placeholder (use 'constant' for fixed text)")
        return Template(tuple(parts))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p[0] for p in self.parts if isinstance(p, tuple)))

    @property
    def is_key_path(self) -> bool:
        """Whether the template builds a GS1/HIBCC/MA key path, whose values must be
        percent-encoded (a lot ``A/1`` must not add a path segment)."""
        literal = ""
        for part in self.parts:
            if isinstance(part, tuple):
                break
            literal += part
        return _KEY_PATH_START.match(literal) is not None


# ---------------------------------------------------------------------------- YAML reading


class _TextLoader(yaml.SafeLoader):
    """YAML with every scalar read as text (``null`` and ``~`` aside).

    YAML 1.1 reads ``yes``/``no``/``on``/``off`` as booleans, ``1.50`` as 1.5 and
    ``2024-01-05`` as a date: in a value map (``values: {Yes: pass}``) or a constant that
    silently changes what is matched or written. Numbers that are options
    (``header_row: 2``) are converted by pydantic instead.
    """


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _compose(text: str) -> yaml.Node | None:
    loader = _TextLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _duplicate_keys(node: yaml.Node, path: tuple[str | int, ...] = ()) -> Iterator[MappingProblem]:
    """PyYAML keeps the last of two equal keys; in a mapping that silently drops a rule."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                yield MappingProblem(_dotted((*path, key)), "key appears twice", key_node.start_mark.line + 1)
            seen.add(key)
            yield from _duplicate_keys(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index))


def _line_of(root: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """The line of the deepest node on ``path`` that exists (1-based)."""
    if root is None:
        return None
    node, line = root, root.start_mark.line + 1
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if str(k.value) == str(step)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            match = node.value[step]
        else:
            match = None
        if match is None:
            break
        node, line = match, match.start_mark.line + 1
    return line


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _pydantic_problems(error: ValidationError, root: yaml.Node | None) -> list[MappingProblem]:
    problems = []
    for item in error.errors():
        # Pydantic names the union branch or validator it was in ("function-before[...]"):
        # those steps are not in the YAML.
        path = [step for step in item["loc"] if not (isinstance(step, str) and "[" in step)]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown option (misspelt?)"
        problems.append(MappingProblem(_dotted(path), message, _line_of(root, path)))
    return problems


# --------------------------------------------------------------------- meaning, by target


def _field_problems(name: str, field: FieldSpec, column: Column) -> Iterator[tuple[tuple[str | int, ...], str]]:
    at: tuple[str | int, ...] = ("columns", name)
    numeric = column.type in (ColumnType.QUANTITY, ColumnType.INTEGER, ColumnType.MEASUREMENTS)
    if field.template is not None:
        try:
            Template.parse(field.template)
        except ValueError as exc:
            yield (*at, "template"), str(exc)
    if field.measurements is not None:
        if column.type is not ColumnType.MEASUREMENTS:
            yield (*at, "measurements"), f"only a measurements column takes measurements; {name} is {column.type_text}"
        for label in field.measurements:
            if not label.strip() or any(c in label for c in "=;"):
                yield (*at, "measurements", label), "a measurement name must not be empty or contain '=' or ';'"
    if field.format is not None:
        if column.type not in (ColumnType.TIME, ColumnType.DATE):
            yield (*at, "format"), f"'format' reads times and dates; {name} is {column.type_text}"
        elif field.format not in (ISO, EXCEL, EXCEL_1904) and "%" not in field.format:
            yield (*at, "format"), "expected iso, excel, excel1904 or a strptime pattern such as %d.%m.%Y %H:%M"
        elif field.format not in (ISO, EXCEL, EXCEL_1904) and (problem := _strptime_problem(field.format)):
            yield (*at, "format"), problem
    if field.timezone is not None:
        if column.type is not ColumnType.TIME:
            yield (*at, "timezone"), f"'timezone' applies to times; {name} is {column.type_text}"
        yield from (((*at, "timezone"), problem) for problem in _zone_problems(field.timezone))
    if field.decimal is not None and not numeric:
        yield (*at, "decimal"), f"'decimal' applies to numbers; {name} is {column.type_text}"
    if field.unit is not None:
        if column.type is not ColumnType.QUANTITY:
            yield (*at, "unit"), f"'unit' converts quantities; {name} is {column.type_text}"
        yield from _unit_problems((*at, "unit"), field.unit)
    if field.constant is not None and field.values is None and column.type is not ColumnType.MEASUREMENTS:
        try:
            converter(column, KeyNormaliser())(field.constant.strip())
        except FieldError as exc:
            yield (*at, "constant"), f"{name} does not accept {field.constant!r}: {exc}"


def _unit_problems(at: tuple[str | int, ...], spec: UnitSpec) -> Iterator[tuple[tuple[str | int, ...], str]]:
    named: list[tuple[tuple[str | int, ...], str]] = [((*at, "to", i), name) for i, name in enumerate(spec.to)]
    if spec.from_ is not None:
        named.append(((*at, "from"), spec.from_))
    bad = False
    for path, name in named:
        try:
            unit(name)
        except UnitError as exc:
            yield path, str(exc)
            bad = True
    if bad:
        return
    dimensions = [unit(name).dimension for name in spec.to]
    if len(set(dimensions)) != len(dimensions):
        yield (*at, "to"), "give at most one target unit per dimension (mass, volume, count)"
    if spec.from_ is not None and not any(compatible(spec.from_, name) for name in spec.to):
        yield (*at, "from"), f"cannot convert {spec.from_} to {' or '.join(spec.to)}: different dimensions"


def _strptime_problem(pattern: str) -> str | None:
    """Why strptime cannot use ``pattern`` (a bad directive, a field given twice), or None."""
    try:
        datetime.strptime("", pattern)
    except re.error as exc:  # e.g. %m twice: "redefinition of group name"
        return f"not a usable strptime pattern: {exc}"
    except ValueError as exc:
        if not str(exc).startswith("time data"):  # "'Q' is a bad directive", "stray %"
            return f"not a usable strptime pattern: {exc}"
    return None


def _zone_problems(name: str) -> Iterator[str]:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield f"unknown time zone {name!r} (an IANA name such as Europe/Berlin, or UTC)"


def _meaning_problems(spec: MappingSpec) -> Iterator[tuple[tuple[str | int, ...], str]]:
    target = CSV_FILES.get(spec.target)
    if target is None:
        yield ("target",), f"unknown target {spec.target!r}; expected one of {', '.join(CSV_FILES)}"
        return
    yield from ((("timezone",), problem) for problem in _zone_problems(spec.timezone))
    by_name = {c.name: c for c in target.columns}
    for name, field in spec.columns.items():
        column = by_name.get(name)
        if column is None:
            yield ("columns", name), f"{target.name} has no column {name!r}; its columns: {', '.join(by_name)}"
            continue
        yield from _field_problems(name, field, column)
    converted = [n for n, f in spec.columns.items() if f.unit is not None]
    if converted and "unit" in by_name and "unit" in spec.columns:
        yield ("columns", "unit"), f"the unit is set by the conversion of {converted[0]}; leave 'unit' unmapped"
    filled = set(spec.columns) | ({"unit"} if converted and "unit" in by_name else set())
    for name in target.required:
        if name not in filled:
            yield ("columns",), f"{target.name} requires column {name!r}: map it"


def _salvaged(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """The meaning problems of the columns that are well-formed, when others are not: so
    that one pass reports everything (pydantic stops at the shape)."""
    target = CSV_FILES.get(str(data.get("target")))
    columns = data.get("columns")
    if target is None or not isinstance(columns, dict):
        return
    by_name = {c.name: c for c in target.columns}
    for name, raw in columns.items():
        column = by_name.get(str(name))
        try:
            field = FieldSpec.model_validate(raw)
        except ValidationError:
            continue  # reported by the whole-document validation already
        if column is None:
            yield ("columns", str(name)), f"{target.name} has no column {name!r}; its columns: {', '.join(by_name)}"
        else:
            yield from _field_problems(str(name), field, column)


def read_mapping(text: str, *, source: str) -> tuple[MappingSpec, CsvFile]:
    """Validate a mapping's YAML text; raise :class:`MappingError` listing every problem."""
    try:
        root = _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        raise MappingError(source, [MappingProblem("", f"not valid YAML: {exc}", line)]) from None
    problems = list(_duplicate_keys(root)) if root is not None else []
    loader = _TextLoader("")
    data = loader.construct_document(root) if root is not None else None
    if not isinstance(data, dict):
        raise MappingError(source, [*problems, MappingProblem("", "a mapping is a YAML mapping (name: …, target: …)")])
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        problems += _pydantic_problems(exc, root)
        problems += (MappingProblem(_dotted(path), message, _line_of(root, path)) for path, message in _salvaged(data))
        raise MappingError(source, problems) from None
    problems.extend(
        MappingProblem(_dotted(path), message, _line_of(root, path)) for path, message in _meaning_problems(spec)
    )
    if problems:
        raise MappingError(source, problems)
    return spec, CSV_FILES[spec.target]


def read_mapping_file(path: Path) -> tuple[MappingSpec, CsvFile]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MappingError(path.name, [MappingProblem("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(path.name, [MappingProblem("", f"cannot read: {exc}")]) from None
    return read_mapping(text, source=path.name)
