"""Where the audit trail lives: its own SQLite file, append-only, one entry per row.

The trail is kept apart from the graph store (SQLite or Neo4j), so an auditor can copy it and
verify it with nothing else, and so the graph store's backups and copies never rewrite it.
WAL mode lets readers verify while a writer appends; ``BEGIN IMMEDIATE`` serialises appends
across processes (the CLI loading while the API serves), so the chain never forks.

Triggers refuse UPDATE and DELETE on entries, and any change to the head row other than one
step forward. They stop accidents and casual edits, not someone who can rewrite the file:
that is what the hash chain (verified by :mod:`services.audit`) is for.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from schema.audit import GENESIS_HASH, AuditEntry
from schema.errors import StoreError
from services.sqlite_files import busy_or_broken, connect, create_owner_only, create_schema

FORMAT_VERSION = "1"

#: The guards verification expects to find; their absence is itself a finding.
TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete", "audit_head_forward_only", "audit_head_no_delete")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO audit_meta (name, value) VALUES ('format', '{FORMAT_VERSION}');
CREATE TABLE IF NOT EXISTS audit_entry (
    seq INTEGER PRIMARY KEY,
    entry TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NEW.seq <> OLD.seq + 1 OR NEW.hash IS NOT (SELECT hash FROM audit_entry WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the audit trail head only moves to the entry just appended'); END;
CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
"""


class StoredEntry(NamedTuple):
    """A row as it is in the file: the position, the stored JSON text and the stored hash."""

    seq: int
    text: str
    hash: str


class Head(NamedTuple):
    seq: int
    hash: str


class AuditLog:
    """The audit file. Nothing is opened until the first read or append, and reading a file that
    does not exist creates nothing (``exists`` says whether there is one)."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._db: sqlite3.Connection | None = None
        # The API calls services from worker threads; appends on one connection take turns.
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.is_file()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _connection(self, *, create: bool) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        if not self.exists():
            if not create:
                return None
            create_owner_only(self.path, what="audit trail")
        try:
            db = connect(self.path, busy_timeout=self.busy_timeout)
            if create:
                create_schema(db, SCHEMA)
            elif db.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_entry'").fetchone() is None:
                db.close()
                raise StoreError(f"{self.path} is not a TraceGraph audit trail (it has no audit entries table)")
        except sqlite3.OperationalError as exc:
            raise self._busy_or_broken(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a TraceGraph audit trail: {exc}") from exc
        self._db = db
        return db

    def _busy_or_broken(self, exc: sqlite3.Error) -> StoreError:
        return busy_or_broken(exc, self.path, what="audit trail", busy_timeout=self.busy_timeout)

    # -- writing ---------------------------------------------------------------------
    def append(self, build: Callable[[int, str], AuditEntry]) -> AuditEntry:
        """Append the entry ``build(seq, prev_hash)`` makes, in one ``BEGIN IMMEDIATE`` transaction."""
        with self._lock:
            db = self._connection(create=True)
            assert db is not None
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._busy_or_broken(exc) from exc
            try:
                last = db.execute("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS_HASH)
                entry = build(seq, prev)
                if entry.seq != seq or entry.prev_hash != prev:
                    raise ValueError("an audit entry must carry the position and previous hash it was given")
                digest = entry.digest()
                db.execute(
                    "INSERT INTO audit_entry (seq, entry, hash) VALUES (?, ?, ?)",
                    (seq, entry.canonical().decode(), digest),
                )
                if seq == 1:
                    db.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)", (seq, digest))
                else:
                    db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, digest))
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:  # SQLite has rolled back already after some errors (a full disk)
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise self._busy_or_broken(exc) from exc
                raise
            return entry

    # -- reading ---------------------------------------------------------------------
    def rows(self, *, start: int = 1, end: int | None = None) -> Iterator[StoredEntry]:
        """Rows in position order, as stored (nothing is checked here)."""
        db = self._connection(create=False)
        if db is None:
            return
        upper = end if end is not None else 2**62
        for seq, text, digest in db.execute(
            "SELECT seq, entry, hash FROM audit_entry WHERE seq BETWEEN ? AND ? ORDER BY seq", (start, upper)
        ):
            yield StoredEntry(int(seq), str(text), str(digest))

    def row(self, seq: int) -> StoredEntry | None:
        return next(self.rows(start=seq, end=seq), None)

    def head(self) -> Head | None:
        db = self._connection(create=False)
        if db is None:
            return None
        row = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        return Head(int(row[0]), str(row[1])) if row else None

    def missing_guards(self) -> list[str]:
        """Names of the append-only triggers that are no longer in the file."""
        db = self._connection(create=False)
        if db is None:
            return []
        present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return [name for name in TRIGGERS if name not in present]
