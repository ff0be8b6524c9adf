"""The GraphQL root fields: each one service call, shaped for the client."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.graphql import pagination, typed
from api.graphql.context import Info
from api.graphql.sources import LikelySources, likely_sources_of
from api.graphql.types import (
    Genealogy,
    GenealogyNode,
    Kinds,
    Node,
    SearchHit,
    TimeWindowInput,
    TraceCount,
    TraceEdge,
    TraceNode,
    TraceResult,
)
from api.tracing import check_limit, run_trace, trace_query
from schema.errors import InvalidInputError, NotFoundError
from schema.kinds import EdgeType, NodeKind
from schema.model import TimeWindow, TraceDirection, TraceQuery
from schema.model import TraceResult as TraceResultModel

Starts = Annotated[list[str], strawberry.argument(description="Start keys in any accepted form")]
AsOf = Annotated[datetime | None, strawberry.argument(description="As the store knew it then")]

DEFAULT_PAGE = 100
DEFAULT_GENEALOGY_DEPTH = 3


def _trace_query(
    starts: list[str],
    direction: TraceDirection,
    max_depth: int | None,
    kinds: Kinds,
    window: TimeWindowInput | None,
    as_of: datetime | None,
    ignore_time: bool,
    limit: int | None,
) -> TraceQuery:
    return trace_query(
        starts=starts,
        direction=direction,
        depth=max_depth,
        kinds=frozenset(kinds) if kinds else None,
        start=window.start if window else None,
        end=window.end if window else None,
        as_of=as_of,
        ignore_time=ignore_time,
        limit=limit,
    )


@strawberry.type
class Query:
    @typed.field("A node by any accepted key form; null when there is none")
    async def node(self, info: Info, key: str, as_of: AsOf = None) -> Node | None:
        loaders = info.context.loaders
        view = await loaders.views.load((key, as_of))
        if view is None:
            return None
        loaders.views.prime((view.key, as_of), view)  # later fields ask by the canonical key
        return Node(key=view.key, known_kind=view.kind, as_of=as_of)

    @typed.field("Several nodes, in the order asked; null for each that is not there")
    async def nodes(self, info: Info, keys: list[str], as_of: AsOf = None) -> list[Node | None]:
        check_limit(len(keys), info.context.rt.settings.page_max, name="keys")
        views = await info.context.loaders.views.load_many([(k, as_of) for k in keys])
        return [None if v is None else Node(key=v.key, known_kind=v.kind, as_of=as_of) for v in views]

    @typed.field("Find by partial key, lot, serial or name, or by a whole identifier in any form")
    async def search(
        self, info: Info, text: str, kinds: Kinds = None, first: int = 20, after: str | None = None
    ) -> pagination.Connection[SearchHit]:
        rt = info.context.rt
        page = pagination.page(first, after, maximum=rt.settings.page_max)
        # One row past the page says whether there is a next one.
        hits = await rt.run(rt.services.search, text, kinds=kinds, limit=page.offset + page.first + 1)
        rows = [SearchHit(key=h.key, kind=h.kind, label=h.label) for h in hits[page.offset : page.offset + page.first]]
        return pagination.connection(rows, page, has_next=len(hits) > page.offset + page.first, total=None)

    @typed.field("Trace forward (impact) or backward (genealogy); nodes are paged, totals exact")
    async def trace(
        self,
        info: Info,
        starts: Starts,
        direction: TraceDirection = TraceDirection.FORWARD,
        max_depth: int | None = None,
        kinds: Kinds = None,
        window: TimeWindowInput | None = None,
        as_of: AsOf = None,
        ignore_time: bool = False,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> TraceResult:
        rt = info.context.rt
        page = pagination.page(first, after, maximum=rt.settings.trace_max_limit)
        query = _trace_query(starts, direction, max_depth, kinds, window, as_of, ignore_time, page.offset + page.first)
        result = await run_trace(rt, query)
        rows = [
            TraceNode(key=n.key, kind=n.kind, degree=n.degree, path=list(n.path), as_of=as_of)
            for n in result.nodes[page.offset :]
        ]
        return TraceResult(
            starts=list(result.starts),
            direction=result.direction,
            total=result.total,
            truncated=result.truncated,
            is_partial=result.is_partial,
            nodes=pagination.connection(rows, page, has_next=result.truncated, total=result.total),
            edges=[TraceEdge(source=e.source, target=e.target, type=e.type) for e in result.edges],
        )

    @typed.field("How many nodes a trace reaches (of the kinds asked for)")
    async def trace_count(
        self,
        info: Info,
        starts: Starts,
        direction: TraceDirection = TraceDirection.FORWARD,
        max_depth: int | None = None,
        kinds: Kinds = None,
        window: TimeWindowInput | None = None,
        as_of: AsOf = None,
        ignore_time: bool = False,
    ) -> TraceCount:
        query = _trace_query(starts, direction, max_depth, kinds, window, as_of, ignore_time, 0)
        result = await run_trace(info.context.rt, query)
        return TraceCount(total=result.total, is_partial=result.is_partial)

    @typed.field("Recall scope from anomaly propagation, as `tracegraph recall --json` prints it")
    async def recall_scope(
        self,
        info: Info,
        starts: list[str] | None = None,
        signals: list[str] | None = None,
        threshold: float = 0.5,
        window: TimeWindowInput | None = None,
        as_of: AsOf = None,
    ) -> JSON:
        if not starts and not signals:
            raise InvalidInputError("name at least one start key or signal id")
        rt = info.context.rt
        span = TimeWindow(start=window.start, end=window.end) if window is not None else None
        scope = await rt.run(
            rt.services.recall_scope,
            starts=starts or [],
            signals=signals or [],
            threshold=threshold,
            window=span,
            as_of=as_of,
        )
        return JSON(scope.to_json())

    @typed.field("Find the source: upstream nodes common to complaints or failed units, ranked, with the uncertainty")
    async def likely_sources(
        self,
        info: Info,
        cases: Annotated[list[str], strawberry.argument(description="Complaints or complained/failed units")],
        controls: Annotated[
            list[str] | None, strawberry.argument(description="Units to compare with (default: built in the period)")
        ] = None,
        kinds: Kinds = None,
        margin_days: float = 30.0,
        statistic: str = "bayes",
        limit: int = 20,
        evidence: int = 10,
        as_of: AsOf = None,
    ) -> LikelySources:
        return await likely_sources_of(info, cases, controls, kinds, margin_days, statistic, limit, evidence, as_of)

    @typed.field("What stands behind a node (or, FORWARD, what it went into), as a tree")
    async def genealogy(
        self,
        info: Info,
        key: str,
        depth: int = DEFAULT_GENEALOGY_DEPTH,
        direction: TraceDirection = TraceDirection.BACKWARD,
        as_of: AsOf = None,
    ) -> Genealogy:
        rt = info.context.rt
        query = _trace_query([key], direction, depth, None, None, as_of, False, rt.settings.trace_default_limit)
        result = await run_trace(rt, query)
        root_view = await info.context.loaders.views.load((result.starts[0], as_of))
        if root_view is None:  # deleted between the trace and now: facts are never deleted, so unlikely
            raise NotFoundError(f"no node with key {result.starts[0]}")
        return _tree(result, root_view.kind, as_of)


def _tree(result: TraceResultModel, root_kind: NodeKind, as_of: datetime | None) -> Genealogy:
    """Hang every listed node under the node before it on its path. Traces list nodes by hops,
    and a path's nodes are fewer hops away, so every parent is placed before its children."""
    via: dict[frozenset[str], EdgeType] = {}
    for e in result.edges:  # sorted: the first type between two nodes wins, the same every time
        via.setdefault(frozenset((e.source, e.target)), e.type)
    root_key = result.starts[0]
    root = GenealogyNode(key=root_key, kind=root_kind, degree=0, parent=None, via=None, children=[], as_of=as_of)
    placed = {root_key: root}
    for n in result.nodes:
        parent = n.path[-2]
        node = GenealogyNode(
            key=n.key,
            kind=n.kind,
            degree=n.degree,
            parent=parent,
            via=via.get(frozenset((parent, n.key))),
            children=[],
            as_of=as_of,
        )
        placed[parent].children.append(node)
        placed[n.key] = node
    return Genealogy(
        root=root,
        nodes=list(placed.values()),
        total=result.total,
        truncated=result.truncated,
        is_partial=result.is_partial,
    )
