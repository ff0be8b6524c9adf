"""Domain errors to HTTP statuses and GraphQL ``extensions.code``: the one place for both.

Every error a caller can cause is a :class:`schema.errors.TraceGraphError`; it reaches the
caller with its message and stable ``code``. Anything else is a bug: it is logged with its
traceback and the caller sees only "internal error", never a stack trace or a store detail.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from graphql import GraphQLError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from strawberry.extensions import MaskErrors

from i18n.errors import error_message
from i18n.errors import title as error_title
from loaders.base import Reject
from schema.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    RateLimitedError,
    RejectedRecordsError,
    StoreBusyError,
    StoreError,
    TraceGraphError,
    UnauthenticatedError,
)

log = logging.getLogger("tracegraph.api")

#: Seconds a client should wait after a 503 "store busy": another process's load holds the lock.
RETRY_AFTER_SECONDS = 5
PROBLEM_JSON = "application/problem+json"


class BodyTooLargeError(LimitExceededError):
    """A request body over ``max_body_bytes``."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the request body is larger than the limit of {limit} bytes (setting TRACEGRAPH_MAX_BODY_BYTES)"
        )
        self.limit = limit


class UnsupportedMediaTypeError(InvalidInputError):
    """A body in a media type the operation does not read."""

    code = "unsupported_media_type"


#: Most specific first: the first class an error is an instance of gives its status.
_STATUS: tuple[tuple[type[TraceGraphError], int], ...] = (
    (BodyTooLargeError, 413),
    (UnsupportedMediaTypeError, 415),
    (RejectedRecordsError, 422),
    (InvalidInputError, 422),  # InvalidKeyError, UnsupportedFormatError
    (NotFoundError, 404),
    (ConflictError, 409),
    (UnauthenticatedError, 401),
    (ForbiddenError, 403),
    (RateLimitedError, 429),
    (LimitExceededError, 422),
    (StoreError, 503),  # StoreBusyError, StoreUnavailableError, MigrationRequiredError
)

#: The EPCIS 2.0 REST binding names its exceptions; other routes use ``urn:tracegraph:error:{code}``.
_EPCIS_TYPES: tuple[tuple[type[TraceGraphError], str], ...] = (
    (BodyTooLargeError, "epcisException:CaptureLimitExceededException"),
    (UnsupportedMediaTypeError, "epcisException:ValidationException"),
    (InvalidInputError, "epcisException:ValidationException"),
    (NotFoundError, "epcisException:NoSuchResourceException"),
    (UnauthenticatedError, "epcisException:SecurityException"),
    (ForbiddenError, "epcisException:SecurityException"),
    (RateLimitedError, "urn:tracegraph:error:rate_limited"),
    (LimitExceededError, "epcisException:QueryTooLargeException"),
    (StoreError, "epcisException:ImplementationException"),
)


def http_status(error: TraceGraphError) -> int:
    return next((status for cls, status in _STATUS if isinstance(error, cls)), 400)


class Problem(BaseModel):
    """An error, as RFC 9457 problem details with TraceGraph's stable ``code``."""

    type: str = Field(..., examples=["urn:tracegraph:error:not_found"])
    title: str = Field(..., examples=["not found"])
    status: int = Field(..., examples=[404])
    detail: str = Field(..., examples=["no node with key wo:WO-404"])
    code: str = Field(..., description="Stable machine-readable code", examples=["not_found"])
    rejects: list[Reject] | None = Field(None, description="Every rejected record (code rejected_records)")
    errors: list[dict[str, Any]] | None = Field(None, description="Each invalid request parameter (invalid_input)")


def _rejects(error: RejectedRecordsError) -> list[dict[str, Any]]:
    return [r.model_dump() if isinstance(r, BaseModel) else {"source": "", "reason": str(r)} for r in error.rejects]


def _body(code: str, status: int, detail: str, type_: str | None = None) -> dict[str, Any]:
    return {
        "type": type_ or f"urn:tracegraph:error:{code}",
        "title": error_title(code),
        "status": status,
        "detail": detail,
        "code": code,
    }


