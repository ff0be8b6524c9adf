"""The language of each request, from ``Accept-Language`` (RFC 9110 §12.5.4).

A pure ASGI middleware: it makes the negotiated language current (:mod:`i18n`) for the request's
handlers, error messages included, and says which it chose in ``Content-Language``; ``Vary:
Accept-Language`` tells caches the answer depends on it. Requests without the header get the
server's default (``TRACEGRAPH_LANG``, else English).
"""

from __future__ import annotations

import os

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from i18n import DEFAULT_LANGUAGE, UnsupportedLanguageError, negotiate, normalize, use_language

#: BCP 47 tags of the catalogue languages, for ``Content-Language``.
_TAGS = {"en": "en", "zh_Hans": "zh-Hans"}


def server_default(environ: dict[str, str] | None = None) -> str:
    """The language of requests that do not ask for one: ``TRACEGRAPH_LANG`` or English."""
    value = (environ if environ is not None else dict(os.environ)).get("TRACEGRAPH_LANG")
    if not value:
        return DEFAULT_LANGUAGE
    try:
        return normalize(value)
    except UnsupportedLanguageError:
        return DEFAULT_LANGUAGE


class LanguageMiddleware:
    def __init__(self, app: ASGIApp, default: str | None = None) -> None:
        self.app = app
        self.default = default or server_default()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        language = negotiate(Headers(scope=scope).get("accept-language"), self.default)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Language", _TAGS.get(language, language))
                headers.add_vary_header("Accept-Language")
            await send(message)

        with use_language(language):
            await self.app(scope, receive, send_with_language)
