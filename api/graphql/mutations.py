"""The GraphQL mutations: ``ingest``, strict like ``tracegraph load``; ``recallReport``, ``traceReport``."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path, PurePath
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.graphql import typed
from api.graphql.context import Info
from api.graphql.types import Batch, IngestFormat, LoadReport, Reject
from api.tracing import check_limit
from reports.publish import publish_recall_report, publish_trace_report
from reports.recall_report import RecallRequest, parse_facts
from reports.trace_report import DEFAULT_LIMIT, ReportRequest, report_json
from schema.errors import InvalidInputError
from schema.model import TraceDirection


def document_name(document: str, fmt: IngestFormat, mapping: str | None) -> str:
    """The file name a document is loaded under: it picks the reader, and for CSV which file of
    the CSV format the rows are (their mapping onto the model)."""
    if mapping:
        name = PurePath(mapping).name
        return name if PurePath(name).suffix or fmt is not IngestFormat.CSV else f"{name}.csv"
    if fmt is IngestFormat.CSV:
        raise InvalidInputError(
            "a CSV document needs mapping: the file of the CSV format it is, e.g. packing.csv "
            "(see docs/reference/csv-format.md)"
        )
    return "document.xml" if document.lstrip().startswith("<") else "document.jsonld"


@strawberry.type
class Mutation:
    @typed.mutation(
        "Load one document as one batch. Strict unless partial: any rejected record rejects "
        "the whole document (error REJECTED_RECORDS, every reject in extensions.rejects)"
    )
    async def ingest(
        self,
        info: Info,
        document: str,
        fmt: Annotated[IngestFormat, strawberry.argument(name="format")] = IngestFormat.AUTO,
        mapping: Annotated[
            str | None,
            strawberry.argument(description="For CSV: which file of the CSV format it is, e.g. packing.csv"),
        ] = None,
        partial: bool = False,
    ) -> LoadReport:
        rt = info.context.rt
        name = document_name(document, fmt, mapping)
        report = await rt.run(rt.services.load_document, document.encode(), name=name, fmt=fmt.value, partial=partial)
        return LoadReport(
            sources=report.sources,
            records=report.records,
            nodes=report.nodes,
            edges=report.edges,
            rejects=[Reject.from_pydantic(r) for r in report.rejects],
            batch=Batch.from_pydantic(report.result) if report.result else None,
            applied=report.applied,
        )

    @typed.mutation(
        "Generate a recall report (21 CFR 806.10(c) and EU Field Safety Notice) from a recall scope, "
        "recorded in the audit trail; returns the report's JSON document (POST /api/v1/reports/recall "
        "returns its files as an evidence package, and signs)"
    )
    async def recall_report(
        self,
        info: Info,
        starts: list[str] | None = None,
        signals: list[str] | None = None,
        threshold: float = 0.5,
        as_of: datetime | None = None,
        facts: Annotated[
            JSON | None, strawberry.argument(description="Company facts, as in the YAML facts file")
        ] = None,
    ) -> JSON:
        if not starts and not signals:
            raise InvalidInputError("name at least one start key or signal id")
        rt = info.context.rt
        request = RecallRequest(
            starts=tuple(starts or ()),
            signals=tuple(signals or ()),
            threshold=threshold,
            as_of=as_of,
            facts=parse_facts(facts or {}, source="facts"),
        )
        with tempfile.TemporaryDirectory(prefix="tracegraph-recall-") as tmp:
            published = await rt.run(publish_recall_report, rt.services, request, Path(tmp))
        return JSON(published.report)

    @typed.mutation(
        "Generate the trace report of one key (genealogy or impact, every line citing its source record), "
        "recorded in the audit trail; returns the report's JSON document (POST /api/v1/reports/trace "
        "returns its files as an evidence package)"
    )
    async def trace_report(
        self,
        info: Info,
        key: str,
        direction: TraceDirection = TraceDirection.BACKWARD,
        as_of: datetime | None = None,
        max_depth: int | None = None,
        limit: Annotated[
            int, strawberry.argument(description="List at most N nodes (the total stays exact)")
        ] = DEFAULT_LIMIT,
        ignore_time: bool = False,
    ) -> JSON:
        rt = info.context.rt
        if max_depth is not None and max_depth < 0:
            raise InvalidInputError(f"maxDepth must be 0 or more, not {max_depth}")
        if limit < 1:
            raise InvalidInputError(f"limit must be 1 or more, not {limit}")
        request = ReportRequest(
            key=key,
            direction=direction,
            as_of=as_of,
            max_depth=max_depth,
            limit=check_limit(limit, rt.settings.trace_max_limit),
            ignore_time=ignore_time,
        )
        with tempfile.TemporaryDirectory(prefix="tracegraph-trace-") as tmp:
            published = await rt.run(publish_trace_report, rt.services, request, Path(tmp))
        return JSON(report_json(published.report))
