"""Domain names and authorisation codes as a transfer takes them: checked, normalised, or refused
with a message that says what is wrong. Pure: no I/O."""

from __future__ import annotations

import re

import idna

from idp.errors import N_
from idp.errors import ValidationError

MAX_INPUT = 300
MAX_NAME = 253
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A TLD of the root zone: letters (2 to 63), or an internationalised one in its ACE form.
TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# Names that are never registered in a public registry (RFC 2606, RFC 6761, RFC 7686, RFC 8375...).
RESERVED_TLDS = frozenset({
    "test", "example", "invalid", "localhost", "local", "onion", "internal", "arpa", "lan", "home", "corp",
    "localdomain", "intranet", "private",
})
# An authorisation (EPP) code: printable ASCII without spaces, as registries issue them.
AUTH_CODE = re.compile(r"^[\x21-\x7e]{6,64}$")


def normalise_domain(raw: str) -> str:
    """The ASCII (IDNA 2008, UTS 46 mapping) lower-case form of a domain name a person typed, or
    ValidationError (field "domain") saying why it is not one that can be transferred: empty,
    a URL or an address, a single label, a label too long or with bad characters, a TLD that is
    not one of a public registry (numeric, one letter, reserved names), "www." in front."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(N_("Enter the domain name to transfer, such as example.ch."), field="domain")
    if len(text) > MAX_INPUT:
        raise ValidationError(N_("A domain name has at most 253 characters."), field="domain")
    if "://" in text or "/" in text or "@" in text or ":" in text or any(c.isspace() for c in text):
        raise ValidationError(
            N_("Enter the domain name only, such as example.ch: no http://, path, address or space."), field="domain"
        )
    if text.endswith("."):
        text = text[:-1]
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise ValidationError(
            N_("This is not a valid domain name: use letters, digits and hyphens between the dots."), field="domain"
        ) from exc
    labels = ascii_form.split(".")
    if len(ascii_form) > MAX_NAME:
        raise ValidationError(N_("A domain name has at most 253 characters."), field="domain")
    if len(labels) < 2 or not all(labels):
        raise ValidationError(N_("Give the whole name with its extension, such as example.ch."), field="domain")
    if not all(LABEL.match(label) for label in labels):
        raise ValidationError(
            N_("This is not a valid domain name: use letters, digits and hyphens between the dots."), field="domain"
        )
    tld = labels[-1]
    if not TLD.match(tld) or tld in RESERVED_TLDS:
        raise ValidationError(
            N_("The extension .%(tld)s is not one of a public registry: check the end of the name."),
            field="domain", tld=tld,
        )
    if labels[0] == "www" and len(labels) > 2:
        raise ValidationError(N_("Transfer the domain itself, without www. in front."), field="domain")
    return ascii_form


def display_name(ascii_form: str) -> str:
    """The Unicode form people read (bücher.ch for xn--bcher-kva.ch); the ASCII form if it has none."""
    try:
        return str(idna.decode(ascii_form))
    except (idna.IDNAError, UnicodeError, ValueError):
        return ascii_form


def check_auth_code(raw: str) -> str:
    """The authorisation code, without the spaces around it; ValidationError (field "auth_code")
    unless it has 6 to 64 printable ASCII characters and no space. Never logged or echoed."""
    code = (raw or "").strip()
    if not code:
        raise ValidationError(N_("Enter the authorisation code the current registrar gave you."), field="auth_code")
    if not AUTH_CODE.match(code):
        raise ValidationError(
            N_("An authorisation code has 6 to 64 letters, digits or punctuation marks, without spaces."),
            field="auth_code",
        )
    return code
