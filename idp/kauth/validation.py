"""Pure input rules of the device API: identifier shapes, printable text, answers, number options."""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from idp.kauth.errors import MalformedRequestError

DEVICE_ID = re.compile(r"^kd_[A-Za-z0-9_-]{16,40}$")
CHALLENGE_ID = re.compile(r"^kc_[A-Za-z0-9_-]{16,40}$")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
HANDLE = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
PLATFORM = re.compile(r"^[A-Za-z0-9 ._()-]{1,40}$")


def clean_text(value: Any, *, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise MalformedRequestError(f"{field} must be a string")
    text = unicodedata.normalize("NFC", value).strip()
    if not text or len(text) > max_length or any(unicodedata.category(c).startswith("C") for c in text):
        raise MalformedRequestError(f"{field} must be 1 to {max_length} printable characters")
    return text


def number_options(number: int) -> list[int]:
    """Three distinct two-digit numbers, the right one among them, in random order."""
    rng = secrets.SystemRandom()
    options = {number}
    while len(options) < 3:
        options.add(10 + secrets.randbelow(90))
    shuffled = sorted(options)
    rng.shuffle(shuffled)
    return shuffled


def parse_answer(payload: Any) -> tuple[str, int | None, str | None, str]:
    if not isinstance(payload, dict):
        raise MalformedRequestError("the body must be a JSON object")
    decision = payload.get("decision")
    signature = payload.get("signature")
    if decision not in ("approve", "deny"):
        raise MalformedRequestError("decision must be approve or deny")
    if not isinstance(signature, str) or not 1 <= len(signature) <= 200:
        raise MalformedRequestError("signature is missing or malformed")
    number = payload.get("number")
    reason = payload.get("reason")
    if decision == "approve":
        if isinstance(number, bool) or not isinstance(number, int) or not 10 <= number <= 99:
            raise MalformedRequestError("number must be the two-digit number chosen")
        if reason is not None:
            raise MalformedRequestError("reason goes with deny only")
        return decision, number, None, signature
    if number is not None:
        raise MalformedRequestError("number goes with approve only")
    if reason not in (None, "cancelled", "not_me"):
        raise MalformedRequestError("reason must be cancelled or not_me")
    return decision, None, reason or "cancelled", signature
