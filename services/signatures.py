"""Electronic signatures (21 CFR Part 11 §11.50, §11.70): a named person approves a record.

Three kinds of record are signed: an **alert closure** (a closed alert), a **release decision**
(the closed task that released held stock) and a **recall report** (its JSON document). A
signature records the signer's printed name and principal, the UTC date and time, the meaning
(review, approval, responsibility) and the signer's reason, and is bound to the SHA-256 of the
signed record's canonical content (:func:`record_digest`): it verifies only against that record
as it was signed, so it can neither be moved to another record nor survive a change to it.

Signing needs re-authentication: the signer re-enters their API key (the credential every
TraceGraph identity holds; dashboard sessions are opened with one), whatever session they are
already in. When a signed-in caller signs, the key must be theirs. The signer's role must allow
the kind of record (:data:`SIGNING_PERMISSION`): quality engineers sign alert closures and release
decisions, recall managers sign recall reports.

Signatures are stored in the audit trail itself, as ``signature`` entries: append-only and
hash-chained, so a signature cannot be altered or removed without ``audit verify`` naming the
entry. Listing or checking signatures reads them back from there.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schema.access import Permission
from schema.alerts import Alert, AlertState, Task, TaskState
from schema.audit import AuditAction
from schema.errors import ConflictError, ForbiddenError, InvalidInputError, UnauthenticatedError
from schema.model import iso
from services.access import AccessControl, Principal
from services.app import Services


class Meaning(StrEnum):
    """What the signer means by signing (§11.50(a)(3))."""

    REVIEW = "review"
    APPROVAL = "approval"
    RESPONSIBILITY = "responsibility"


class SignedKind(StrEnum):
    ALERT_CLOSURE = "alert-closure"
    RELEASE = "release"
    RECALL_REPORT = "recall-report"


#: The permission a signer's role must hold to sign each kind of record.
SIGNING_PERMISSION: dict[SignedKind, Permission] = {
    SignedKind.ALERT_CLOSURE: Permission.ALERTS,
    SignedKind.RELEASE: Permission.ALERTS,
    SignedKind.RECALL_REPORT: Permission.REPORTS_WRITE,
}

SUBJECT_PREFIX = "signature:"


def canonical(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes a record digest is computed over."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def record_digest(content: Any) -> str:
    """SHA-256 of a record's canonical JSON content.

    >>> record_digest({"b": 1, "a": [1, 2]}) == record_digest({"a": [1, 2], "b": 1})
    True
    """
    return hashlib.sha256(canonical(content)).hexdigest()


def parse_meaning(value: str) -> Meaning:
    try:
        return Meaning(value.strip().lower())
    except ValueError:
        raise InvalidInputError(
            f"'{value}' is not a signature meaning; meanings: {', '.join(m.value for m in Meaning)}"
        ) from None


# -- what is signed -----------------------------------------------------------------------


def alert_closure_content(alert: Alert) -> dict[str, Any]:
    """The content of a closed alert that its closure signature covers: everything but webhook
    deliveries (which may be retried after closing without changing the decision)."""
    if alert.state is not AlertState.CLOSED:
        raise ConflictError(f"{alert.key} is {alert.state.value}: only a closed alert's closure can be signed")
    return _alert_content(alert)


def release_content(task: Task, alert: Alert) -> dict[str, Any]:
    """A release decision: the closed task (disposition, root cause, history) and its alert, whose
    history records the stock it held and released."""
    if task.state is not TaskState.CLOSED:
        raise ConflictError(f"{task.key} is {task.state.value}: a release decision is signed once the task is closed")
    return {"task": task.model_dump(mode="json"), "alert": _alert_content(alert)}


def _alert_content(alert: Alert) -> dict[str, Any]:
    return alert.model_dump(mode="json", exclude={"deliveries"})


# -- signatures ---------------------------------------------------------------------------


class Signature(BaseModel):
    """One signature, as stored in the audit trail and printed on what it signs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(..., pattern=r"^sig-[0-9a-f]{16}$")
    kind: SignedKind
    record: str = Field(..., min_length=1, description="What was signed: an alert, task or report key")
    record_sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the record's canonical content")
    meaning: Meaning
    printed_name: str
    signer: str = Field(..., description="The signer's principal: key:<id>")
    signed_at: datetime
    reason: str
    audit_seq: int | None = Field(None, description="The audit-trail entry that holds it")

    def manifestation(self) -> str:
        """How the signature reads on a document (§11.50): name, date and time, meaning."""
        return (
            f"Signed by {self.printed_name} ({self.signer}) on {iso(self.signed_at)} UTC; meaning: "
            f"{self.meaning.value}; record SHA-256 {self.record_sha256}"
        )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class SignatureCheck(BaseModel):
    """Whether a signature still verifies against a record, and if not, why."""

    signature: Signature
    valid: bool
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"signature": self.signature.to_json(), "valid": self.valid, "problem": self.problem}


def subject_of(kind: SignedKind, record: str) -> str:
    return f"{SUBJECT_PREFIX}{kind.value}:{record}"


