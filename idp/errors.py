"""One hierarchy of errors; views translate each into a page message, an OAuth error or JSON."""

from __future__ import annotations


class IdpError(Exception):
    """Base of every error the service raises on purpose."""

    status = 400
    code = "invalid_request"


class SettingsError(IdpError):
    """The configuration is invalid; the message says which setting and why."""


class ValidationError(IdpError):
    """Input that breaks a rule; the message is safe to show to the person."""

    def __init__(self, message: str, field: str | None = None, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.template = message
        self.field = field
        self.params = params


class NotFoundError(IdpError):
    status = 404
    code = "not_found"


class ConflictError(IdpError):
    status = 409
    code = "conflict"


class AuthenticationError(IdpError):
    """Credentials were refused. Deliberately says nothing about which part was wrong."""

    status = 401
    code = "invalid_credentials"


class PasswordLockedError(AuthenticationError):
    """The account is locked after failed attempts: its password is refused until an unlock.
    Only said to the signed-in owner (re-authentication); a sign-in gets AuthenticationError."""

    code = "password_locked"


class FlowError(IdpError):
    """The sign-in flow is unknown, expired or not at the step the request assumes."""

    code = "flow_expired"


class RateLimitedError(IdpError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts; retry after {retry_after} s")
        self.retry_after = retry_after


class UpstreamError(IdpError):
    """An outside service (a registrar ...) did not answer, or not as agreed: nothing was done
    on our side. The message names the service and what went wrong, never a secret."""

    status = 502
    code = "upstream_error"


class StoreUnavailableError(IdpError):
    """Redis or the database does not answer; sign-in fails closed."""

    status = 503
    code = "temporarily_unavailable"


def N_(message: str) -> str:
    """Marks a message for translation where it is written; the page translates it when shown."""
    return message
