"""GraphQL types: thin views of ``schema`` models; anything that needs the store resolves lazily
through the request's DataLoaders, so a client pays only for the fields it asks for."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.graphql import typed
from api.graphql.context import Info
from api.graphql.pagination import Connection
from loaders.base import Reject as RejectModel
from schema.errors import NotFoundError
from schema.kinds import EdgeType, NodeKind
from schema.model import BatchResult, EdgeView, NodeView, from_epoch
from schema.model import FactVersion as FactVersionModel
from schema.model import Provenance as ProvenanceModel
from schema.model import TraceDirection as TraceDirectionModel

# The schema's own enums, so GraphQL and every other interface name the same things.
strawberry.enum(NodeKind, description="Node labels (DESIGN.md, 'The graph')")
strawberry.enum(EdgeType, description="Relationship types; flow edges point downstream")
strawberry.enum(TraceDirectionModel, name="TraceDirection", description="FORWARD: impact; BACKWARD: genealogy")


@strawberry.enum(description="How an ingested document is read")
class IngestFormat(Enum):
    AUTO = "auto"
    CSV = "csv"
    EPCIS = "epcis"


@strawberry.experimental.pydantic.type(model=ProvenanceModel, all_fields=True, description="Where a fact comes from")
class Provenance:
    pass


@strawberry.experimental.pydantic.type(model=RejectModel, all_fields=True, description="A record a load rejected")
class Reject:
    pass


@strawberry.experimental.pydantic.type(model=BatchResult, all_fields=True, description="A written batch")
class Batch:
    pass


@strawberry.type(description="One recorded version of a fact: when it was recorded, and from which record")
class FactVersion:
    recorded_at: datetime
    batch_id: str
    provenance: Provenance
    props: JSON
    at: datetime | None
    until: datetime | None
    retracted: bool

    @classmethod
    def of(cls, v: FactVersionModel) -> FactVersion:
        return cls(
            recorded_at=v.recorded_at,
            batch_id=v.batch_id,
            provenance=Provenance.from_pydantic(v.provenance),
            props=JSON(v.props),
            at=v.at,
            until=v.until,
            retracted=v.retracted,
        )


@strawberry.type(description="A thing in the graph, by its canonical key")
class Node:
    key: str
    known_kind: strawberry.Private[NodeKind | None] = None
    as_of: strawberry.Private[datetime | None] = None

    async def _view(self, info: Info) -> NodeView:
        view = await info.context.loaders.views.load((self.key, self.as_of))
        if view is None:
            raise NotFoundError(f"no node with key {self.key}")
        return view

    @strawberry.field
    async def kind(self, info: Info) -> NodeKind:
        return self.known_kind if self.known_kind is not None else (await self._view(info)).kind

    @typed.field("What the sources say about it, latest value of each property")
    async def props(self, info: Info) -> JSON:
        return JSON((await self._view(info)).props)

    @typed.field("One hop away, batched per request; types filters relationship types")
    async def neighbours(
        self,
        info: Info,
        direction: TraceDirectionModel = TraceDirectionModel.FORWARD,
        types: list[EdgeType] | None = None,
    ) -> list[Neighbour]:
        steps = await info.context.loaders.hops.load((self.key, direction, self.as_of))
        wanted = set(types) if types else None
        return [
            Neighbour(
                type=s.type,
                source=s.source,
                target=s.target,
                at=from_epoch(s.at),
                until=from_epoch(s.until),
                node=Node(key=s.neighbour, known_kind=s.neighbour_kind, as_of=self.as_of),
            )
            for s in steps
            if wanted is None or s.type in wanted
        ]

    @typed.field("Inspections, complaints, changes and source events, with provenance")
    async def evidence(self, info: Info) -> Evidence:
        return Evidence.of(await self._view(info), as_of=self.as_of)


@strawberry.type(description="A relationship seen from one end, with the node at the other")
class Neighbour:
    type: EdgeType
    source: str
    target: str
    at: datetime | None
    until: datetime | None
    node: Node


@strawberry.type(description="An evidence relationship and the records that prove it")
class EvidenceFact:
    type: EdgeType
    source: str
    target: str
    at: datetime | None
    until: datetime | None
    props: JSON
    retracted: bool
    versions: list[FactVersion]
    node: Node = strawberry.field(description="The inspection, complaint, change or event")

    @classmethod
    def of(cls, e: EdgeView, other: str, as_of: datetime | None) -> EvidenceFact:
        return cls(
            type=e.type,
            source=e.source,
            target=e.target,
            at=e.at,
            until=e.until,
            props=JSON(e.props),
            retracted=e.retracted,
            versions=[FactVersion.of(v) for v in e.versions],
            node=Node(key=other, as_of=as_of),
        )


@strawberry.type(description="What proves what is known of a node")
class Evidence:
    inspections: list[EvidenceFact]
    complaints: list[EvidenceFact]
    changes: list[EvidenceFact]
    events: list[EvidenceFact] = strawberry.field(description="Source events (EPCIS or other) that record it")
    sources: list[FactVersion] = strawberry.field(description="The node's own versions, each with its record")
    truncated: bool = strawberry.field(description="More relationships exist than were read")

    @classmethod
    def of(cls, view: NodeView, *, as_of: datetime | None) -> Evidence:
        def inbound(type_: EdgeType) -> list[EvidenceFact]:
            return [EvidenceFact.of(e, e.source, as_of) for e in view.edges_in if e.type is type_]

        return cls(
            inspections=inbound(EdgeType.INSPECTED),
            complaints=inbound(EdgeType.CONCERNS),
            changes=inbound(EdgeType.AFFECTS),
            events=[EvidenceFact.of(e, e.target, as_of) for e in view.edges_out if e.type is EdgeType.RECORDED_BY],
            sources=[FactVersion.of(v) for v in view.versions],
            truncated=view.edges_truncated,
        )


@strawberry.type(description="A node a trace reached, how far, and one path that explains it")
class TraceNode:
    key: str
    kind: NodeKind
    degree: int = strawberry.field(description="Hops from the nearest start")
    path: list[str] = strawberry.field(description="From a start to this node")
    as_of: strawberry.Private[datetime | None] = None

    @typed.field("The node itself, for its properties, neighbours and evidence")
    def node(self) -> Node:
        return Node(key=self.key, known_kind=self.kind, as_of=self.as_of)


@strawberry.type
class TraceEdge:
    source: str
    target: str
    type: EdgeType


@strawberry.type(description="The reachable subgraph; totals are exact unless isPartial")
class TraceResult:
    starts: list[str]
    direction: TraceDirectionModel
    total: int = strawberry.field(description="Nodes reached (of the kinds asked for), listed or not")
    truncated: bool = strawberry.field(description="More nodes than this page lists")
    is_partial: bool = strawberry.field(description="A server budget (time, size) stopped the trace early")
    nodes: Connection[TraceNode]
    edges: list[TraceEdge] = strawberry.field(
        description="Traced relationships among the starts and the nodes listed up to the end of this page"
    )


@strawberry.type(description="How many nodes a trace reaches, without listing them")
class TraceCount:
    total: int
    is_partial: bool


@strawberry.type(description="A node of a genealogy tree: each node appears once, under its nearest parent")
class GenealogyNode:
    key: str
    kind: NodeKind
    degree: int
    parent: str | None
    via: EdgeType | None = strawberry.field(description="The relationship from its parent")
    children: list[GenealogyNode]
    as_of: strawberry.Private[datetime | None] = None

    @strawberry.field
    def node(self) -> Node:
        return Node(key=self.key, known_kind=self.kind, as_of=self.as_of)


@strawberry.type(description="A trace shaped as a tree for display; edges the tree leaves out are in trace")
class Genealogy:
    root: GenealogyNode
    nodes: list[GenealogyNode] = strawberry.field(
        description="Every tree node, by hops then key, with its parent: for trees deeper than a query may nest"
    )
    total: int
    truncated: bool
    is_partial: bool


@strawberry.type(description="A search hit")
class SearchHit:
    key: str
    kind: NodeKind
    label: str

    @strawberry.field
    def node(self) -> Node:
        return Node(key=self.key, known_kind=self.kind)


@strawberry.type(description="What a load read, rejected and wrote")
class LoadReport:
    sources: list[str]
    records: int
    nodes: int
    edges: int
    rejects: list[Reject]
    batch: Batch | None
    applied: bool


@strawberry.input(description="A time window; either end may be open")
class TimeWindowInput:
    start: datetime | None = None
    end: datetime | None = None


Kinds = Annotated[list[NodeKind] | None, strawberry.argument(description="Only these kinds")]
