"""API keys, dashboard sessions and shares: who is calling, with which role, seeing what.

**Keys** are ``tgk_<id>_<secret>``: a public id (to find the row) and 256 random bits. Only a
salted SHA-256 of the secret is stored. A fast hash is the right one here: slow password hashes
(scrypt, Argon2) exist to make guessing *low-entropy* passwords expensive, but nobody can guess
256 random bits however fast the hash, and a deliberately slow hash checked on every request
would hand attackers a cheap way to burn CPU. The per-key salt means equal secrets never give
equal digests and one precomputed table serves no two keys. There is no server-wide pepper: it
would be one more secret for the CLI and every API process to share, and losing it would revoke
every key, for no gain against guessing.

**Sessions** (the dashboard) are random tokens too, stored as SHA-256 digests, with a CSRF token
of their own (also stored as a digest). Nothing is signed, so there is no session secret to
configure, leak or rotate: logging out or revoking the key deletes the row, and the session ends
everywhere at once.

**Shares** scope what an auditor reads: a list of subject patterns (``report:trace:…``,
``package:*``) per principal (``key:<id>`` or ``oidc:<subject>``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graph.factory import SQLITE_SCHEMES, sqlite_path
from schema.access import SCOPED_ROLES, Permission, Role, parse_role, permissions_of, share_matches
from schema.audit import AuditAction
from schema.errors import InvalidInputError, NotFoundError, UnauthenticatedError
from services.access_store import AccessStore, KeyRow, SessionRow, ShareRow
from services.audit import AuditTrail
from services.settings import Settings

KEY_PREFIX = "tgk_"
ACCESS_SUFFIX = ".access.db"
SERVER_STORE_ACCESS = Path("tracegraph-access.db")
_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
#: Writes of "last used" and "last seen" happen at most this often (seconds): reads stay reads.
TOUCH_INTERVAL = 60.0
NOT_A_KEY = "not a valid API key (unknown, or mistyped)"


def access_path(settings: Settings) -> Path:
    """``TRACEGRAPH_ACCESS``; else beside a SQLite store; else beside ``TRACEGRAPH_AUDIT`` (the
    one persistent volume a server deployment already has); else ``./tracegraph-access.db``."""
    if settings.access:
        return Path(settings.access)
    url = settings.store
    scheme = url.split("://", 1)[0].lower() if "://" in url else "sqlite"
    if scheme in SQLITE_SCHEMES:
        store = sqlite_path(url)
        return store.with_name(store.name + ACCESS_SUFFIX)
    if settings.audit:
        return Path(settings.audit).with_name(SERVER_STORE_ACCESS.name)
    return SERVER_STORE_ACCESS


def digest(secret: str, salt: bytes = b"") -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


def csrf_token_for(session_token: str) -> str:
    """A session's CSRF token: derived from the session token (which only the HttpOnly cookie
    carries), so the server can give it again after a page reload without storing it."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"tracegraph-csrf\0" + session_token.encode()).digest()).decode()


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def parse_expiry(text: str, *, now: datetime | None = None) -> datetime:
    """``90d``, ``12h``, ``30m`` from now, or an ISO 8601 date or time (naive: UTC)."""
    now = now or datetime.now(UTC)
    match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text)
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match[2]]
        return now + timedelta(**{unit: int(match[1])})
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"--expires: '{text}' is neither a duration (90d, 12h, 30m) nor an ISO date") from None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at <= now:
        raise InvalidInputError(f"--expires: {text} is in the past")
    return at


