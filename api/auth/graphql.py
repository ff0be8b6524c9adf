"""Permissions on GraphQL root fields, checked once per operation before anything runs.

Every answer GraphQL gives is reached through a root field, so checking the root fields an
operation selects (through fragments too) guards the whole graph without wrapping every field
resolver. A root field missing from the policy table is refused. One forbidden field refuses
the whole operation: nothing is half-answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from api.auth.guard import guard_of, principal_of
from api.auth.policy import Gate, graphql_requirement
from schema.access import Permission
from schema.audit import AuditAction
from schema.errors import ForbiddenError
from services.access import ANONYMOUS


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def root_fields(document: DocumentNode, operation_name: str | None) -> list[str]:
    """The root field names an operation selects, through inline fragments and fragment spreads
    (``@skip``/``@include`` ignored: a field that might run is checked)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: list[str] = []
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    walk(fragment.selection_set)

    walk(operation.selection_set)
    return list(dict.fromkeys(names))


def _refusals(operation: str, fields: Iterable[str], permissions: frozenset[Permission]) -> list[str]:
    refused = []
    for field in fields:
        requirement = graphql_requirement(operation, field)
        if requirement is None:
            refused.append(f"{field} (no access policy yet)")
        elif requirement is Gate.CLOSED or (isinstance(requirement, Permission) and requirement not in permissions):
            refused.append(f"{field} (needs {requirement.value})")
    return refused


class FieldPermissions(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        request = getattr(context.context, "request", None)
        document = context.graphql_document
        if document is not None:
            # Outside an HTTP request there is nobody to allow anything: fail closed.
            principal = principal_of(request) if request is not None else ANONYMOUS
            operation = context.operation_type.value
            refused = _refusals(operation, root_fields(document, context.operation_name), principal.permissions)
            if refused:
                roles = ", ".join(sorted(r.value for r in principal.roles)) or "no role"
                message = f"{operation} {', '.join(refused)}: not allowed for {roles}"
                if request is not None:
                    await guard_of(request.app).record(
                        request, AuditAction.ACCESS_DENIED, principal, subject=f"graphql {operation}", reason=message
                    )
                context.result = GraphQLExecutionResult(
                    data=None, errors=[GraphQLError(message, original_error=ForbiddenError(message))]
                )
        yield
