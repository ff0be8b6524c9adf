"""The storage port: what services may ask of a store, in the language of traceability.

Adapters (``graph.sqlite``, ``graph.neo4j``) implement the abstract methods. The trace
semantics live once, in :mod:`graph.trace`; an adapter only answers "what is adjacent to
these keys" one hop at a time, batched, as of a moment.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from schema.kinds import EdgeType, NodeKind
from schema.model import (
    BatchResult,
    FactBatch,
    NodeView,
    StoreStats,
    TraceDirection,
    TraceQuery,
    TraceResult,
)


class Step(NamedTuple):
    """One edge seen from the node a trace stands on, with the node it leads to."""

    type: EdgeType
    source: str
    target: str
    at: float | None  # epoch seconds: when it happened, or when the interval began
    until: float | None  # epoch seconds: when the interval ended (None: still open)
    neighbour: str
    neighbour_kind: NodeKind


class SearchHit(NamedTuple):
    key: str
    kind: NodeKind
    label: str


class GraphStore(ABC):
    """A traceability graph store. Use it as a context manager or call :meth:`close`."""

    backend: str
    location: str

    # -- lifecycle -------------------------------------------------------------------
    @abstractmethod
    def migrate(self) -> int:
        """Bring the store's schema up to date; idempotent. Returns the schema version."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------
    @abstractmethod
    def apply(self, batch: FactBatch) -> BatchResult:
        """Apply a batch in one transaction: all of it or nothing. Idempotent."""

    # -- reading ---------------------------------------------------------------------
    @abstractmethod
    def expand(
        self, keys: Sequence[str], direction: TraceDirection, *, as_of: datetime | None = None
    ) -> Mapping[str, Sequence[Step]]:
        """Edges leaving ``keys`` downstream (forward) or upstream (backward), as known at ``as_of``.

        Retracted edges are left out; closed intervals carry their ``until``.
        """

    @abstractmethod
    def kinds(self, keys: Iterable[str], *, as_of: datetime | None = None) -> dict[str, NodeKind]:
        """The kind of every key that exists (as of ``as_of``); unknown keys are left out."""

    def trace(self, query: TraceQuery, *, max_states: int | None = None, deadline: float | None = None) -> TraceResult:
        """Answer a trace query; see DESIGN.md for the contract."""
        from graph.trace import run_trace

        return run_trace(self, query, max_states=max_states, deadline=deadline)

    @abstractmethod
    def node(self, key: str, *, as_of: datetime | None = None, edge_limit: int = 200) -> NodeView:
        """A node with its versions and its edges (with theirs); NotFoundError when absent."""

    @abstractmethod
    def search(self, text: str, *, kinds: Iterable[NodeKind] | None = None, limit: int = 20) -> list[SearchHit]:
        """Nodes whose key or name contains ``text`` (case-insensitive)."""

    @abstractmethod
    def stats(self) -> StoreStats: ...

    @abstractmethod
    def export_batches(self) -> Iterator[FactBatch]:
        """Every fact version, one batch per loaded batch in recorded order, with its batch id and
        recorded time, so another store can replay the history (``tracegraph copy``)."""
