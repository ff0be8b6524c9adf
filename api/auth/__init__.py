"""Access control for the HTTP API: who is calling (keys, sessions, tokens), what each operation
needs (``policy``), enforcement on every REST route (``guard``) and GraphQL root field
(``graphql``), sign-in (``routes``), rate limits, security headers and start-up checks."""
