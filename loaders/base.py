"""What every loader returns: validated facts, and every rejected record with its reason.

Loaders are pure parsers (bytes in, ``schema`` objects out); they never touch a store.
``services.ingest`` decides what is written: in strict mode nothing when anything was
rejected, in partial mode the good records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from schema.model import EdgeFact, NodeFact


class Reject(BaseModel):
    """One record that could not be accepted, precisely located."""

    model_config = ConfigDict(frozen=True)

    source: str
    line: int | None = None
    field: str | None = None
    reason: str
    record: str | None = None

    def __str__(self) -> str:
        where = self.source + (f":{self.line}" if self.line is not None else "")
        what = f" [{self.field}]" if self.field else ""
        return f"{where}{what}: {self.reason}"


@dataclass
class ParseResult:
    """The facts read from one or more inputs, plus what was rejected."""

    nodes: list[NodeFact] = field(default_factory=list)
    edges: list[EdgeFact] = field(default_factory=list)
    retract_records: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    records: int = 0  # source records read (rows, events), accepted or not

    def extend(self, other: ParseResult) -> None:
        self.nodes.extend(other.nodes)
        self.edges.extend(other.edges)
        self.retract_records.extend(other.retract_records)
        self.rejects.extend(other.rejects)
        self.records += other.records
