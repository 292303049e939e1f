"""A short, human description of a browser from its User-Agent header."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse


@lru_cache(maxsize=2048)
def describe(user_agent: str) -> str:
    """'Chrome 120 on Windows 10', or 'Unknown browser' for an empty or odd header."""
    if not user_agent:
        return "Unknown browser"
    result = parse(user_agent[:512])
    parts = []
    if result.user_agent and result.user_agent.family != "Other":
        ua = result.user_agent
        parts.append(f"{ua.family} {ua.major}" if ua.major else ua.family)
    else:
        parts.append("Unknown browser")
    if result.os and result.os.family != "Other":
        os_ = result.os
        parts.append(f"on {os_.family} {os_.major}" if os_.major else f"on {os_.family}")
    if result.device and result.device.family not in ("Other", "Spider"):
        parts.append(f"({result.device.family})")
    return " ".join(parts)
