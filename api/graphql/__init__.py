"""GraphQL at ``/graphql``: strawberry types thin over services, batched by DataLoaders."""