def problem(error: TraceGraphError, *, epcis: bool = False) -> dict[str, Any]:
    type_ = next((t for cls, t in _EPCIS_TYPES if isinstance(error, cls)), None) if epcis else None
    body = _body(error.code, http_status(error), error_message(error), type_)
    if isinstance(error, RejectedRecordsError):
        body["rejects"] = _rejects(error)
    return body


def error_response(error: TraceGraphError, *, epcis: bool = False) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(error, StoreBusyError) else None
    if isinstance(error, RateLimitedError):
        headers = {"Retry-After": str(max(1, math.ceil(error.retry_after)))}
    elif isinstance(error, UnauthenticatedError):
        headers = {"WWW-Authenticate": 'Bearer realm="tracegraph"'}
    body = problem(error, epcis=epcis)
    return JSONResponse(body, status_code=body["status"], headers=headers, media_type=PROBLEM_JSON)


def _is_epcis(request: Request) -> bool:
    return request.url.path.startswith("/epcis/")


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TraceGraphError)
    return error_response(exc, epcis=_is_epcis(request))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    body = problem(InvalidInputError(summary or "invalid request"), epcis=_is_epcis(request))
    body["errors"] = errors
    return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    body = _body(code, exc.status_code, str(exc.detail))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers, media_type=PROBLEM_JSON)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The server logs the traceback too (Starlette re-raises after answering); say which request.
    log.error("unexpected error serving %s %s: %r", request.method, request.url.path, exc)
    body = _body("internal_error", 500, "internal error; it has been logged")
    return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TraceGraphError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


_DESCRIBED = {
    400: "The body cannot be parsed as the media type it declares",
    401: "Not signed in: no valid API key, session or token (WWW-Authenticate says how)",
    403: "Signed in, but the role may not do this (or a session change lacks its X-CSRF-Token)",
    429: "Too many requests from this key, or failed sign-ins from this address (with Retry-After)",
    404: "No such node or record",
    409: "The change conflicts with what the store holds (e.g. a task move its state does not allow)",
    413: "The request body is over the configured limit",
    415: "The body's media type is not one this operation reads",
    422: "Invalid input: a bad key, parameter or document",
    503: "The store is busy (with Retry-After) or unavailable",
}


def error_responses(*statuses: int, examples: dict[int, Any] | None = None) -> dict[int | str, dict[str, Any]]:
    """An operation's OpenAPI error responses: 422 and 503 always, plus ``statuses``."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in (422, 503, *statuses):
        content: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/Problem"}}
        if examples and status in examples:
            content["example"] = examples[status]
        responses[status] = {"model": Problem, "description": _DESCRIBED[status], "content": {PROBLEM_JSON: content}}
    return responses


# -- GraphQL ----------------------------------------------------------------------------


def graphql_code(error: TraceGraphError) -> str:
    """``extensions.code``: the domain code in GraphQL's customary upper case (``NOT_FOUND``)."""
    return error.code.upper()


def _should_rewrite(error: GraphQLError) -> bool:
    # Syntax, validation and limit errors have no original error: they already say what is wrong.
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class GraphQLErrorMapping(MaskErrors):
    """MaskErrors, except that domain errors keep their message and get ``extensions.code``."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_rewrite, error_message="internal error; it has been logged")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if not isinstance(original, TraceGraphError):
            masked = super().anonymise_error(error)
            masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
            return masked
        extensions: dict[str, Any] = {"code": graphql_code(original), "status": http_status(original)}
        if isinstance(original, RejectedRecordsError):
            extensions["rejects"] = _rejects(original)
        return GraphQLError(
            error_message(original),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=original,
            extensions=extensions,
        )


def is_expected(error: GraphQLError) -> bool:
    """A client's mistake or a domain answer ("not found"), not a bug worth logging."""
    return error.original_error is None or isinstance(error.original_error, (TraceGraphError, GraphQLError))
