"""REST response bodies that ``schema`` does not already define (it defines traces and nodes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from loaders.base import Reject
from schema.model import BatchResult
from services.ingest import LoadReport


class LoadReportOut(BaseModel):
    """What a load read, rejected and wrote."""

    sources: list[str]
    records: int = Field(..., description="Source records read (rows, events), accepted or not")
    nodes: int = Field(..., description="Node facts read")
    edges: int = Field(..., description="Edge facts read")
    rejects: list[Reject] = Field(..., description="Every rejected record (partial loads only; strict loads fail)")
    result: BatchResult | None = Field(None, description="The written batch; already_loaded when it was a repeat")
    applied: bool = Field(..., description="Whether this request changed the store")

    @classmethod
    def of(cls, report: LoadReport) -> LoadReportOut:
        return cls(
            sources=report.sources,
            records=report.records,
            nodes=report.nodes,
            edges=report.edges,
            rejects=report.rejects,
            result=report.result,
            applied=report.applied,
        )


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    backend: str = Field(..., examples=["sqlite"])
    schema_version: int = Field(..., examples=[1])
    nodes: int = Field(..., examples=[25])
