"""Typed errors in the current language.

A domain error (:mod:`schema.errors`) carries its message in English, composed where it is
raised. Its stable ``code`` gets a translated title, and its message is translated when it
has one of the forms below: each form is a catalogue entry whose ``{placeholders}`` match any
text, so ``no node with key wo:WO-404`` is shown as ``没有键为 wo:WO-404 的节点``. A message of
no known form is shown as it is, in English, which is never wrong, only untranslated.
"""

from __future__ import annotations

import re
from functools import cache

from i18n import N_, current_language, gettext
from schema.errors import TraceGraphError

#: Titles of the stable error codes (``urn:tracegraph:error:{code}``).
TITLES: dict[str, str] = {
    "error": N_("error"),
    "invalid_input": N_("invalid input"),
    "invalid_key": N_("invalid key"),
    "rejected_records": N_("rejected records"),
    "conflict": N_("conflict"),
    "not_found": N_("not found"),
    "store_error": N_("store error"),
    "store_busy": N_("store busy"),
    "store_unavailable": N_("store unavailable"),
    "migration_required": N_("migration required"),
    "limit_exceeded": N_("limit exceeded"),
    "unsupported_format": N_("unsupported format"),
    "unauthenticated": N_("unauthenticated"),
    "forbidden": N_("forbidden"),
    "rate_limited": N_("rate limited"),
    "insecure_configuration": N_("insecure configuration"),
    "illegal_transition": N_("illegal transition"),
    "missing_field": N_("missing field"),
    "unsupported_language": N_("unsupported language"),
    "unsupported_media_type": N_("unsupported media type"),
    "internal_error": N_("internal error"),
}

#: Message forms of the errors users meet most; ``{name}`` stands for any text.
FORMS: tuple[str, ...] = (
    N_("no node with key {key}"),
    N_("{role}: no node with key {keys}"),
    N_("no alert {key}"),
    N_("no task {key}"),
    N_("no signal {ids}"),
    N_("no backup at {path}"),
    N_("no store at {path} to back up"),
    N_("unknown key prefix {prefix} (expected one of {prefixes})"),
    N_("key {kind}: has an empty natural key"),
    N_("empty serial number for {base}"),
    N_("empty lot number for {base}"),
    N_("{what} {number} has check digit {digit}, expected {expected}"),
    N_("{what} {number} has {count} digits, expected {expected}"),
    N_("{what} {number} must contain only the digits 0-9"),
    N_("the store at {location} has no schema yet: run `tracegraph migrate`"),
    N_("the store did not answer within {seconds} s"),
    N_("internal error; it has been logged"),
    N_("say where the anomaly starts: --from KEY or --signal ID"),
    N_("name at least one start key (start=…) or signal id (signal=…)"),
    N_("recall class must be 1, 2 or 3, not {value}"),
    N_("unknown NMPA document {kind}; expected one of {kinds}"),
    N_("language '{language}' is not supported; choose one of en, zh (Simplified Chinese, zh-CN, zh_Hans)"),
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def _pattern(form: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(form)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$", re.DOTALL)


def translate_message(message: str) -> str:
    """``message`` in the current language when it has a known form, else as it is.

    >>> from i18n import use_language
    >>> with use_language("zh"):
    ...     translate_message("no node with key wo:WO-404")
    '没有键为 wo:WO-404 的节点'
    """
    if current_language() == "en":
        return message
    for form in FORMS:
        match = _pattern(form).match(message)
        if match is not None:
            return gettext(form).format(**match.groupdict())
    return gettext(message)


def title(code: str) -> str:
    """The title of an error code in the current language (``not_found`` → "not found")."""
    english = TITLES.get(code, code.replace("_", " "))
    return gettext(english)


def error_message(error: TraceGraphError) -> str:
    """What ``error`` says, in the current language."""
    return translate_message(str(error))
