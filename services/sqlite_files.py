"""The service's own SQLite files (audit trail, access file): created owner-only, opened in
WAL mode with durable commits, shared by the threads of one process in turns."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from schema.errors import StoreBusyError, StoreError


def create_owner_only(path: Path, *, what: str) -> None:
    """Create the empty file ``path`` readable by its owner only, from the first byte (SQLite
    gives its -wal and -shm files the same mode); ``what`` names it in the error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise StoreError(f"cannot create the {what} {path}: {exc.strerror or exc}") from exc


def connect(path: Path, *, busy_timeout: float) -> sqlite3.Connection:
    """A connection in autocommit mode, WAL, ``synchronous=FULL`` (an acknowledged write
    survives a power cut), waiting up to ``busy_timeout`` seconds for other writers.
    Raises ``sqlite3.Error``: the caller names the file."""
    db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    enable_wal(db, timeout=busy_timeout)
    db.execute("PRAGMA synchronous=FULL")
    return db


def create_schema(db: sqlite3.Connection, schema: str) -> None:
    """Run the idempotent ``schema`` script holding the write lock from the start: a deferred
    read-then-write on a stale WAL snapshot fails at once instead of waiting for the other writer."""
    db.executescript(f"BEGIN IMMEDIATE;\n{schema};\nCOMMIT;")


def busy_or_broken(exc: sqlite3.Error, path: Path, *, what: str, busy_timeout: float) -> StoreError:
    """The typed error for ``exc`` raised on the ``what`` at ``path``."""
    if "locked" in str(exc) or "busy" in str(exc):
        return StoreBusyError(f"another process is writing to the {what} {path}; try again (waited {busy_timeout:g} s)")
    return StoreError(f"the {what} {path} cannot be used: {exc}")


def enable_wal(db: sqlite3.Connection, *, timeout: float) -> None:
    """Put ``db`` in WAL mode, waiting up to ``timeout`` seconds for other connections.

    Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
    locked" at once (without its busy handler) while another connection is creating the same
    file. Once the file is in WAL mode the pragma needs no lock, so only first use can wait.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)
