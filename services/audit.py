"""The audit trail (21 CFR Part 11 §11.10(e)): record every change, verify the chain, export it.

Every change — a load (with its batch, sources and counts), a retraction, an alert or task
transition, a signature, a generated report or evidence package, a configuration, user or key
change — is appended with who (``actor``), what (``action``, ``subject``), when (UTC), the
values before and after, and a reason where one is required. Entries are hash-chained (see
:mod:`schema.audit`) and kept in their own SQLite file (:mod:`services.audit_store`).

The actor is whatever the transport established: the CLI passes ``--actor`` or the OS account
(``os:NAME``); the API will pass its authenticated user or key (``Services.as_actor``). It is a
statement of who acted, not an electronic signature.
"""

from __future__ import annotations

import getpass
import hashlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson
from pydantic import ValidationError

from graph.factory import SQLITE_SCHEMES, sqlite_path
from schema.access import share_matches
from schema.audit import GENESIS_HASH, REASON_REQUIRED, AuditAction, AuditEntry
from schema.errors import InvalidInputError, NotFoundError, StoreError, TraceGraphError
from schema.model import iso
from services import csvsafe
from services.audit_store import AuditLog, Head, StoredEntry
from services.ingest import LoadReport
from services.settings import Settings
from services.version import software

#: Beside a SQLite store ``x.db`` the trail is ``x.db.audit.db``; for a server store it is here.
SERVER_STORE_AUDIT = Path("tracegraph-audit.db")
AUDIT_SUFFIX = ".audit.db"

#: Verification lists this many problems and counts the rest.
MAX_PROBLEMS = 50


