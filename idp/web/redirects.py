"""Where a browser may be sent after sign-in: a path on this site, nothing else."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_NEXT = 2048


def safe_next(target: str | None) -> str | None:
    """The target when it is a relative path on this site, else None.

    Refuses absolute URLs, scheme-relative `//host`, backslash tricks (`/\\host`, which
    browsers read as `//host`), control characters and very long values.
    """
    if not target or len(target) > MAX_NEXT:
        return None
    if any(ord(c) < 0x20 or c == "\x7f" for c in target):
        return None
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
