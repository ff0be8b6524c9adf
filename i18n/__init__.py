"""Languages: gettext message catalogues, the current language, and ``Accept-Language`` negotiation.

English is the source language: every message is written in English in the code, marked with
:func:`gettext` (``_``) or :func:`ngettext`, and looked up in the catalogue of the current
language. Catalogues are gettext ``.po`` files shipped as package data
(``i18n/locale/{language}/LC_MESSAGES/tracegraph.po``) and read with Babel when first needed, so
an installed package or a checkout works without a compile step.

The current language is context-local (:class:`contextvars.ContextVar`): the CLI sets it once
from ``--lang`` or ``TRACEGRAPH_LANG``; the API sets it per request from ``Accept-Language``.

>>> with use_language("zh"):
...     _("not found")
'未找到'
>>> _("not found")
'not found'
>>> negotiate("fr-CH, zh-CN;q=0.8, en;q=0.5")
'zh_Hans'
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources

from babel.core import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from schema.errors import InvalidInputError

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "N_",
    "UnsupportedLanguageError",
    "current_language",
    "gettext",
    "negotiate",
    "ngettext",
    "normalize",
    "set_language",
    "use_language",
]

#: The gettext domain of TraceGraph's catalogues.
DOMAIN = "tracegraph"
DEFAULT_LANGUAGE = "en"
#: Languages with a catalogue, as Babel locale identifiers; English is the source language.
LANGUAGES: tuple[str, ...] = ("en", "zh_Hans")
#: Names a user may give for each language (case-insensitive; ``-`` and ``_`` alike).
_ALIASES = {
    "en": "en",
    "english": "en",
    "zh": "zh_Hans",
    "zh_hans": "zh_Hans",
    "zh_cn": "zh_Hans",
    "zh_sg": "zh_Hans",
    "zh_hans_cn": "zh_Hans",
    "chinese": "zh_Hans",
    "中文": "zh_Hans",
}

_current: ContextVar[str] = ContextVar("tracegraph_language", default=DEFAULT_LANGUAGE)


class UnsupportedLanguageError(InvalidInputError):
    """A language TraceGraph has no catalogue for."""

    code = "unsupported_language"


def normalize(language: str) -> str:
    """The catalogue language for a user's name of it: ``zh``, ``zh-CN``, ``zh_Hans`` → ``zh_Hans``.

    >>> normalize("zh-CN"), normalize("EN")
    ('zh_Hans', 'en')
    """
    text = language.strip()
    found = _ALIASES.get(text.replace("-", "_").lower())
    if found is None:
        try:
            locale = Locale.parse(text.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            locale = None
        if locale is not None and locale.language == "en":
            found = "en"
        elif locale is not None and locale.language == "zh" and locale.script in (None, "Hans"):
            found = "zh_Hans" if locale.territory in (None, "CN", "SG") or locale.script == "Hans" else None
    if found is None:
        raise UnsupportedLanguageError(
            f"language '{language}' is not supported; choose one of en, zh (Simplified Chinese, zh-CN, zh_Hans)"
        )
    return found


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The best catalogue language for an HTTP ``Accept-Language`` header (RFC 9110 §12.5.4).

    Ranges are tried by weight (``q``), then in order; ``*`` takes the default; a range
    without a catalogue (``zh-TW``, ``fr``) is skipped; nothing acceptable gives ``default``.

    >>> negotiate("zh-TW, zh;q=0.9"), negotiate("de-CH, *;q=0.1"), negotiate(None)
    ('zh_Hans', 'en', 'en')
    """
    if not accept_language:
        return default
    ranges: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and weight > 0:
            ranges.append((-weight, i, tag.strip()))
    for _weight, _i, tag in sorted(ranges):
        if tag == "*":
            return default
        try:
            return normalize(tag)
        except UnsupportedLanguageError:
            continue
    return default


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The catalogue of ``language`` (a :data:`LANGUAGES` entry); English needs none."""
    if language == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    path = resources.files("i18n").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> str:
    """Make ``language`` (any name :func:`normalize` accepts) current in this context; returns it."""
    chosen = normalize(language)
    _current.set(chosen)
    return chosen


@contextmanager
def use_language(language: str) -> Iterator[str]:
    """``language`` is current inside the block."""
    token = _current.set(normalize(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current language (itself when it has no translation)."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (it is translated where shown)."""
    return message


_ = gettext
