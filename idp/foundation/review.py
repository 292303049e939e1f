"""What the security review lists: each capability adds an item (factors, sessions, tokens...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from idp.model import User


@dataclass(frozen=True)
class ReviewItem:
    """One line of the security review: a label (marked with N_), the page that manages it, and a
    short status for this person ("2 security keys", "Off")."""

    label: str
    endpoint: str
    status: Callable[[User], str]
