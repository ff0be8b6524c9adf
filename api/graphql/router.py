"""Mount the schema on FastAPI, with GraphiQL, and a fresh context per request."""

from __future__ import annotations

import strawberry
from strawberry.fastapi import GraphQLRouter

from api.deps import RuntimeDep
from api.graphql.context import Context


async def _context(rt: RuntimeDep) -> Context:
    return Context(rt)


def graphql_router(schema: strawberry.Schema, *, ide: bool = True) -> GraphQLRouter[Context, None]:
    # Not in the OpenAPI document: GraphQL describes itself (introspection, schema.graphql).
    # No WebSocket protocols: there are no subscriptions, and queries must not skip the HTTP guard.
    return GraphQLRouter(
        schema,
        path="/graphql",
        graphql_ide="graphiql" if ide else None,
        context_getter=_context,
        include_in_schema=False,
        subscription_protocols=(),
    )
