"""``tracegraph keys create|list|revoke|share|unshare``: API keys in the access file.

A key is printed once, when it is created, and stored only as a salted digest: a lost key is
revoked and replaced, never recovered. Every change is recorded in the audit trail (``key.changed``)
with the acting ``--actor`` (default: the OS account) and a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape
from rich.table import Table

from cli.context import console, domain_errors, err_console, print_json, state
from schema.access import ROLE_DESCRIPTIONS, Role, parse_role
from schema.errors import InvalidInputError
from services.access import AccessControl, parse_expiry
from services.audit import AuditTrail, default_actor
from services.settings import Settings

app = typer.Typer(
    help="API keys: create (printed once), list, revoke; share reports and audit entries with auditors.",
    no_args_is_help=True,
)

ROLES_HELP = "; ".join(f"{r.value}: {ROLE_DESCRIPTIONS[r]}" for r in Role)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="keys")


@contextmanager
def access_for(ctx: typer.Context) -> Iterator[tuple[AccessControl, str]]:
    st = state(ctx)
    with domain_errors():
        try:
            settings = Settings(store=st.store_url, busy_timeout=st.busy_timeout)
        except ValueError as exc:
            raise InvalidInputError(f"settings: {exc}") from exc
        trail = AuditTrail.for_settings(settings)
        access = AccessControl.for_settings(settings, audit=trail)
        try:
            yield access, st.actor or default_actor()
        finally:
            access.close()
            trail.close()


@app.command("create")
def create(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help=ROLES_HELP),
    name: str = typer.Option(..., "--name", help="Who or what uses it: 'ERP connector', 'J. Doe (QA)'"),
    expires: str | None = typer.Option(None, "--expires", help="90d, 12h, 30m, or a date (2025-06-30); default never"),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit trail"),
    as_json: bool = typer.Option(False, "--json", help="Print the key and its record as JSON"),
) -> None:
    """Create a key and print it, once: store it in your secret manager now."""
    with access_for(ctx) as (access, actor), domain_errors():
        issued = access.create_key(
            name=name,
            role=parse_role(role),
            actor=actor,
            expires_at=parse_expiry(expires) if expires else None,
            reason=reason,
        )
    if as_json:
        print_json({**issued.key.to_json(), "key": issued.secret})
        return
    # The key alone on stdout, so `KEY=$(tracegraph keys create …)` captures exactly it.
    print(issued.secret)
    err_console.print(
        f"created {escape(issued.key.role)} key {issued.key.id} ('{escape(issued.key.name)}'); it is shown only "
        f"this once. Send it as 'Authorization: Bearer <key>'.",
        highlight=False,
        soft_wrap=True,
    )


@app.command("list")
def list_keys(
    ctx: typer.Context,
    active: bool = typer.Option(False, "--active", help="Only keys that work now"),
    as_json: bool = typer.Option(False, "--json", help="Print the keys as one JSON array"),
) -> None:
    """Every key: id, name, role, state, dates. Secrets are never shown (they are not stored)."""
    with access_for(ctx) as (access, _actor), domain_errors():
        keys = access.keys(include_inactive=not active)
        shares: dict[str, list[str]] = {}
        for row in access.all_shares():
            shares.setdefault(row.principal, []).append(row.pattern)
    if as_json:
        print_json([{**k.to_json(), "shares": shares.get(k.principal, [])} for k in keys])
        return
    if not keys:
        err_console.print(f"no keys in {escape(str(access.path))} yet: tracegraph keys create --role … --name …")
        return
    table = Table()
    for column in ("id", "name", "role", "state", "created", "by", "expires", "last used", "shared"):
        table.add_column(column, overflow="fold")
    for k in keys:
        j = k.to_json()
        table.add_row(
            k.id,
            k.name,
            k.role,
            j["state"],
            j["created_at"] or "",
            k.created_by,
            j["expires_at"] or "never",
            j["last_used_at"] or "",
            ", ".join(shares.get(k.principal, [])),
        )
    console.print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: str = typer.Argument(..., help="The key's id (tracegraph keys list)"),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit trail"),
) -> None:
    """Revoke a key at once, in every API process, and end its dashboard sessions."""
    with access_for(ctx) as (access, actor), domain_errors():
        key = access.revoke(key_id, actor=actor, reason=reason)
    console.print(f"revoked key {key.id} ('{escape(key.name)}')", highlight=False, soft_wrap=True)


@app.command("share")
def share(
    ctx: typer.Context,
    principal: str = typer.Argument(..., help="A key id, or oidc:<subject> for a token user"),
    subjects: list[str] = typer.Argument(..., help="Subjects to share: report:trace:lot:X, or a prefix: 'report:*'"),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit trail"),
) -> None:
    """Let an auditor read these subjects (audit entries about them; reports and packages)."""
    with access_for(ctx) as (access, actor), domain_errors():
        added = access.share(principal, subjects, actor=actor, reason=reason)
    console.print(
        f"shared {', '.join(added) or 'nothing new'} with {escape(principal)}", highlight=False, soft_wrap=True
    )


@app.command("unshare")
def unshare(
    ctx: typer.Context,
    principal: str = typer.Argument(..., help="A key id, or oidc:<subject>"),
    subjects: list[str] = typer.Argument(..., help="Subjects (or patterns) to stop sharing"),
    reason: str | None = typer.Option(None, "--reason", help="Why, for the audit trail"),
) -> None:
    """Stop sharing subjects with an auditor."""
    with access_for(ctx) as (access, actor), domain_errors():
        removed = access.unshare(principal, subjects, actor=actor, reason=reason)
    console.print(
        f"stopped sharing {', '.join(removed) or 'nothing'} with {escape(principal)}", highlight=False, soft_wrap=True
    )
