"""Errors of the kAuth device API and pages; each carries the JSON `error` code and HTTP status."""

from __future__ import annotations

from typing import Any

from idp.errors import IdpError


class KauthError(IdpError):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
        if status:
            self.status = status


class MalformedRequestError(KauthError):
    """The request is not what the API describes (missing header, bad JSON, bad field)."""


class DeviceAuthError(KauthError):
    """The request is not proven to come from an enrolled device: unknown device, bad signature,
    stale timestamp or replayed nonce. `code` says which, for the device's log."""

    status = 401
    code = "invalid_signature"


class AccountUnavailableError(KauthError):
    """The device is genuine, but its account may not act (disabled or deleted: idp.standing)."""

    status = 403
    code = "account_unavailable"


class InvalidEnrolmentTokenError(KauthError):
    status = 401
    code = "invalid_token"


class DeviceRemovedError(KauthError):
    """The device was removed; `notice` is the server-signed notice the device shows."""

    status = 410
    code = "device_removed"

    def __init__(self, notice: dict[str, Any]) -> None:
        super().__init__("this device was removed from the account")
        self.notice = notice


class UnknownChallengeError(KauthError):
    status = 404
    code = "unknown_challenge"


class ChallengeExpiredError(KauthError):
    status = 410
    code = "challenge_expired"


class AlreadyAnsweredError(KauthError):
    status = 409
    code = "already_answered"


class TooManyDevicesError(KauthError):
    status = 409
    code = "too_many_devices"


class ApprovalBusyError(KauthError):
    """Another approval request of this account is still waiting (one at a time)."""

    status = 409
    code = "approval_pending"


class ApprovalCappedError(KauthError):
    """The account reached its hourly number of approval requests."""

    status = 429
    code = "too_many_requests"
