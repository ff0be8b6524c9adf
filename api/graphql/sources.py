"""GraphQL ``likelySources``: ranked candidate sources of a set of complaints or failures.

Thin over ``Services.likely_sources``. From a candidate, one more field answers what it
reached: ``impact`` (the forward trace from it, counted; for a machine, within its window)
and ``recallScope`` (the recall scope if it is the source). ``likelySources`` needs
``graph:read``; ``recallScope`` on a candidate needs ``recall`` as the root field does, and
is checked where it resolves.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast, get_args

import strawberry
from strawberry.scalars import JSON

from api.auth.guard import principal_of
from api.graphql import typed
from api.graphql.context import Info
from api.graphql.types import TraceCount
from api.tracing import run_trace, trace_query
from risk.sources import Candidate as CandidateModel
from risk.sources import Evidence as EvidenceModel
from risk.sources import LikelySources as LikelySourcesModel
from risk.sources import Statistic
from schema.access import Permission
from schema.errors import ForbiddenError, InvalidInputError
from schema.kinds import EdgeType, NodeKind
from schema.model import TimeWindow, TraceDirection

STATISTICS: tuple[str, ...] = get_args(Statistic)
#: Most candidates (and candidates with evidence) one answer lists.
MAX_LIMIT = 1_000


@strawberry.type(description="A record on a candidate: an inspection, calibration, process run or change record")
class SourceEvidence:
    key: str
    kind: NodeKind | None
    relation: EdgeType
    at: datetime | None
    summary: str
    flagged: bool = strawberry.field(description="It reads as a problem: failed, marginal, out of tolerance, open")

    @classmethod
    def of(cls, e: EvidenceModel) -> SourceEvidence:
        return cls(key=e.key, kind=e.kind, relation=e.relation, at=e.at, summary=e.summary, flagged=e.flagged)


@strawberry.type(description="What to run next from a candidate, as CLI commands, service calls and REST URLs")
class SourceNextSteps:
    trace: str
    recall: str
    trace_url: str
    recall_url: str


@strawberry.type(description="One candidate source: a node, or a machine in a time window, with its statistics")
class SourceCandidate:
    rank: int = strawberry.field(description="1 is the most likely; tied candidates share a rank")
    key: str
    kind: NodeKind
    group: str = strawberry.field(description="supplier, material lot, product lot, work order, equipment window, …")
    window_start: datetime | None
    window_end: datetime | None
    runs: list[str] = strawberry.field(description="Equipment: the work orders run in the window")
    target: str | None = strawberry.field(description="Process change: what it changed")
    cases: list[str] = strawberry.field(description="The cases it explains")
    explained: int
    score: float = strawberry.field(description="Cases explained over cases (FoodChain-Lab's normalised score)")
    common_link: bool
    controls: int = strawberry.field(description="Controls that pass through it too")
    control_share: float
    log_bayes_factor: float
    log_likelihood_ratio: float
    log_prior_odds: float = strawberry.field(description="Prior weight from anomaly signals on it")
    attributable: float
    odds_ratio: float
    p_value: float = strawberry.field(description="Fisher's exact test, one-sided")
    p_adjusted: float
    windows_tried: int
    top_share: float | None = strawberry.field(description="Share of bootstrap resamples ranking it first")
    equivalent: list[str]
    carriers: list[str] = strawberry.field(description="Downstream candidates folded into it by parsimony")
    signals: list[str]
    paths: list[list[str]] = strawberry.field(description="Explaining paths, from a case up to the candidate")
    evidence: list[SourceEvidence]
    next: SourceNextSteps | None
    as_of: strawberry.Private[datetime | None] = None

    @classmethod
    def of(cls, c: CandidateModel, as_of: datetime | None) -> SourceCandidate:
        return cls(
            rank=c.rank,
            key=c.key,
            kind=c.kind,
            group=c.group,
            window_start=c.window_start,
            window_end=c.window_end,
            runs=list(c.runs),
            target=c.target,
            cases=list(c.cases),
            explained=c.explained,
            score=c.score,
            common_link=c.common_link,
            controls=c.controls,
            control_share=c.control_share,
            log_bayes_factor=c.log_bayes_factor,
            log_likelihood_ratio=c.log_likelihood_ratio,
            log_prior_odds=c.log_prior_odds,
            attributable=c.attributable,
            odds_ratio=c.odds_ratio,
            p_value=c.p_value,
            p_adjusted=c.p_adjusted,
            windows_tried=c.windows_tried,
            top_share=c.top_share,
            equivalent=list(c.equivalent),
            carriers=list(c.carriers),
            signals=list(c.signals),
            paths=[list(p) for p in c.paths],
            evidence=[SourceEvidence.of(e) for e in c.evidence],
            next=None
            if c.next is None
            else SourceNextSteps(
                trace=c.next.trace, recall=c.next.recall, trace_url=c.next.trace_url, recall_url=c.next.recall_url
            ),
            as_of=as_of,
        )

    def _start(self) -> tuple[str, TimeWindow | None]:
        """Where its impact starts: the node (a process change: what it changed, from the
        change on), within its window for a machine."""
        if self.kind is NodeKind.CHANGE_RECORD and self.target is not None:
            return self.target, TimeWindow(start=self.window_start)
        if self.kind is NodeKind.EQUIPMENT and self.window_start is not None:
            return self.key, TimeWindow(start=self.window_start, end=self.window_end)
        return self.key, None

    @typed.field("Its forward impact: what the trace from it reaches (within its window for a machine), counted")
    async def impact(self, info: Info) -> TraceCount:
        rt = info.context.rt
        start, window = self._start()
        query = trace_query(
            starts=[start],
            direction=TraceDirection.FORWARD,
            depth=None,
            kinds=None,
            start=window.start if window else None,
            end=window.end if window else None,
            as_of=self.as_of,
            ignore_time=False,
            limit=0,
        )
        result = await run_trace(rt, query)
        return TraceCount(total=result.total, is_partial=result.is_partial)

    @typed.field("Its recall scope if it is the source, as `tracegraph recall --json` prints it (needs `recall`)")
    async def recall_scope(self, info: Info, threshold: float = 0.5) -> JSON | None:
        # Nullable: a refusal is this field's error, and the rest of the answer stands.
        request = getattr(info.context, "request", None)
        if request is None or Permission.RECALL not in principal_of(request).permissions:
            raise ForbiddenError("recallScope needs the recall permission")
        rt = info.context.rt
        start, window = self._start()
        scope = await rt.run(
            rt.services.recall_scope, starts=[start], window=window, threshold=threshold, as_of=self.as_of
        )
        return JSON(scope.to_json())


@strawberry.type(description="Candidate sources of a set of complaints or failures, ranked, with the uncertainty")
class LikelySources:
    cases: list[str] = strawberry.field(description="The cases, each as given (a complaint or a unit)")
    case_units: list[str] = strawberry.field(description="The unit each case stands for")
    controls_mode: str = strawberry.field(description="auto: the units built in the period; explicit: as given")
    controls: int
    period_start: datetime | None
    period_end: datetime | None
    statistic: str
    tested: int
    total: int
    candidates: list[SourceCandidate]
    by_group: JSON = strawberry.field(description="Listed candidate keys per group, in rank order")
    notes: list[str] = strawberry.field(description="The ranking's uncertainty, in plain words")
    is_partial: bool

    @classmethod
    def of(cls, answer: LikelySourcesModel) -> LikelySources:
        return cls(
            cases=[c.key for c in answer.cases],
            case_units=[c.unit for c in answer.cases],
            controls_mode=answer.controls_mode,
            controls=answer.controls,
            period_start=answer.period_start,
            period_end=answer.period_end,
            statistic=answer.statistic,
            tested=answer.tested,
            total=answer.total,
            candidates=[SourceCandidate.of(c, answer.as_of) for c in answer.candidates],
            by_group=JSON(answer.by_group),
            notes=list(answer.notes),
            is_partial=answer.is_partial,
        )


async def likely_sources_of(
    info: Info,
    cases: list[str],
    controls: list[str] | None,
    kinds: list[NodeKind] | None,
    margin_days: float,
    statistic: str,
    limit: int,
    evidence: int,
    as_of: datetime | None,
) -> LikelySources:
    """The root field ``likelySources``: one service call."""
    if statistic not in STATISTICS:
        raise InvalidInputError(f"statistic must be one of {', '.join(STATISTICS)}")
    if not 1 <= limit <= MAX_LIMIT or not 0 <= evidence <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be 1 to {MAX_LIMIT} and evidence 0 to {MAX_LIMIT}")
    rt = info.context.rt
    answer = await rt.run(
        rt.services.likely_sources,
        cases,
        controls=controls,
        kinds=frozenset(kinds) if kinds else None,
        margin_days=margin_days,
        as_of=as_of,
        limit=limit,
        evidence=evidence,
        statistic=cast(Statistic, statistic),
    )
    return LikelySources.of(answer)