def default_actor() -> str:
    """The OS account running this process, as ``os:NAME``: who acted when nobody said."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "os:unknown"


def audit_path(settings: Settings) -> Path:
    """``TRACEGRAPH_AUDIT`` when set; else beside a SQLite store; else ``./tracegraph-audit.db``."""
    if settings.audit:
        return Path(settings.audit)
    url = settings.store
    scheme = url.split("://", 1)[0].lower() if "://" in url else "sqlite"
    if scheme in SQLITE_SCHEMES:
        store = sqlite_path(url)
        return store.with_name(store.name + AUDIT_SUFFIX)
    return SERVER_STORE_AUDIT


class AuditProblem(NamedTuple):
    """One finding: the entry it concerns (None for the file as a whole) and what is wrong."""

    seq: int | None
    message: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass
class AuditVerification:
    path: Path
    exists: bool
    entries: int = 0
    head: Head | None = None
    problems: list[AuditProblem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "exists": self.exists,
            "intact": self.ok,
            "entries": self.entries,
            "head": {"seq": self.head.seq, "hash": self.head.hash} if self.head else None,
            "problems": [{"entry": p.seq, "message": p.message} for p in self.problems],
            "more_problems": self.more_problems,
        }


class _Checked(NamedTuple):
    position: int  # where the row is stored
    actual: str  # SHA-256 of the stored text
    stored: str  # the hash stored beside it
    claimed_seq: int | None  # the position the entry itself states (None: unreadable)
    prev_hash: str | None
    error: str | None


def _check_row(row: StoredEntry) -> _Checked:
    actual = hashlib.sha256(row.text.encode()).hexdigest()
    try:
        entry = AuditEntry.model_validate(orjson.loads(row.text))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        reason = str(exc).splitlines()[0]
        return _Checked(row.seq, actual, row.hash, None, None, f"unreadable: {reason}")
    return _Checked(row.seq, actual, row.hash, entry.seq, entry.prev_hash, None)


def verify_rows(
    rows: Iterable[StoredEntry], head: Head | None, *, missing_guards: Sequence[str] = (), path: Path = Path()
) -> AuditVerification:
    """Check a trail as stored: every entry's hash, the chain of ``prev_hash``, that positions run
    1, 2, 3 … without gaps and match what each entry states, and that the last entry is the head.
    Each problem names the entry it concerns. Rows are read once; only their hashes are kept."""
    checked = [_check_row(r) for r in rows]
    result = AuditVerification(path=path, exists=True, entries=len(checked), head=head)
    problems: list[AuditProblem] = []
    position_of_hash = {c.actual: c.position for c in checked}
    flagged: set[int] = set()

    def problem(seq: int | None, message: str) -> None:
        problems.append(AuditProblem(seq, message))
        if seq is not None:
            flagged.add(seq)

    expected = 1
    previous: _Checked | None = None
    for c in checked:
        gap = c.position != expected
        if gap:
            also = "" if c.position == expected + 1 else f", and every entry up to {c.position - 1}"
            last = f"entry {expected - 1}" if expected > 1 else "the start"
            problem(expected, f"missing{also} (deleted): the trail jumps from {last} to entry {c.position}")
        if c.error is not None:
            problem(c.position, c.error)
        elif c.actual != c.stored:
            problem(c.position, "modified: its content no longer matches the SHA-256 recorded with it")
        elif c.claimed_seq != c.position:
            problem(
                c.position,
                f"out of place: this is entry {c.claimed_seq} of the chain, stored as entry {c.position} "
                "(entries were reordered, or renumbered after a removal)",
            )
        prev_actual = previous.actual if previous is not None else GENESIS_HASH
        if c.prev_hash is not None and c.prev_hash != prev_actual and not gap:
            follows = position_of_hash.get(c.prev_hash)
            prev_seq = previous.position if previous is not None else 0
            if c.position in flagged or prev_seq in flagged:
                pass  # already explained by the finding above
            elif follows is not None:
                problem(
                    c.position,
                    f"out of order: it follows entry {follows} in the chain, but is stored after entry {prev_seq}",
                )
            elif previous is None:
                problem(c.position, "the first entry does not start the chain (entries before it were removed)")
            else:
                problem(
                    prev_seq,
                    f"modified: entry {c.position} records another SHA-256 for it "
                    f"({c.prev_hash[:16]}…, now {prev_actual[:16]}…)",
                )
        previous = c
        expected = c.position + 1

    last_seq = checked[-1].position if checked else 0
    if head is None:
        if checked:
            problem(None, "the head record is missing: removal of entries at the end cannot be ruled out")
    elif head.seq > last_seq:
        first = last_seq + 1
        also = "" if first == head.seq else f", and every entry up to {head.seq}"
        problem(first, f"missing{also} (deleted from the end): the head records {head.seq} entries")
    elif head.seq < last_seq:
        problem(head.seq + 1, f"entries after {head.seq} were added outside the trail: the head ends at {head.seq}")
    elif checked and head.hash != checked[-1].actual and last_seq not in flagged:
        problem(last_seq, "modified: the head records another SHA-256 for the last entry")
    if missing_guards:
        problem(None, f"the append-only guards were removed from the file (missing: {', '.join(missing_guards)})")

    result.problems = problems[:MAX_PROBLEMS]
    result.more_problems = max(0, len(problems) - MAX_PROBLEMS)
    return result


@dataclass(frozen=True)
class AuditFilter:
    """Which entries a reader asks for: every criterion given must hold.

    ``subject`` names one subject or, ending in ``*``, every subject starting with what comes
    before it (``lot:*``), as key shares do; ``actor`` matches any part of the actor, ignoring
    case (``recall desk`` finds ``key:3f9a… (recall desk)``); ``since`` and ``until`` bound the
    time the entry was recorded (``since`` inclusive, ``until`` exclusive), naive times being UTC.

    >>> f = AuditFilter(subject="lot:*", since=datetime(2024, 3, 1, tzinfo=UTC))
    >>> f.matches({"subject": "lot:RESIN-7", "at": "2024-03-01T09:12:44.120Z"})
    True
    >>> f.matches({"subject": "report:trace", "at": "2024-03-01T09:12:44.120Z"})
    False
    """

    action: str | None = None
    actor: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=UTC))
        if self.since and self.until and self.since >= self.until:
            raise InvalidInputError("the audit filter's since must be before its until")

    @property
    def empty(self) -> bool:
        return not (self.action or self.actor or self.subject or self.since or self.until)

    def matches(self, body: Mapping[str, Any]) -> bool:
        """Does one stored entry (its JSON body) pass every criterion given?"""
        if self.action is not None and body.get("action") != self.action:
            return False
        if self.actor is not None and self.actor.casefold() not in str(body.get("actor", "")).casefold():
            return False
        if self.subject is not None and not share_matches(self.subject, str(body.get("subject", ""))):
            return False
        if self.since is None and self.until is None:
            return True
        try:
            at = datetime.fromisoformat(str(body.get("at", "")))
        except ValueError:
            return False  # an entry without a readable time is outside every window
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)


class AuditTrail:
    """Record, read, verify and export the trail kept in one file."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    @classmethod
    def for_settings(cls, settings: Settings, *, path: Path | None = None) -> AuditTrail:
        return cls(AuditLog(path or audit_path(settings), busy_timeout=settings.busy_timeout))

    @property
    def path(self) -> Path:
        return self.log.path

    def close(self) -> None:
        self.log.close()

    # -- writing ---------------------------------------------------------------------
    def record(
        self,
        action: AuditAction | str,
        *,
        actor: str,
        subject: str,
        old: Any = None,
        new: Any = None,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry; refused without a reason for the actions that need one."""
        if not actor.strip():
            raise InvalidInputError("an audit entry needs an actor: who made the change")
        if action in REASON_REQUIRED and not (reason and reason.strip()):
            raise InvalidInputError(f"a {action} must say why: give a reason")
        # Values go through JSON now, so what is hashed is what is read back.
        old_json, new_json = _json_value(old), _json_value(new)
        details_json = _json_value(dict(details or {}))
        return self.log.append(
            lambda seq, prev: AuditEntry(
                seq=seq,
                at=datetime.now(UTC),
                actor=actor,
                action=str(action),
                subject=subject,
                old=old_json,
                new=new_json,
                reason=reason,
                details=details_json,
                prev_hash=prev,
            )
        )

    # -- reading ---------------------------------------------------------------------
    def entry(self, seq: int) -> AuditEntry:
        row = self.log.row(seq)
        if row is None:
            raise NotFoundError(f"the audit trail {self.path} has no entry {seq}")
        try:
            return AuditEntry.model_validate(orjson.loads(row.text))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise StoreError(f"entry {seq} of the audit trail {self.path} is unreadable: {exc}") from exc

    def rows(self, *, start: int = 1, end: int | None = None) -> Iterator[StoredEntry]:
        return self.log.rows(start=start, end=end)

    def find(self, where: AuditFilter, *, last: int | None = None) -> list[AuditEntry]:
        """The entries passing ``where``, oldest first; with ``last``, only the latest so many."""
        found: deque[AuditEntry] = deque(maxlen=last)
        for row in self.rows():
            try:
                body = orjson.loads(row.text)
                if isinstance(body, dict) and where.matches(body):
                    found.append(AuditEntry.model_validate(body))
            except (orjson.JSONDecodeError, ValidationError) as exc:
                raise StoreError(f"entry {row.seq} of the audit trail {self.path} is unreadable: {exc}") from exc
        return list(found)

    def head(self) -> Head | None:
        return self.log.head()

    def verify(self) -> AuditVerification:
        if not self.log.exists():
            return AuditVerification(path=self.path, exists=False)
        head = self.log.head()
        return verify_rows(self.log.rows(), head, missing_guards=self.log.missing_guards(), path=self.path)

    # -- exporting -------------------------------------------------------------------
    def export_json(self, target: IO[bytes], *, start: int = 1, end: int | None = None) -> AuditVerification:
        """One JSON document: the verification result, then every entry as stored with its hash."""
        verification = self.verify()
        entries = [_exported(row) for row in self.rows(start=start, end=end)]
        document = {
            "audit_trail": str(self.path),
            "exported_at": iso(datetime.now(UTC)),
            "exported_by": software(),
            "verification": verification.to_json(),
            "entries": entries,
        }
        target.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        return verification

    def export_csv(self, target: IO[str], *, start: int = 1, end: int | None = None) -> AuditVerification:
        """One row per entry; ``old``, ``new`` and ``details`` as JSON text."""
        verification = self.verify()
        writer = csvsafe.writer(target)
        writer.writerow(CSV_COLUMNS)
        for row in self.rows(start=start, end=end):
            e = _exported(row)
            writer.writerow(
                [
                    e["seq"],
                    e.get("at", ""),
                    e.get("actor", ""),
                    e.get("action", ""),
                    e.get("subject", ""),
                    e.get("reason") or "",
                    _text(e.get("old")),
                    _text(e.get("new")),
                    _text(e.get("details")),
                    e.get("prev_hash", ""),
                    e["hash"],
                ]
            )
        return verification


CSV_COLUMNS = ["seq", "at", "actor", "action", "subject", "reason", "old", "new", "details", "prev_hash", "hash"]


def _exported(row: StoredEntry) -> dict[str, Any]:
    try:
        body = orjson.loads(row.text)
    except orjson.JSONDecodeError:
        body = {"unreadable": row.text}
    if not isinstance(body, dict):
        body = {"unreadable": row.text}
    return {**body, "seq": row.seq, "hash": row.hash}


def _text(value: Any) -> str:
    return "" if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _json_value(value: Any) -> Any:
    try:
        return orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))
    except TypeError as exc:
        raise InvalidInputError(f"audit values must be JSON values: {exc}") from exc


# -- what a load records -------------------------------------------------------------


def record_load(
    trail: AuditTrail,
    report: LoadReport,
    *,
    actor: str,
    sources: Sequence[str],
    options: Mapping[str, Any] | None = None,
) -> list[AuditEntry]:
    """The entries of one successful load: the load itself, and a retraction when it withdrew
    records (an EPCIS error declaration)."""
    result = report.result
    if result is None:
        return []
    batch = f"batch:{result.batch_id}"
    loaded = {
        "batch_id": result.batch_id,
        "sources": list(sources),
        "content_hash": report.content_hash,
        "recorded_at": iso(result.recorded_at),
        "already_loaded": result.already_loaded,
        "records": report.records,
        "nodes": report.nodes,
        "edges": report.edges,
        "rejected": len(report.rejects),
        "nodes_added": result.nodes_added,
        "nodes_changed": result.nodes_changed,
        "edges_added": result.edges_added,
        "edges_changed": result.edges_changed,
        "retracted": result.retracted,
    }
    try:
        entries = [
            trail.record(
                AuditAction.LOAD,
                actor=actor,
                subject=batch,
                new=loaded,
                details={**(options or {}), "software": software()},
            )
        ]
    except TraceGraphError as exc:
        # The batch is committed in the store, a separate file: say so, and how to record it.
        raise StoreError(
            f"batch {result.batch_id} was loaded, but the audit trail {trail.path} could not record it ({exc}); "
            "run the same load again: it changes nothing in the store and records the load"
        ) from exc
    if report.retracted_records and not result.already_loaded:
        entries.append(
            trail.record(
                AuditAction.RETRACTION,
                actor=actor,
                subject=batch,
                old={"records": report.retracted_records, "state": "asserted"},
                new={"records": report.retracted_records, "state": "retracted", "edges_retracted": result.retracted},
                reason=f"declared erroneous by a record loaded from {', '.join(sources)}",
            )
        )
    return entries
