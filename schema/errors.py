"""The domain error hierarchy.

Every error a user can cause or meet is one of these; transports (CLI, REST, GraphQL)
map them to exit codes, HTTP statuses and GraphQL ``extensions.code`` in one place each.
"""

from __future__ import annotations

from collections.abc import Sequence


class TraceGraphError(Exception):
    """Base of every domain error. ``code`` is stable and machine-readable."""

    code = "error"


class InvalidInputError(TraceGraphError):
    """Input that can never be accepted as given (bad key, bad row, bad document)."""

    code = "invalid_input"


class InvalidKeyError(InvalidInputError):
    """An identifier that is not one of the accepted key forms, or fails its check digit."""

    code = "invalid_key"


class RejectedRecordsError(InvalidInputError):
    """A load rejected at least one record; nothing was written (strict mode)."""

    code = "rejected_records"

    def __init__(self, message: str, rejects: Sequence[object] | None = None) -> None:
        super().__init__(message)
        self.rejects = list(rejects or [])


class ConflictError(TraceGraphError):
    """A fact contradicts what the store already holds (e.g. one key, two kinds)."""

    code = "conflict"


class NotFoundError(TraceGraphError):
    """The key or record asked for is not in the store."""

    code = "not_found"


class StoreError(TraceGraphError):
    """The store cannot do what was asked (unreachable, misconfigured, not migrated)."""

    code = "store_error"


class StoreBusyError(StoreError):
    """Another process holds the write lock and did not release it in time."""

    code = "store_busy"


class StoreUnavailableError(StoreError):
    """The store cannot be reached or refuses the credentials."""

    code = "store_unavailable"


class MigrationRequiredError(StoreError):
    """The store's schema is older than this software; run ``tracegraph migrate``."""

    code = "migration_required"


class LimitExceededError(TraceGraphError):
    """A request exceeds a configured limit (size, depth, rate)."""

    code = "limit_exceeded"


class UnsupportedFormatError(InvalidInputError):
    """A recognised but unsupported format (e.g. an AHM code)."""

    code = "unsupported_format"


class UnauthenticatedError(TraceGraphError):
    """No credentials, or credentials that are not valid (unknown, revoked or expired key; bad token)."""

    code = "unauthenticated"


class ForbiddenError(TraceGraphError):
    """Authenticated, but not allowed: the role lacks the permission, or a session request lacks its CSRF token."""

    code = "forbidden"


class RateLimitedError(LimitExceededError):
    """Too many requests from one key (or failed attempts from one address); try again after ``retry_after``."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InsecureConfigurationError(TraceGraphError):
    """Settings that must not serve real data: default or weak secrets, half-configured sign-in."""

    code = "insecure_configuration"
