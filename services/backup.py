"""Backup and restore of an embedded (SQLite) store, with its audit trail and access file.

``backup`` uses SQLite's online backup API: a consistent copy while the API serves and the CLI
loads. The copy is written beside its destination under a temporary name, owner-only, checked
(it opens as a TraceGraph store; the audit trail copy's hash chain verifies), switched from WAL
to a single self-contained file, and only then renamed into place: a full disk or a crash never
leaves a half-written backup under the name asked for.

``restore`` refuses to overwrite a store another process has open (the API, a load): it takes
SQLite's exclusive lock on the store, which any open connection prevents, and holds it while it
copies. It first checks the backup opens and migrates (on a temporary copy), and keeps the store
it replaces as ``<store>.before-restore.db``. It restores the store only: an audit trail is
never rolled back by a restore (that would delete entries), nor an access file (that would
revive revoked keys) — see docs/operator.md.

Neo4j is backed up with ``neo4j-admin database dump`` (``scripts/neo4j-backup.sh``) or, live and
logically, with ``tracegraph copy`` into a SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from graph.factory import SQLITE_SCHEMES, open_store, sqlite_path
from schema.errors import InvalidInputError, NotFoundError, StoreBusyError, StoreError
from schema.model import StoreStats
from services.access import access_path
from services.audit import AuditTrail, audit_path
from services.audit_store import AuditLog
from services.settings import Settings

AUDIT_SUFFIX = ".audit.db"
ACCESS_SUFFIX = ".access.db"
BEFORE_RESTORE_SUFFIX = ".before-restore.db"
#: Seconds restore waits for other connections to let go before it says the store is in use.
RESTORE_LOCK_TIMEOUT = 1.0


@dataclass
class BackupReport:
    store: Path
    files: dict[str, Path] = field(default_factory=dict)  # what (store, audit, access) → written file
    stats: StoreStats | None = None
    audit_entries: int | None = None


@dataclass
class RestoreReport:
    store: Path
    source: Path
    previous: Path | None
    stats: StoreStats


def store_file(settings: Settings) -> Path:
    url = settings.store
    scheme = url.split("://", 1)[0].lower() if "://" in url else "sqlite"
    if scheme not in SQLITE_SCHEMES:
        raise InvalidInputError(
            "backup and restore are for the embedded SQLite store; for Neo4j use scripts/neo4j-backup.sh "
            "(neo4j-admin database dump) or, while it runs, tracegraph copy --to sqlite:///backup.db"
        )
    return sqlite_path(url)


def _disk_error(target: Path, exc: BaseException) -> StoreError:
    text = str(exc)
    if "full" in text.lower() or getattr(exc, "errno", None) == 28:
        return StoreError(f"cannot write {target}: the disk is full; free space and try again (nothing was replaced)")
    return StoreError(f"cannot write {target}: {text}")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _private_file(path: Path) -> None:
    """Create ``path`` empty and owner-only (refusing to follow or reuse an existing file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _copy(source: Path, target: Path, *, busy_timeout: float) -> None:
    """A consistent copy of the SQLite file ``source`` into the new, owner-only file ``target``,
    as one self-contained file (no WAL beside it)."""
    _private_file(target)
    src = sqlite3.connect(source, timeout=busy_timeout)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise StoreError(f"the copy of {source} does not pass SQLite's integrity check: {check}")
        finally:
            dst.close()
    finally:
        src.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _install(tmp: Path, target: Path) -> None:
    _fsync(tmp)
    os.replace(tmp, target)
    with contextlib.suppress(OSError):  # the rename itself, durable where the platform allows
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _store_stats(path: Path, *, busy_timeout: float, migrate: bool = False) -> StoreStats:
    try:
        store = open_store(f"sqlite:///{path.resolve()}", busy_timeout=busy_timeout)
    except StoreError as exc:
        raise StoreError(f"{path} does not open as a TraceGraph store: {exc}") from exc
    try:
        if migrate:
            store.migrate()
        return store.stats()
    finally:
        store.close()


def backup(settings: Settings, target: Path, *, force: bool = False) -> BackupReport:
    """Copy the store to ``target`` and, when they exist, its audit trail and access file to
    ``<target>.audit.db`` and ``<target>.access.db`` (so the three keep their usual names)."""
    store = store_file(settings)
    if not store.is_file():
        raise NotFoundError(f"no store at {store} to back up")
    targets = {"store": target}
    audit, access = audit_path(settings), access_path(settings)
    if audit.is_file():
        targets["audit"] = target.with_name(target.name + AUDIT_SUFFIX)
    if access.is_file():
        targets["access"] = target.with_name(target.name + ACCESS_SUFFIX)
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not force:
        raise InvalidInputError(f"{', '.join(existing)} already exist(s); choose another name or use --force")
    if target.resolve() == store.resolve():
        raise InvalidInputError("the backup cannot be the store itself")
    sources = {"store": store, "audit": audit, "access": access}
    report = BackupReport(store=store)
    temps: list[Path] = []
    try:
        for what, final in targets.items():
            tmp = final.with_name(f".{final.name}.partial-{os.getpid()}")
            _remove(tmp)
            temps.append(tmp)
            _copy(sources[what], tmp, busy_timeout=settings.busy_timeout)
            if what == "store":
                report.stats = _store_stats(tmp, busy_timeout=settings.busy_timeout)
                _copy_mode_cleanup(tmp)
            elif what == "audit":
                trail = AuditTrail(AuditLog(tmp))
                try:
                    verification = trail.verify()
                finally:
                    trail.close()
                if not verification.ok:
                    raise StoreError(
                        f"the audit trail {audit} does not verify ({len(verification.problems)} problem(s)); "
                        "run tracegraph audit verify — the backup was not written"
                    )
                report.audit_entries = verification.entries
        for what, final in targets.items():
            tmp = final.with_name(f".{final.name}.partial-{os.getpid()}")
            _install(tmp, final)
            report.files[what] = final
    except sqlite3.Error as exc:
        raise _disk_error(target, exc) from exc
    except OSError as exc:
        raise _disk_error(target, exc) from exc
    finally:
        for tmp in temps:
            _remove(tmp)
    return report


def _copy_mode_cleanup(path: Path) -> None:
    """Opening the copy as a store put it back in WAL mode: make it one self-contained file again."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()


def restore(settings: Settings, source: Path, *, keep_previous: bool = True) -> RestoreReport:
    """Replace the store with the backup ``source``; refused while any process has the store open."""
    store = store_file(settings)
    if not source.is_file():
        raise NotFoundError(f"no backup at {source}")
    if store.exists() and source.resolve() == store.resolve():
        raise InvalidInputError("the backup to restore is the store itself")
    staged = store.with_name(f".{store.name}.restore-{os.getpid()}")
    _remove(staged)
    try:
        try:
            _copy(source, staged, busy_timeout=settings.busy_timeout)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{source} is not a TraceGraph backup (SQLite cannot read it: {exc})") from exc
        # It must open as a store of this software's schema (older backups are migrated here, on the copy).
        stats = _store_stats(staged, busy_timeout=settings.busy_timeout, migrate=True)
        previous = _replace_locked(staged, store, keep_previous=keep_previous)
    except sqlite3.Error as exc:
        raise _disk_error(store, exc) from exc
    except OSError as exc:
        raise _disk_error(store, exc) from exc
    finally:
        _remove(staged)
    return RestoreReport(store=store, source=source, previous=previous, stats=stats)


def _replace_locked(staged: Path, store: Path, *, keep_previous: bool) -> Path | None:
    if not store.exists():
        _private_file(store)
        _copy_into(staged, store)
        return None
    db = sqlite3.connect(store, timeout=RESTORE_LOCK_TIMEOUT, isolation_level=None)
    try:
        try:
            # Exclusive locking mode keeps the lock after the transaction, until close: no other
            # process can open the store until the copy is complete. Any open connection (an API
            # serving, a load running) holds a shared lock and makes this fail.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("BEGIN EXCLUSIVE")
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusyError(
                    f"another process has the store {store} open (the API? a load?): stop it, then restore; "
                    "nothing was changed"
                ) from exc
            raise
        previous = None
        if keep_previous:
            previous = store.with_name(store.name + BEFORE_RESTORE_SUFFIX)
            _remove(previous)
            _private_file(previous)
            keep = sqlite3.connect(previous)
            try:
                db.backup(keep)
                keep.execute("PRAGMA journal_mode=DELETE")
            finally:
                keep.close()
        src = sqlite3.connect(staged)
        try:
            src.backup(db)
        finally:
            src.close()
        return previous
    finally:
        db.close()


def _copy_into(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
