"""Why a single sign-on attempt failed: a reason code for the log and a sentence for the person."""

from __future__ import annotations

from idp.errors import N_
from idp.errors import IdpError

# Reason code -> what the person reads (marked for translation; the page translates it).
MESSAGES = {
    "cancelled": N_("You cancelled the sign-in at your organisation's directory."),
    "consent_denied": N_(
        "Your organisation's directory did not give its consent to this sign-in. Ask your administrator."
    ),
    "login_required": N_("Your organisation's directory asked you to sign in again. Please start again."),
    "tenant_disabled": N_(
        "Your organisation's directory refused this application (it may be disabled or not registered there)."
        " Ask your administrator."
    ),
    "upstream_error": N_(
        "Your organisation's directory answered with an error. Please try again later or ask your "
        "administrator."
    ),
    "unreachable": N_("Your organisation's directory cannot be reached right now. Please try again in a few minutes."),
    "misconfigured": N_(
        "The single sign-on connection of your organisation is not set up correctly. Ask your administrator."
    ),
    "state": N_("This sign-in link has already been used or has expired. Please start again."),
    "bad_signature": N_(
        "The answer of your organisation's directory could not be verified (bad signature). Nothing was "
        "signed in."
    ),
    "wrong_issuer": N_("The answer did not come from your organisation's directory. Nothing was signed in."),
    "wrong_audience": N_("The answer of the directory was meant for another application. Nothing was signed in."),
    "wrong_tenant": N_("You signed in with an account of another organisation's directory. Use your work account."),
    "expired": N_(
        "The answer of your organisation's directory has expired. Check that your device's clock is right and"
        " start again."
    ),
    "clock_skew": N_(
        "The answer of your organisation's directory is dated in the future: a clock is wrong. Please try "
        "again in a few minutes."
    ),
    "nonce": N_("The answer of the directory does not belong to this sign-in. Please start again."),
    "malformed": N_("The answer of your organisation's directory is incomplete. Nothing was signed in."),
    "userinfo_subject": N_(
        "Your organisation's directory described a different person from the one who signed in. Nothing "
        "was signed in. Ask your administrator."
    ),
    "userinfo_failed": N_(
        "Your organisation's directory did not give the e-mail address and name of your account. Nothing was "
        "signed in. Please try again later or ask your administrator."
    ),
    "disabled": N_("Single sign-on is turned off for your organisation."),
    "no_account": N_(
        "There is no account for you here yet, and your organisation does not create accounts on first sign-"
        "in. Ask your administrator."
    ),
    "jit_domain": N_(
        "Your directory gave an e-mail address outside your organisation's domains, so no account was "
        "created. Ask your administrator."
    ),
    "account_unavailable": N_("This account cannot sign in now (it is disabled or locked)."),
    "linked_elsewhere": N_("This directory account is already linked to another account here."),
    "wrong_person": N_("You are signed in as someone else than the person who started this. Please start again."),
}


class FederationError(IdpError):
    """A refused single sign-on step. `reason` goes to the activity log; the message to the page."""

    code = "access_denied"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(MESSAGES.get(reason, MESSAGES["upstream_error"]))
        self.reason = reason
        self.template = MESSAGES.get(reason, MESSAGES["upstream_error"])
        self.params: dict[str, object] = {}
        self.detail = detail[:300]
