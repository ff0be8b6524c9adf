"""Where keys, sessions and shares live: a small SQLite file of its own, owner-only, in WAL mode.

Kept apart from the graph store (which may be Neo4j) and from the audit trail (append-only), so
that revoking a key is an update here and a record there. The file holds no secret that works
on its own: keys and session tokens are stored as salted SHA-256 digests. The CLI writes it
(``tracegraph keys``) while the API reads it; every request reads the key's row again, so a
revocation takes effect on the next request, in every process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from schema.errors import StoreError
from services.sqlite_files import busy_or_broken, connect, create_owner_only, create_schema

FORMAT_VERSION = "1"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS access_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO access_meta (name, value) VALUES ('format', '{FORMAT_VERSION}');
CREATE TABLE IF NOT EXISTS api_key (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    salt BLOB NOT NULL,
    digest BLOB NOT NULL,
    created_at REAL NOT NULL,
    created_by TEXT NOT NULL,
    expires_at REAL,
    revoked_at REAL,
    revoked_by TEXT,
    last_used_at REAL
);
CREATE TABLE IF NOT EXISTS session (
    digest BLOB PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_key (id),
    csrf_digest BLOB NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS session_by_key ON session (key_id);
CREATE TABLE IF NOT EXISTS share (
    principal TEXT NOT NULL,
    pattern TEXT NOT NULL,
    created_at REAL NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (principal, pattern)
)
"""

T = TypeVar("T")


class KeyRow(NamedTuple):
    id: str
    name: str
    role: str
    salt: bytes
    digest: bytes
    created_at: float
    created_by: str
    expires_at: float | None
    revoked_at: float | None
    revoked_by: str | None
    last_used_at: float | None


class SessionRow(NamedTuple):
    digest: bytes
    key_id: str
    csrf_digest: bytes
    created_at: float
    last_seen: float
    expires_at: float


class ShareRow(NamedTuple):
    principal: str
    pattern: str
    created_at: float
    created_by: str


_KEY_COLUMNS = ", ".join(KeyRow._fields)
_SESSION_COLUMNS = ", ".join(SessionRow._fields)


class AccessStore:
    """The access file. Nothing is opened until first used; reading a file that does not exist
    creates nothing (there are no keys yet)."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # the API calls from worker threads; one connection, in turns

    def exists(self) -> bool:
        return self.path.is_file()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- connection ------------------------------------------------------------------
    def _connection(self, *, create: bool) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        if not self.exists():
            if not create:
                return None
            create_owner_only(self.path, what="access file")
        try:
            db = connect(self.path, busy_timeout=self.busy_timeout)
            create_schema(db, SCHEMA)
        except sqlite3.OperationalError as exc:
            raise self._busy_or_broken(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a TraceGraph access file: {exc}") from exc
        self._db = db
        return db

    def _busy_or_broken(self, exc: sqlite3.Error) -> StoreError:
        return busy_or_broken(exc, self.path, what="access file", busy_timeout=self.busy_timeout)

    @contextmanager
    def _using(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        with self._lock:
            try:
                yield self._connection(create=create)
            except sqlite3.OperationalError as exc:
                raise self._busy_or_broken(exc) from exc

    def _read(self, fn: Callable[[sqlite3.Connection], T], default: T) -> T:
        with self._using(create=False) as db:
            return default if db is None else fn(db)

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with self._using(create=True) as db:
            assert db is not None
            return db.execute(sql, params).rowcount

    # -- keys ------------------------------------------------------------------------
    def insert_key(self, row: KeyRow) -> None:
        placeholders = ", ".join("?" for _ in KeyRow._fields)
        self._write(f"INSERT INTO api_key ({_KEY_COLUMNS}) VALUES ({placeholders})", tuple(row))

    def key(self, key_id: str) -> KeyRow | None:
        def read(db: sqlite3.Connection) -> KeyRow | None:
            found = db.execute(f"SELECT {_KEY_COLUMNS} FROM api_key WHERE id = ?", (key_id,)).fetchone()
            return KeyRow(*found) if found else None

        return self._read(read, None)

    def all_keys(self) -> list[KeyRow]:
        def read(db: sqlite3.Connection) -> list[KeyRow]:
            return [KeyRow(*r) for r in db.execute(f"SELECT {_KEY_COLUMNS} FROM api_key ORDER BY created_at, id")]

        return self._read(read, [])

    def revoke_key(self, key_id: str, *, at: float, by: str) -> bool:
        """Revoke a key and end its sessions, in one transaction; False when it was not active."""
        with self._using(create=True) as db:
            assert db is not None
            db.execute("BEGIN IMMEDIATE")
            try:
                changed = db.execute(
                    "UPDATE api_key SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
                    (at, by, key_id),
                ).rowcount
                db.execute("DELETE FROM session WHERE key_id = ?", (key_id,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite has rolled back already after some errors (a full disk)
                    db.execute("ROLLBACK")
                raise
            return changed == 1

    def touch_key(self, key_id: str, at: float) -> None:
        self._write("UPDATE api_key SET last_used_at = ? WHERE id = ?", (at, key_id))

    # -- sessions --------------------------------------------------------------------
    def insert_session(self, row: SessionRow, *, purge_before: float) -> None:
        with self._using(create=True) as db:
            assert db is not None
            db.execute("DELETE FROM session WHERE expires_at < ?", (purge_before,))
            placeholders = ", ".join("?" for _ in SessionRow._fields)
            db.execute(f"INSERT INTO session ({_SESSION_COLUMNS}) VALUES ({placeholders})", tuple(row))

    def session(self, digest: bytes) -> SessionRow | None:
        def read(db: sqlite3.Connection) -> SessionRow | None:
            found = db.execute(f"SELECT {_SESSION_COLUMNS} FROM session WHERE digest = ?", (digest,)).fetchone()
            return SessionRow(*found) if found else None

        return self._read(read, None)

    def touch_session(self, digest: bytes, at: float) -> None:
        self._write("UPDATE session SET last_seen = ? WHERE digest = ?", (at, digest))

    def delete_session(self, digest: bytes) -> bool:
        return self._write("DELETE FROM session WHERE digest = ?", (digest,)) == 1

    # -- shares ----------------------------------------------------------------------
    def add_share(self, row: ShareRow) -> bool:
        return (
            self._write(
                "INSERT OR IGNORE INTO share (principal, pattern, created_at, created_by) VALUES (?, ?, ?, ?)",
                tuple(row),
            )
            == 1
        )

    def remove_share(self, principal: str, pattern: str) -> bool:
        return self._write("DELETE FROM share WHERE principal = ? AND pattern = ?", (principal, pattern)) == 1

    def shares(self, principal: str | None = None) -> list[ShareRow]:
        def read(db: sqlite3.Connection) -> list[ShareRow]:
            if principal is None:
                rows = db.execute("SELECT * FROM share ORDER BY principal, pattern")
            else:
                rows = db.execute("SELECT * FROM share WHERE principal = ? ORDER BY pattern", (principal,))
            return [ShareRow(*r) for r in rows]

        return self._read(read, [])
