"""Account pages: the home page of a signed-in person, and the account's language."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import force_locale
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.account.forms import LanguageForm
from idp.account.forms import TimezoneForm
from idp.auth.forms import LogoutForm
from idp.errors import ValidationError
from idp.web.current import services
from idp.web.i18n import remember_language
from idp.web.i18n import translate_error

bp = Blueprint("account", __name__)


def _home(language_form: LanguageForm | None = None, timezone_form: TimezoneForm | None = None) -> str:
    container = services()
    user = current_user.user
    if language_form is None:
        language_form = LanguageForm()
        language_form.language.data = user.locale or str(get_locale())
    if timezone_form is None:
        timezone_form = TimezoneForm()
        timezone_form.timezone.data = user.timezone or "UTC"
    return render_template(
        "account/home.html",
        user=user,
        session=current_user.session,
        memberships=container.accounts.memberships(user),
        entries=[entry for entry in container.nav if entry.shown_to(user)],
        logout_form=LogoutForm(),
        language_form=language_form,
        timezone_form=timezone_form,
    )


@bp.get("/")
@login_required  # type: ignore[untyped-decorator]
def home() -> str:
    return _home()


@bp.post("/account/language")
@login_required  # type: ignore[untyped-decorator]
def language() -> BaseResponse | tuple[str, int]:
    """Change the account's stored language (its mail goes out in it) and this browser's."""
    form = LanguageForm()
    if form.validate_on_submit():
        chosen = form.language.data or ""
        try:
            services().accounts.set_locale(current_user.user, chosen)
        except ValidationError as exc:
            form.language.errors.append(translate_error(exc))
        else:
            with force_locale(chosen):
                flash(_("Your pages and e-mails are now in English.") if chosen == "en"
                      else _("Your pages and e-mails are now in French."), "success")
            response = redirect(url_for("account.home"))
            remember_language(response, chosen)
            return response
    return _home(language_form=form), 400


@bp.post("/account/timezone")
@login_required  # type: ignore[untyped-decorator]
def timezone() -> BaseResponse | tuple[str, int]:
    """Change the time zone the account's pages and e-mails write moments in."""
    form = TimezoneForm()
    if form.validate_on_submit():
        try:
            services().accounts.set_timezone(current_user.user, form.timezone.data or "")
        except ValidationError as exc:
            form.timezone.errors.append(translate_error(exc))
        else:
            flash(_("Dates and times are now shown in %(zone)s.", zone=(form.timezone.data or "").replace("_", " ")),
                  "success")
            return redirect(url_for("account.home"))
    return _home(timezone_form=form), 400
