"""Source formats into the model. ``parse_paths`` picks the parser for each input."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loaders.base import ParseResult, Reject

if TYPE_CHECKING:
    from loaders.mapping import CompiledMapping

FORMATS = ("auto", "csv", "epcis", "udid")


def detect_format(path: Path) -> str | None:
    """The format of ``path`` from its name and first bytes, or None when unknown."""
    if path.is_dir():
        return "csv"
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in {".xml", ".xlsx", ".xlsm"}:
        from loaders.udid import detect_udid

        if detect_udid(path):
            return "udid"
    if suffix in {".jsonld", ".json", ".xml"}:
        return "epcis"
    return None


def parse_path(
    path: Path, *, fmt: str = "auto", mapping: Path | CompiledMapping | None = None, epcis_any_order: bool = False
) -> ParseResult:
    """Parse one file or directory; unreadable or unknown inputs become rejects, never exceptions.

    With ``mapping`` the file is an export read through that mapping (``loaders.mapping``);
    a mapping that is not valid raises ``MappingError``: it is configuration, not data.
    ``epcis_any_order`` accepts EPCIS XML events whose fields break the schema's element order
    (some producers jumble it); by default such an event is rejected.
    """
    if not path.exists():
        return ParseResult(rejects=[Reject(source=str(path), reason="no such file or directory")])
    if mapping is not None:
        from loaders.mapping import parse_mapped

        return parse_mapped(path, mapping)
    chosen = detect_format(path) if fmt == "auto" else fmt
    if chosen == "csv":
        from loaders.csvset import parse_csv_path

        return parse_csv_path(path)
    if chosen == "epcis":
        from loaders.epcis import parse_epcis

        try:
            data = path.read_bytes()
        except OSError as exc:
            return ParseResult(rejects=[Reject(source=path.name, reason=f"cannot read: {exc.strerror}")])
        return parse_epcis(data, source=path.name, check_order=not epcis_any_order)
    if chosen == "udid":
        from loaders.udid import parse_udid_path

        return parse_udid_path(path)
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        reason = "a spreadsheet export is read through a mapping: add --mapping M.yaml (see docs/reference/mappings.md)"
        return ParseResult(rejects=[Reject(source=path.name, reason=reason)])
    return ParseResult(
        rejects=[
            Reject(
                source=path.name,
                reason="unknown format: expected a CSV file or directory (.csv), or an EPCIS document "
                "(.jsonld, .json, .xml); name it with --format",
            )
        ]
    )


def parse_paths(
    paths: Sequence[Path], *, fmt: str = "auto", mapping: Path | None = None, epcis_any_order: bool = False
) -> ParseResult:
    result = ParseResult()
    if mapping is not None:
        from loaders.mapping import load_mapping

        compiled = load_mapping(mapping)  # once, and before any input is read: it may be invalid
        for path in paths:
            result.extend(parse_path(path, fmt=fmt, mapping=compiled))
        return result
    for path in paths:
        result.extend(parse_path(path, fmt=fmt, epcis_any_order=epcis_any_order))
    return result
