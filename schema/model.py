"""The semantic model: facts as loaders produce them and stores keep them.

A *node fact* says that a thing exists and what is known of it; an *edge fact* says that
two things are related (material moved, a container held an item, an inspection looked at
a lot). Every fact carries its provenance. Stores never overwrite or delete a fact: a later
fact about the same node or edge becomes a new version with its own ``recorded_at``, so a
question can be asked "as of" any past moment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

import orjson
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, field_validator, model_serializer

from schema.kinds import INTERVAL_EDGES, EdgeType, NodeKind

JsonScalar = str | int | float | bool | None
Props = dict[str, Any]


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@overload
def to_epoch(value: datetime) -> float: ...
@overload
def to_epoch(value: datetime | None) -> float | None: ...
def to_epoch(value: datetime | None) -> float | None:
    """Seconds since 1970 (UTC); how stores keep times."""
    return None if value is None else utc(value).timestamp()


@overload
def from_epoch(value: float) -> datetime: ...
@overload
def from_epoch(value: float | None) -> datetime | None: ...
def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, the one way times are printed."""
    if value is None:
        return None
    return utc(value).isoformat().replace("+00:00", "Z")


def content_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON form of ``payload`` (sorted keys, no spaces)."""
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_M = TypeVar("_M", bound=BaseModel)
_new = object.__new__
_set_attr = object.__setattr__
# The slots every pydantic model instance has besides ``__dict__``.
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted_factory(cls: type[_M]) -> Callable[..., _M]:
    """A constructor of ``cls`` that skips validation, for values a store has already validated.

    ``trusted_factory(TraceEdge)(source=..., target=..., type=...)`` equals ``TraceEdge(...)``
    (equality, hash, serialisation) when every field is given, by name, with a value of its
    declared type. ``model_construct`` does the same but walks the fields' defaults on every
    call, which makes it slower than validating these small models; this is about twice as
    fast as validating, and keeps a trace of 100k nodes from spending most of its time here.
    """
    if cls.model_config.get("extra") == "allow" or cls.__pydantic_post_init__ is not None:
        raise TypeError(f"{cls.__name__} cannot be built without validation")
    names = frozenset(cls.model_fields)

    def build(**values: Any) -> _M:
        if values.keys() != names:
            raise TypeError(f"{cls.__name__} needs exactly the fields {', '.join(sorted(names))}")
        instance = _new(cls)
        _set_attr(instance, "__dict__", values)
        _set_fields_set(instance, set(names))
        _set_extra(instance, None)
        _set_private(instance, None)
        return instance

    return build


class Provenance(_Frozen):
    """Where a fact comes from, precisely enough to show the record that proves it."""

    source_system: str = Field(
        "unknown", description="System of origin: erp, mes, lims, wms, epcis, csv, synthetic, ..."
    )
    source: str = Field(..., description="File name, message id or capture id the fact was read from")
    line: int | None = Field(None, description="Line number in the file, or index of the event in the document")
    record_id: str | None = Field(
        None, description="Identifier of the source record, e.g. the canonical EPCIS event ID"
    )
    record_hash: str | None = Field(None, description="SHA-256 of the source record as read")


class NodeFact(_Frozen):
    """A thing, identified by its canonical key, and what a source says about it."""

    key: str
    kind: NodeKind
    props: Props = Field(default_factory=dict)
    provenance: Provenance


class EdgeOp(StrEnum):
    ASSERT = "assert"
    #: Ends the open interval of an interval edge (an unpacking; the end of equipment use).
    CLOSE = "close"
    #: Withdraws an earlier fact (an EPCIS error declaration, a corrected source row).
    RETRACT = "retract"


#: As the source of a CLOSE: every item inside the target (EPCIS AggregationEvent DELETE
#: without children unpacks everything).
ANY_SOURCE = "*"


class EdgeFact(_Frozen):
    """A relationship between two keys.

    ``at`` is when it happened (for interval edges: when the interval began, e.g. packing);
    ``until`` ends an interval (unpacking). An edge is identified by ``(type, source, target, at)``:
    the same item packed twice into the same case is two edges.
    """

    type: EdgeType
    source: str
    target: str
    at: datetime | None = None
    until: datetime | None = None
    props: Props = Field(default_factory=dict)
    op: EdgeOp = EdgeOp.ASSERT
    provenance: Provenance

    @field_validator("at", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    @property
    def is_interval(self) -> bool:
        return self.type in INTERVAL_EDGES


class FactBatch(_Frozen):
    """What one load applies, all or nothing."""

    source: str
    content_hash: str | None = Field(None, description="Hash of the loaded input; the same input twice is one batch")
    #: Set only when copying between stores, to keep the history's batch ids and times.
    batch_id: str | None = None
    recorded_at: datetime | None = None
    nodes: tuple[NodeFact, ...] = ()
    edges: tuple[EdgeFact, ...] = ()
    #: Source record ids (e.g. EPCIS event IDs) whose facts this batch retracts.
    retract_records: tuple[str, ...] = ()


class BatchResult(_Frozen):
    batch_id: str
    already_loaded: bool = False
    nodes_added: int = 0
    nodes_changed: int = 0
    edges_added: int = 0
    edges_changed: int = 0
    retracted: int = 0
    recorded_at: datetime


class TraceDirection(StrEnum):
    FORWARD = "forward"
    BACKWARD = "backward"


class TimeWindow(_Frozen):
    start: datetime | None = None
    end: datetime | None = None

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)


class TraceQuery(_Frozen):
    """The one trace question both stores answer (DESIGN.md, "Trace semantics")."""

    starts: tuple[str, ...]
    direction: TraceDirection = TraceDirection.FORWARD
    max_depth: int | None = Field(None, ge=0)
    kinds: frozenset[NodeKind] | None = None
    window: TimeWindow | None = None
    as_of: datetime | None = None
    ignore_time: bool = False
    limit: int | None = Field(None, ge=0)

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)


class TraceNode(_Frozen):
    key: str
    kind: NodeKind
    degree: int
    path: tuple[str, ...]


class TraceEdge(_Frozen):
    source: str
    target: str
    type: EdgeType


class TraceListing(Protocol):
    """A trace's listed nodes and edges held compactly by the engine that found them, turned
    into objects or JSON rows on request (see :meth:`TraceResult.deferred`)."""

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...

    def counts_by_kind(self) -> dict[str, int]: ...

    def nodes(self) -> tuple[TraceNode, ...]: ...

    def edges(self) -> tuple[TraceEdge, ...]: ...

    def node_rows(self) -> list[dict[str, Any]]: ...

    def edge_rows(self) -> list[dict[str, Any]]: ...


_LISTED = ("nodes", "edges")


class TraceResult(_Frozen):
    # A trace's answer. ``nodes`` and ``edges`` of a large trace may be built only when first
    # read (``deferred``): counts, keys and JSON need no object per node or edge. (A comment,
    # not a docstring: the docstring would become the API schema's description.)

    starts: tuple[str, ...]
    direction: TraceDirection
    total: int
    truncated: bool
    is_partial: bool = False
    nodes: tuple[TraceNode, ...]
    edges: tuple[TraceEdge, ...]

    @classmethod
    def deferred(
        cls,
        listing: TraceListing,
        *,
        starts: tuple[str, ...],
        direction: TraceDirection,
        total: int,
        truncated: bool,
        is_partial: bool,
    ) -> TraceResult:
        """A result whose ``nodes`` and ``edges`` come from ``listing`` on first access (then
        kept); equal, hashed and serialised exactly as the same result built eagerly."""
        values = {"starts": starts, "direction": direction, "total": total, "truncated": truncated}
        instance = _new(cls)
        _set_attr(instance, "__dict__", {**values, "is_partial": is_partial})
        _set_fields_set(instance, set(cls.model_fields))
        _set_extra(instance, None)
        _set_private(instance, {"_listing": listing})
        return instance

    @property
    def _pending(self) -> TraceListing | None:
        private = self.__pydantic_private__
        return None if private is None else private.get("_listing")

    def _materialise(self) -> None:
        listing = self._pending
        if listing is not None:
            self.__dict__.update(nodes=listing.nodes(), edges=listing.edges())
            _set_private(self, None)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            if name in _LISTED and self._pending is not None:
                self._materialise()
                return self.__dict__[name]
            return super().__getattr__(name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TraceResult):
            self._materialise()
            other._materialise()
        return super().__eq__(other)

    def __hash__(self) -> int:
        self._materialise()
        return hash((self.__class__, *(self.__dict__[name] for name in type(self).model_fields)))

    def __iter__(self) -> Any:
        self._materialise()
        return super().__iter__()

    def __getstate__(self) -> dict[Any, Any]:
        self._materialise()
        return super().__getstate__()

    @model_serializer(mode="wrap")
    def _serialise(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]  # unannotated: the schema stays the fields'
        self._materialise()
        return handler(self)

    def node_keys(self) -> list[str]:
        """The listed nodes' keys, in order, without building the node objects."""
        listing = self._pending
        return listing.keys() if listing is not None else [n.key for n in self.nodes]

    def counts_by_kind(self) -> dict[str, int]:
        listing = self._pending
        if listing is not None:
            return listing.counts_by_kind()
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.kind.value] = counts.get(node.kind.value, 0) + 1
        return dict(sorted(counts.items()))

    def to_json(self) -> dict[str, Any]:
        """The shape of ``tracegraph trace --json`` and the REST trace endpoint."""
        listing = self._pending
        if listing is not None:
            nodes, edges = listing.node_rows(), listing.edge_rows()
        else:
            nodes = [{"key": n.key, "kind": n.kind.value, "degree": n.degree, "path": list(n.path)} for n in self.nodes]
            edges = [{"source": e.source, "target": e.target, "type": e.type.value} for e in self.edges]
        return {
            "starts": list(self.starts),
            "direction": self.direction.value,
            "total": self.total,
            "truncated": self.truncated,
            "is_partial": self.is_partial,
            "nodes": nodes,
            "edges": edges,
        }


