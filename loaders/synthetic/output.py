"""Streaming CSV output of the synthetic plant, in the documented format, with counts.

Rows are written as they are generated, so the large plant never holds its million
devices in memory. Line endings are ``\\n`` and the encoding UTF-8 on every platform, so
the same seed gives byte-identical files everywhere.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from loaders.csvset.format import CSV_FILES
from schema.kinds import EdgeType, NodeKind


class PlantWriter:
    """One CSV writer per recognised file; rows in the column order of ``CSV_FILES``.

    It also counts what the files will load as (nodes by kind, edges by type), for the
    manifest; the unit tests check those counts against what the loader reads back.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.rows: Counter[str] = Counter()
        self.nodes: Counter[NodeKind] = Counter()
        self.edges: Counter[EdgeType] = Counter()
        self._handles: dict[str, IO[str]] = {}
        self._writers: dict[str, Any] = {}

    def __enter__(self) -> PlantWriter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, spec in CSV_FILES.items():
            handle = (self.out_dir / name).open("w", encoding="utf-8", newline="")
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(spec.column_names)
            self._handles[name] = handle
            self._writers[name] = writer
            self.rows[name] = 0
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for handle in self._handles.values():
            handle.close()

    def write(self, name: str, row: Sequence[object]) -> None:
        """Write one row; ``None`` fields are left empty (as ``csv`` writes them)."""
        self._writers[name].writerow(row)
        self.rows[name] += 1

    def write_many(self, name: str, rows: Sequence[Sequence[object]]) -> None:
        self._writers[name].writerows(rows)
        self.rows[name] += len(rows)

    def nodes_added(self, kind: NodeKind, n: int = 1) -> None:
        self.nodes[kind] += n

    def edges_added(self, type_: EdgeType, n: int = 1) -> None:
        self.edges[type_] += n
