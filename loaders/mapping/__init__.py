"""Declarative mappings: ERP, MES, LIMS, WMS and supplier exports (CSV, XLSX) into facts.

A mapping (YAML, docs/reference/mappings.md) says how the columns of one export become the
columns of one file of the native CSV format; the rows are then validated and turned into
facts by that file's own rules. ``parse_mapped`` is what ``tracegraph load --mapping`` runs,
``check_mapped`` what ``tracegraph mapping check`` reports.

>>> from pathlib import Path
>>> root = Path(__file__).resolve().parents[2] / "mappings"
>>> result = parse_mapped(root / "examples" / "erp-batch-where-used.csv", root / "erp-batch-where-used.yaml")
>>> result.rejects, len(result.edges) > 0
([], True)
"""

from __future__ import annotations

from pathlib import Path

from loaders.base import ParseResult, Reject
from loaders.mapping.reader import CompiledMapping, MappedResult, load_mapping, read_export
from loaders.mapping.spec import MappingError, MappingProblem, MappingSpec

__all__ = [
    "CompiledMapping",
    "MappedResult",
    "MappingError",
    "MappingProblem",
    "MappingSpec",
    "check_mapped",
    "load_mapping",
    "parse_mapped",
]


def check_mapped(path: Path, mapping: Path | CompiledMapping) -> MappedResult:
    """Read one export through a mapping, with the counts of a dry run.

    A mapping that is not valid raises :class:`MappingError` (it is configuration, not
    data); everything wrong with the export becomes a reject.
    """
    compiled = mapping if isinstance(mapping, CompiledMapping) else load_mapping(mapping)
    if path.is_dir():
        reject = Reject(source=str(path), reason="a mapping reads one export file, not a directory; name the files")
        return MappedResult(ParseResult(rejects=[reject]), str(path), header_ok=False)
    if not path.exists():
        return MappedResult(ParseResult(rejects=[Reject(source=str(path), reason="no such file")]), str(path))
    return read_export(path, compiled)


def parse_mapped(path: Path, mapping: Path | CompiledMapping) -> ParseResult:
    """The facts of one export read through a mapping, and every rejected row."""
    return check_mapped(path, mapping).result
