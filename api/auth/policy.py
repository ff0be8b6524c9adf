"""The policy table: what every HTTP operation and every GraphQL root field needs.

One entry per operation, in one place. An operation missing here is refused to everyone (and
logged), and ``tests/e2e/test_api_access.py`` lists the app's routes and the schema's root fields
and fails on any without an entry. ``python -m api.auth.policy`` prints the roles × operations
tables of ``docs/reference/security.md`` (a test keeps the two equal).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

from schema.access import ROLE_DESCRIPTIONS, ROLE_PERMISSIONS, Permission, Role


class Gate(StrEnum):
    """Requirements that are not a permission."""

    PUBLIC = "public"  # no sign-in (probes, the dashboard's page and files, sign-in itself)
    SIGNED_IN = "signed in"  # any role; what happens next is decided per field (GraphQL) or per key
    CLOSED = "closed"  # nobody (GraphQL over WebSocket: there are no subscriptions)


Requirement: TypeAlias = Permission | Gate

#: ``METHOD /path/template`` as the route declares it.
REST: dict[str, Requirement] = {
    # operations
    "GET /healthz": Gate.PUBLIC,
    "GET /readyz": Gate.PUBLIC,
    "GET /metrics": Permission.METRICS,
    # sign-in (api.auth.routes)
    "POST /auth/login": Gate.PUBLIC,
    "POST /auth/logout": Gate.SIGNED_IN,
    "GET /auth/session": Gate.SIGNED_IN,
    # REST
    "GET /api/v1/stats": Permission.GRAPH_READ,
    "GET /api/v1/trace/{direction}": Permission.GRAPH_READ,
    "GET /api/v1/trace/{direction}/export": Permission.GRAPH_READ,
    "GET /api/v1/nodes/{key:path}": Permission.GRAPH_READ,
    "POST /api/v1/ingest": Permission.INGEST,
    "GET /api/v1/audit": Permission.AUDIT_READ,
    "GET /api/v1/audit/verify": Permission.AUDIT_READ,
    # early warning (api.rest.early_warning)
    "GET /api/v1/recall": Permission.RECALL,
    "GET /api/v1/sources": Permission.GRAPH_READ,
    "GET /api/v1/signals": Permission.ALERTS,
    "GET /api/v1/suppliers/scorecard": Permission.ALERTS,
    "GET /api/v1/alerts": Permission.ALERTS,
    "POST /api/v1/alerts/run": Permission.ALERTS,
    "GET /api/v1/alerts/{key:path}": Permission.ALERTS,
    "GET /api/v1/tasks": Permission.ALERTS,
    "POST /api/v1/tasks/{key:path}/move": Permission.ALERTS,
    "GET /api/v1/tasks/{key:path}": Permission.ALERTS,
    # regulator-ready output (api.rest.reports)
    "POST /api/v1/reports/trace": Permission.GRAPH_READ,
    "POST /api/v1/reports/recall": Permission.REPORTS_WRITE,
    "POST /api/v1/signatures/alerts/{key:path}": Permission.ALERTS,
    "POST /api/v1/signatures/releases/{key:path}": Permission.ALERTS,
    "POST /api/v1/signatures/reports": Permission.REPORTS_WRITE,
    "POST /api/v1/signatures/reports/verify": Permission.REPORTS_READ,
    "GET /api/v1/signatures": Permission.REPORTS_READ,
    "GET /api/v1/kpis": Permission.GRAPH_READ,
    # China NMPA duties (api.rest.nmpa)
    "GET /api/v1/nmpa/clocks": Permission.RECALL,
    "GET /api/v1/nmpa/recall/{kind}": Permission.RECALL,
    "GET /api/v1/nmpa/retention": Permission.RECALL,
    # quality views (api.rest.quality)
    "GET /api/v1/spc/charts": Permission.ALERTS,
    "GET /api/v1/spc/chart": Permission.ALERTS,
    # EPCIS 2.0
    "POST /epcis/capture": Permission.EPCIS_CAPTURE,
    "GET /epcis/capture": Permission.EPCIS_CAPTURE,
    "GET /epcis/capture/{capture_id}": Permission.EPCIS_CAPTURE,
    "GET /epcis/events": Permission.GRAPH_READ,
    "GET /epcis/epcs/{epc:path}/events": Permission.GRAPH_READ,
    "GET /epcis/epcs/{epc:path}/trace": Permission.GRAPH_READ,
    # GraphQL: signed in to reach it; each root field below needs its own permission
    "GET /graphql": Gate.SIGNED_IN,
    "POST /graphql": Gate.SIGNED_IN,
    "WEBSOCKET /graphql": Gate.CLOSED,
    # the dashboard
    "GET /": Gate.PUBLIC,
    # Not FastAPI routes, so no dependency guards them: each must be public (a test checks).
    "GET /openapi.json": Gate.PUBLIC,
    "GET /docs": Gate.PUBLIC,  # development mode only
    "GET /docs/oauth2-redirect": Gate.PUBLIC,  # development mode only
    "GET /redoc": Gate.PUBLIC,  # development mode only
    "MOUNT /web": Gate.PUBLIC,  # the dashboard's static files
}

#: ``query field`` / ``mutation field``, as the schema names them (camelCase).
GRAPHQL: dict[str, Requirement] = {
    "query node": Permission.GRAPH_READ,
    "query nodes": Permission.GRAPH_READ,
    "query search": Permission.GRAPH_READ,
    "query trace": Permission.GRAPH_READ,
    "query traceCount": Permission.GRAPH_READ,
    "query genealogy": Permission.GRAPH_READ,
    "query recallScope": Permission.RECALL,
    "query likelySources": Permission.GRAPH_READ,
    "mutation ingest": Permission.INGEST,
    "mutation recallReport": Permission.REPORTS_WRITE,
    "mutation traceReport": Permission.GRAPH_READ,
}

#: Meta fields any signed-in caller may select (introspection itself is off in production).
GRAPHQL_META = frozenset({"__typename", "__schema", "__type"})


def rest_requirement(method: str, path: str) -> Requirement | None:
    return REST.get(f"{method} {path}")


def graphql_requirement(operation: str, field: str) -> Requirement | None:
    if field in GRAPHQL_META:
        return Gate.SIGNED_IN
    return GRAPHQL.get(f"{operation} {field}")


def allows(role: Role, requirement: Requirement) -> bool:
    if requirement is Gate.PUBLIC or requirement is Gate.SIGNED_IN:
        return True
    if requirement is Gate.CLOSED:
        return False
    return requirement in ROLE_PERMISSIONS[role]


# -- the tables of docs/reference/security.md ---------------------------------------------

BEGIN = "<!-- policy table: generated by `python -m api.auth.policy`; a test keeps it current -->"
END = "<!-- end of policy table -->"


def _cell(yes: bool) -> str:
    return "✓" if yes else "—"


def _needs(requirement: Requirement) -> str:
    return f"`{requirement.value}`" if isinstance(requirement, Permission) else requirement.value


def markdown() -> str:
    roles = list(Role)
    head = "| " + " | ".join(f"`{r.value}`" for r in roles) + " |"
    rule = "|" + "---|" * len(roles)
    lines = [BEGIN, "", "### Roles", "", "| role | may |", "|---|---|"]
    lines += [f"| `{r.value}` | {ROLE_DESCRIPTIONS[r]} |" for r in roles]
    lines += ["", "### Permissions by role", "", "| permission " + head, "|---" + rule]
    lines += [
        f"| `{p.value}` | " + " | ".join(_cell(p in ROLE_PERMISSIONS[r]) for r in roles) + " |" for p in Permission
    ]
    lines += ["", "### HTTP operations", "", "| operation | needs " + head, "|---|---" + rule]
    for operation, requirement in REST.items():
        cells = " | ".join(_cell(allows(r, requirement)) for r in roles)
        lines.append(f"| `{operation}` | {_needs(requirement)} | {cells} |")
    lines += ["", "### GraphQL root fields", "", "| field | needs " + head, "|---|---" + rule]
    for operation, requirement in GRAPHQL.items():
        cells = " | ".join(_cell(allows(r, requirement)) for r in roles)
        lines.append(f"| `{operation}` | {_needs(requirement)} | {cells} |")
    lines += ["", END]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