@dataclass(frozen=True)
class ApiKey:
    """What may be shown of a key: never its secret, nor its digest."""

    id: str
    name: str
    role: str
    created_at: float
    created_by: str
    expires_at: float | None
    revoked_at: float | None
    revoked_by: str | None
    last_used_at: float | None

    @classmethod
    def of(cls, row: KeyRow) -> ApiKey:
        return cls(
            row.id,
            row.name,
            row.role,
            row.created_at,
            row.created_by,
            row.expires_at,
            row.revoked_at,
            row.revoked_by,
            row.last_used_at,
        )

    def state(self, now: float | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or time.time()):
            return "expired"
        return "active"

    @property
    def principal(self) -> str:
        return f"key:{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "state": self.state(),
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "expires_at": _iso(self.expires_at),
            "revoked_at": _iso(self.revoked_at),
            "revoked_by": self.revoked_by,
            "last_used_at": _iso(self.last_used_at),
        }


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the whole ``tgk_…`` string: shown once, stored nowhere


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key, a session opened with one, a verified token, or nobody."""

    id: str  # key:<id>, oidc:<subject>, development, anonymous
    name: str
    roles: frozenset[Role]
    method: str  # key, session, token, development, none
    session: bytes | None = None  # the session digest, for a cookie session
    csrf_digest: bytes | None = None
    shares: tuple[str, ...] = ()
    #: The audit trail's actor; None keeps the server process's own (development mode).
    actor: str | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def authenticated(self) -> bool:
        return self.method != "none"

    @property
    def scoped(self) -> bool:
        """Reads limited to what was shared: every role it holds is a scoped one."""
        return bool(self.roles) and self.roles <= SCOPED_ROLES

    def may_see(self, subject: str) -> bool:
        return not self.scoped or any(share_matches(p, subject) for p in self.shares)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "roles": sorted(r.value for r in self.roles),
            "permissions": sorted(p.value for p in self.permissions),
            "method": self.method,
            "scoped": self.scoped,
            "shares": list(self.shares),
        }


ANONYMOUS = Principal(id="anonymous", name="anonymous", roles=frozenset(), method="none")
DEVELOPMENT = Principal(id="development", name="development mode", roles=frozenset({Role.ADMIN}), method="development")


@dataclass
class OpenedSession:
    token: str
    csrf_token: str
    expires_at: float
    principal: Principal


@dataclass
class AccessControl:
    store: AccessStore
    #: Key and share changes are recorded here (services.audit); None records nothing (tests).
    audit: AuditTrail | None = None
    _touched: dict[str, float] = field(default_factory=dict)

    @classmethod
    def for_settings(cls, settings: Settings, *, audit: AuditTrail | None = None) -> AccessControl:
        return cls(AccessStore(access_path(settings), busy_timeout=settings.busy_timeout), audit)

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    # -- keys ------------------------------------------------------------------------
    def create_key(
        self, *, name: str, role: Role | str, actor: str, expires_at: datetime | None = None, reason: str | None = None
    ) -> IssuedKey:
        role = role if isinstance(role, Role) else parse_role(role)
        name = name.strip()
        if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
            raise InvalidInputError("a key needs a name of 1 to 100 printable characters (who or what uses it)")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        row = KeyRow(
            id=key_id,
            name=name,
            role=role.value,
            salt=salt,
            digest=digest(secret, salt),
            created_at=time.time(),
            created_by=actor,
            expires_at=expires_at.timestamp() if expires_at else None,
            revoked_at=None,
            revoked_by=None,
            last_used_at=None,
        )
        self.store.insert_key(row)
        key = ApiKey.of(row)
        self._record(
            actor,
            key.principal,
            new={"name": name, "role": role.value, "expires_at": _iso(row.expires_at), "state": "active"},
            reason=reason or f"issued a {role.value} key named '{name}'",
        )
        return IssuedKey(key, f"{KEY_PREFIX}{key_id}_{secret}")

    def keys(self, *, include_inactive: bool = True) -> list[ApiKey]:
        keys = [ApiKey.of(r) for r in self.store.all_keys()]
        return keys if include_inactive else [k for k in keys if k.state() == "active"]

    def key(self, key_id: str) -> ApiKey:
        row = self.store.key(_key_id(key_id))
        if row is None:
            raise NotFoundError(f"no API key with id {key_id} in {self.path}")
        return ApiKey.of(row)

    def revoke(self, key_id: str, *, actor: str, reason: str | None = None) -> ApiKey:
        before = self.key(key_id)
        if not self.store.revoke_key(before.id, at=time.time(), by=actor):
            raise InvalidInputError(f"key {before.id} ('{before.name}') is already revoked")
        self._record(
            actor,
            before.principal,
            old={"state": before.state()},
            new={"state": "revoked"},
            reason=reason or f"revoked the key named '{before.name}'",
        )
        return self.key(before.id)

    def authenticate_key(self, token: str) -> Principal:
        """The principal of a ``tgk_…`` key; UnauthenticatedError for anything else."""
        key_id, secret = _split(token)
        row = self.store.key(key_id)
        if row is None or not hmac.compare_digest(digest(secret, row.salt), row.digest):
            raise UnauthenticatedError(NOT_A_KEY)
        now = time.time()
        key = ApiKey.of(row)
        state = key.state(now)
        if state != "active":
            raise UnauthenticatedError(f"API key {key.id} ('{key.name}') is {state}")
        if (row.last_used_at or 0) < now - TOUCH_INTERVAL and self._touched.get(key.id, 0) < now - TOUCH_INTERVAL:
            self._touched[key.id] = now
            self.store.touch_key(key.id, now)
        return self._principal(key, method="key")

    def _principal(self, key: ApiKey, *, method: str, **extra: Any) -> Principal:
        role = Role(key.role)
        shares = self.shares_of(key.principal) if role in SCOPED_ROLES else ()
        return Principal(
            id=key.principal,
            name=key.name,
            roles=frozenset({role}),
            method=method,
            shares=shares,
            actor=f"key:{key.id} ({key.name})",
            **extra,
        )

    # -- sessions --------------------------------------------------------------------
    def open_session(self, principal: Principal, *, lifetime: float) -> OpenedSession:
        """A dashboard session for a key's principal (sessions are opened with keys only)."""
        if not principal.id.startswith("key:"):
            raise InvalidInputError("sessions are opened with an API key")
        token = secrets.token_urlsafe(32)
        csrf = csrf_token_for(token)
        now = time.time()
        row = SessionRow(digest(token), principal.id.removeprefix("key:"), digest(csrf), now, now, now + lifetime)
        self.store.insert_session(row, purge_before=now)
        return OpenedSession(token, csrf, row.expires_at, principal)

    def authenticate_session(self, token: str, *, idle_timeout: float) -> Principal:
        session_digest = digest(token)
        row = self.store.session(session_digest)
        now = time.time()
        if row is None or row.expires_at <= now or row.last_seen + idle_timeout <= now:
            raise UnauthenticatedError("the session has ended (expired, idle too long, or logged out): sign in again")
        key_row = self.store.key(row.key_id)
        key = ApiKey.of(key_row) if key_row else None
        if key is None or key.state(now) != "active":
            raise UnauthenticatedError("the key this session was opened with is no longer active: sign in again")
        if row.last_seen < now - TOUCH_INTERVAL:
            self.store.touch_session(session_digest, now)
        return self._principal(key, method="session", session=session_digest, csrf_digest=row.csrf_digest)

    def close_session(self, session_digest: bytes) -> bool:
        return self.store.delete_session(session_digest)

    # -- shares ----------------------------------------------------------------------
    def share(self, principal: str, patterns: Iterable[str], *, actor: str, reason: str | None = None) -> list[str]:
        principal = self._known_principal(principal)
        added = []
        for pattern in (p.strip() for p in patterns):
            if not pattern:
                raise InvalidInputError("a share names a subject (report:…, package:…) or a prefix ending in *")
            if self.store.add_share(ShareRow(principal, pattern, time.time(), actor)):
                added.append(pattern)
        if added:
            self._record(actor, principal, new={"shared": added}, reason=reason or f"shared {', '.join(added)}")
        return added

    def unshare(self, principal: str, patterns: Iterable[str], *, actor: str, reason: str | None = None) -> list[str]:
        principal = self._known_principal(principal)
        removed = [p for p in patterns if self.store.remove_share(principal, p)]
        if removed:
            self._record(
                actor, principal, old={"shared": removed}, reason=reason or f"stopped sharing {', '.join(removed)}"
            )
        return removed

    def shares_of(self, principal: str) -> tuple[str, ...]:
        return tuple(r.pattern for r in self.store.shares(principal))

    def all_shares(self) -> list[ShareRow]:
        return self.store.shares()

    def _known_principal(self, principal: str) -> str:
        """``key:<id>``, a bare key id, or ``oidc:<subject>`` (token users are not listed here)."""
        principal = principal.strip()
        if principal.startswith("oidc:") and len(principal) > len("oidc:"):
            return principal
        return self.key(principal.removeprefix("key:")).principal

    def _record(self, actor: str, subject: str, *, old: Any = None, new: Any = None, reason: str) -> None:
        if self.audit is not None:
            self.audit.record(AuditAction.KEY, actor=actor, subject=subject, old=old, new=new, reason=reason)


def _key_id(value: str) -> str:
    value = value.strip().removeprefix("key:")
    if not _KEY_ID.match(value):
        raise InvalidInputError(f"'{value}' is not a key id (12 hex digits, as `tracegraph keys list` shows)")
    return value


def _split(token: str) -> tuple[str, str]:
    if not token.startswith(KEY_PREFIX):
        raise UnauthenticatedError(NOT_A_KEY)
    key_id, _, secret = token[len(KEY_PREFIX) :].partition("_")
    if not _KEY_ID.match(key_id) or not secret:
        raise UnauthenticatedError(NOT_A_KEY)
    return key_id, secret
