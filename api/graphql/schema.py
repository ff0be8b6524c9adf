"""The GraphQL schema with its limits. ``python -m api.graphql.schema`` prints it (that print
is the committed ``schema.graphql``; a test keeps the two equal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from api.auth.graphql import FieldPermissions
from api.errors import GraphQLErrorMapping, is_expected
from api.graphql.mutations import Mutation
from api.graphql.queries import Query
from api.settings import ApiSettings

#: Distinct documents whose parse and validation are remembered.
CACHED_DOCUMENTS = 256


class TraceGraphSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Strawberry logs every error; a NotFound or a rejected load is an answer, not an incident.
        super().process_errors([e for e in errors if not is_expected(e)], execution_context)


def build_schema(settings: ApiSettings | None = None) -> strawberry.Schema:
    settings = settings or ApiSettings()
    # Limiters are built once and their rules shared by every request: a fresh limiter would
    # mint fresh rule classes, and the validation cache, keyed by the rules, would never hit.
    rules = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
    ]
    if not settings.development:  # the schema is public in schema.graphql; a live server need not recite it
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories, not instances: every request gets its own extension objects.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
        GraphQLErrorMapping,
        FieldPermissions,  # every root field's permission (api.auth.policy), before anything runs
    ]
    extension_list: list[Any] = extensions
    return TraceGraphSchema(query=Query, mutation=Mutation, extensions=extension_list)


def printed() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return str(build_schema()) + "\n"


if __name__ == "__main__":
    print(printed(), end="")