class Signatures:
    """Sign records and read signatures back; built over the services (their audit trail) and the
    access file (to re-authenticate the signer)."""

    def __init__(self, services: Services, access: AccessControl) -> None:
        self.services = services
        self.access = access

    def reauthenticate(self, api_key: str, *, signed_in: Principal | None = None) -> Principal:
        """The signer behind a re-entered key; UnauthenticatedError when it is not a valid key, or
        not the key of the signed-in caller."""
        if not api_key or not api_key.strip():
            raise UnauthenticatedError("signing needs the signer's API key, re-entered")
        principal = self.access.authenticate_key(api_key.strip())
        if signed_in is not None and signed_in.id.startswith("key:") and principal.id != signed_in.id:
            raise UnauthenticatedError("the re-entered key is not the signed-in user's: sign with your own key")
        return principal

    def sign(
        self,
        kind: SignedKind,
        record: str,
        content: Any,
        *,
        meaning: Meaning | str,
        api_key: str,
        reason: str,
        signed_in: Principal | None = None,
    ) -> Signature:
        """Sign ``record`` (whose canonical content is ``content``) and append the signature to the
        audit trail as the re-authenticated signer."""
        meaning = meaning if isinstance(meaning, Meaning) else parse_meaning(meaning)
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInputError("a signature needs a reason (what the signer attests)")
        signer = self.reauthenticate(api_key, signed_in=signed_in)
        needed = SIGNING_PERMISSION[kind]
        if not signer.can(needed):
            roles = ", ".join(sorted(r.value for r in signer.roles))
            raise ForbiddenError(f"{signer.name} ({roles}) may not sign a {kind.value}: it needs {needed.value}")
        signature = Signature(
            id=f"sig-{secrets.token_hex(8)}",
            kind=kind,
            record=record,
            record_sha256=record_digest(content),
            meaning=meaning,
            printed_name=signer.name,
            signer=signer.id,
            signed_at=datetime.now(UTC),
            reason=reason,
        )
        acting = self.services.as_actor(signer.actor or signer.id)
        entry = acting.record(
            AuditAction.SIGNATURE,
            subject_of(kind, record),
            new=signature.to_json(),
            reason=reason,
            details={"meaning": meaning.value, "reauthenticated": "api key"},
        )
        return signature.model_copy(update={"audit_seq": entry.seq})

    def sign_alert_closure(self, alert_key: str, **kwargs: Any) -> Signature:
        alert = self.services.alert(alert_key)
        return self.sign(SignedKind.ALERT_CLOSURE, alert.key, alert_closure_content(alert), **kwargs)

    def sign_release(self, task_key: str, **kwargs: Any) -> Signature:
        task = self.services.task(task_key)
        content = release_content(task, self.services.alert(task.alert))
        return self.sign(SignedKind.RELEASE, task.key, content, **kwargs)

    # -- reading back ----------------------------------------------------------------
    def all(self, *, kind: SignedKind | None = None, record: str | None = None) -> list[Signature]:
        """Every signature in the audit trail, oldest first (of ``kind``, on ``record``)."""
        return [
            s for s in self._stored() if (kind is None or s.kind is kind) and (record is None or s.record == record)
        ]

    def _stored(self) -> Iterator[Signature]:
        for row in self.services.audit_trail().rows():
            try:
                body = orjson.loads(row.text)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(body, dict) or body.get("action") != AuditAction.SIGNATURE.value:
                continue
            new = body.get("new")
            if not isinstance(new, dict):
                continue
            try:
                yield Signature.model_validate({**new, "audit_seq": row.seq})
            except ValidationError:
                continue

    def check(
        self, signature: Signature | Mapping[str, Any], kind: SignedKind, record: str, content: Any
    ) -> SignatureCheck:
        """Does ``signature`` sign this record as it is now? It must be in the audit trail as
        given, name this record, and carry this content's SHA-256."""
        sig = signature if isinstance(signature, Signature) else Signature.model_validate(signature)
        stored = {s.id: s for s in self.all()}
        held = stored.get(sig.id)
        digest = record_digest(content)
        problem = None
        if held is None:
            problem = f"{sig.id}: not in the audit trail (never made here, or its entry was removed)"
        elif held.model_dump(exclude={"audit_seq"}) != sig.model_dump(exclude={"audit_seq"}):
            problem = f"{sig.id}: differs from the signature the audit trail holds"
        elif sig.kind is not kind or sig.record != record:
            problem = f"{sig.id}: signs {sig.kind.value} {sig.record}, not {kind.value} {record}"
        elif sig.record_sha256 != digest:
            problem = f"{sig.id}: the record changed after it was signed (SHA-256 {digest}, signed {sig.record_sha256})"
        return SignatureCheck(signature=held or sig, valid=problem is None, problem=problem)

    def verify(self, kind: SignedKind, record: str, content: Any) -> list[SignatureCheck]:
        """Every signature the audit trail holds on ``record``, checked against its content now."""
        return [self.check(s, kind, record, content) for s in self.all(kind=kind, record=record)]

    def verify_alert_closure(self, alert_key: str) -> list[SignatureCheck]:
        alert = self.services.alert(alert_key)
        return self.verify(SignedKind.ALERT_CLOSURE, alert.key, _alert_content(alert))

    def verify_release(self, task_key: str) -> list[SignatureCheck]:
        task = self.services.task(task_key)
        content = {"task": task.model_dump(mode="json"), "alert": _alert_content(self.services.alert(task.alert))}
        return self.verify(SignedKind.RELEASE, task.key, content)
