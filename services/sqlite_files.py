"""Small SQLite helpers shared by the service's own files (audit trail, access file)."""

from __future__ import annotations

import sqlite3
import time


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