class FactVersion(_Frozen):
    """One recorded version of a node or edge, as ``show`` and evidence packages present it."""

    recorded_at: datetime
    batch_id: str
    provenance: Provenance
    props: Props = Field(default_factory=dict)
    at: datetime | None = None
    until: datetime | None = None
    retracted: bool = False


class EdgeView(_Frozen):
    """An edge as known at some moment, with the history that led there."""

    type: EdgeType
    source: str
    target: str
    at: datetime | None
    until: datetime | None
    props: Props
    retracted: bool
    versions: tuple[FactVersion, ...] = ()


class NodeView(_Frozen):
    key: str
    kind: NodeKind
    props: Props
    versions: tuple[FactVersion, ...] = ()
    edges_in: tuple[EdgeView, ...] = ()
    edges_out: tuple[EdgeView, ...] = ()
    edges_truncated: bool = False


class StoreStats(_Frozen):
    backend: str
    location: str
    schema_version: int
    nodes_by_kind: dict[str, int]
    edges_by_type: dict[str, int]
    batches: int
    last_loaded_at: datetime | None

    @property
    def nodes(self) -> int:
        return sum(self.nodes_by_kind.values())

    @property
    def edges(self) -> int:
        return sum(self.edges_by_type.values())


StoreBackend = Literal["sqlite", "neo4j"]
