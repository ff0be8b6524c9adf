"""The running software's name and version, as reports, packages and the audit trail state it."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

SOFTWARE = "tracegraph"


@lru_cache(maxsize=1)
def software_version() -> str:
    try:
        return version(SOFTWARE)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def software() -> str:
    """``tracegraph 0.1.0``."""
    return f"{SOFTWARE} {software_version()}"
