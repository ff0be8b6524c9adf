"""Who may do what: roles, the permissions each grants, and least privilege between them.

A role is what a key (or a token's claim) is issued for; a permission names a group of
operations. Transports decide which permission each of their operations needs (the API's policy
table, ``api.auth.policy``); this module decides which roles hold which permissions.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from schema.errors import InvalidInputError


class Role(StrEnum):
    ADMIN = "admin"
    QUALITY_ENGINEER = "quality_engineer"
    RECALL_MANAGER = "recall_manager"
    AUDITOR = "auditor"
    INTEGRATION = "integration"
    MONITORING = "monitoring"


class Permission(StrEnum):
    """A group of operations. Values are what the documentation and the audit trail print."""

    GRAPH_READ = "graph:read"  # traces, nodes, search, genealogy, stats, EPCIS event queries
    INGEST = "ingest"  # load documents (REST upload, GraphQL mutation)
    EPCIS_CAPTURE = "epcis:capture"  # EPCIS capture and its capture jobs
    ALERTS = "alerts"  # alerts and tasks: read, move, assign
    RECALL = "recall"  # recall scope
    REPORTS_READ = "reports:read"  # reports and evidence packages (auditors: only those shared with them)
    REPORTS_WRITE = "reports:write"  # generate reports and evidence packages, sign them
    AUDIT_READ = "audit:read"  # the audit trail (auditors: only entries shared with them)
    METRICS = "metrics"  # Prometheus metrics
    ACCESS_ADMIN = "access:admin"  # keys, sessions and shares


#: The one table of least privilege. ``admin`` holds everything; nobody else holds access:admin.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.QUALITY_ENGINEER: frozenset({Permission.GRAPH_READ, Permission.ALERTS}),
    Role.RECALL_MANAGER: frozenset(
        {Permission.GRAPH_READ, Permission.RECALL, Permission.REPORTS_READ, Permission.REPORTS_WRITE}
    ),
    Role.AUDITOR: frozenset({Permission.REPORTS_READ, Permission.AUDIT_READ}),
    Role.INTEGRATION: frozenset({Permission.INGEST, Permission.EPCIS_CAPTURE}),
    Role.MONITORING: frozenset({Permission.METRICS}),
}

#: Roles whose reads are limited to what was shared with them (``tracegraph keys share``).
SCOPED_ROLES = frozenset({Role.AUDITOR})

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.ADMIN: "everything, including keys and shares",
    Role.QUALITY_ENGINEER: "investigate (traces, genealogy, nodes, search), alerts and tasks",
    Role.RECALL_MANAGER: "impact queries, recall scope, reports and their signatures",
    Role.AUDITOR: "read-only: reports, evidence packages and the audit trail, as shared with them",
    Role.INTEGRATION: "machine-to-machine: ingest and EPCIS capture only",
    Role.MONITORING: "Prometheus metrics only",
}


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise InvalidInputError(f"'{value}' is not a role; roles: {', '.join(r.value for r in Role)}") from None


def permissions_of(roles: Iterable[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def share_matches(pattern: str, subject: str) -> bool:
    """A share pattern names one subject (``report:trace:lot:RESIN-7``) or, ending in ``*``, every
    subject starting with what comes before it (``report:*``; ``*`` alone: everything)."""
    if pattern.endswith("*"):
        return subject.startswith(pattern[:-1])
    return subject == pattern
