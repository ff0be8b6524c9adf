"""The HTTP service: GraphQL and REST on FastAPI, thin over :class:`services.app.Services`."""
