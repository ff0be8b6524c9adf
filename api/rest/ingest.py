"""``POST /api/v1/ingest``: ``tracegraph load`` for one uploaded file."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest import API_V1, examples
from api.rest.models import LoadReportOut

router = APIRouter(prefix=API_V1, tags=["ingest"])

IngestFormat = Literal["auto", "csv", "epcis"]


@router.post(
    "/ingest",
    summary="Load one file as one batch (strict unless partial)",
    response_model=LoadReportOut,
    responses={
        200: examples.json_example(examples.LOAD_REPORT, "Loaded (or already loaded: a repeat is a no-op)"),
        **error_responses(400, 413, examples={422: examples.REJECTED}),
    },
)
async def ingest(
    rt: RuntimeDep,
    file: Annotated[
        UploadFile,
        File(description="A file of the CSV format (its name says which, e.g. packing.csv) or an EPCIS document"),
    ],
    fmt: Annotated[IngestFormat, Form(alias="format", description="auto picks by file name")] = "auto",
    partial: Annotated[bool, Form(description="Load the good records and list the rejected ones")] = False,
) -> LoadReportOut:
    """Strict by default, like the CLI: if any record is rejected nothing is written, and the 422
    lists every reject with its line and reason. With ``partial=true`` the rest is loaded and the
    rejects are listed in the report. Loading the same file twice changes nothing the second time."""
    data = await file.read()
    report = await rt.run(rt.services.load_document, data, name=file.filename or "upload", fmt=fmt, partial=partial)
    return LoadReportOut.of(report)
