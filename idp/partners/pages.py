"""What the partners pages share: the service, the error page, reading the access fields of a
form, and the words the templates use for rights, access and payment means."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import TypeVar

from flask import abort
from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from idp.capability import PartnerRight
from idp.errors import NotFoundError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.partners import PARTNERS
from idp.partners.access import parse_access
from idp.partners.forms import AccessFields
from idp.partners.model import RIGHT_HINTS
from idp.partners.model import RIGHT_NAMES
from idp.partners.model import Access
from idp.partners.rules import PartnerForbiddenError
from idp.partners.service import PartnerService
from idp.web.current import services
from idp.web.i18n import translate_error

Page = str | BaseResponse | tuple[str, int]
T = TypeVar("T")
EXPIRED_FORM = "The form has expired; please submit it again."


def service() -> PartnerService:
    found: PartnerService = services().get(PARTNERS)
    return found


def user() -> Any:
    return current_user.user


def error(status: int, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=_("Something is not right"),
                           message=message), status


def read(call: Callable[[], T]) -> T | tuple[str, int]:
    """The service's answer, or the page for its refusal: 404 (abort) for what the person may
    not know of, 403 with the reason for what their role does not allow."""
    try:
        return call()
    except NotFoundError:
        abort(404)
    except PartnerForbiddenError as exc:
        return error(403, translate_error(exc))


def access_of(form: AccessFields, *, payer: str | None = "client", days: str | int | None = None) -> Access:
    """The access the form asks for (ValidationError naming the field)."""
    if hasattr(form, "payer"):
        payer = form.payer.data
    if days is None and hasattr(form, "days"):
        days = form.days.data
    return parse_access(access=form.access.data, rights=form.rights.data or [], payer=payer, days=days,
                        auto_renew=bool(form.auto_renew.data))


def field_error(form: Any, exc: ValidationError | RateLimitedError, default: str) -> None:
    """Put the error on its field (the default one when it names none the form has)."""
    name = getattr(exc, "field", None)
    form[name if name in form else default].errors.append(translate_error(exc))


def context() -> dict[str, Any]:
    """Words for the templates (every page: the organisation page shows who has access): a
    right's name and hint, translated, and the list of rights in its order."""
    return {
        "partner_right_name": lambda r: _(RIGHT_NAMES[PartnerRight(r)]),
        "partner_right_hint": lambda r: _(RIGHT_HINTS[PartnerRight(r)]),
        "partner_rights": list(PartnerRight),
    }
