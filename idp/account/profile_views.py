"""The profile page (names, picture, language, time zone) and the pictures' public addresses."""

from __future__ import annotations

import hashlib

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import force_locale
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.account.avatars import MAX_BYTES
from idp.account.avatars import RECOMMENDED_SIDE
from idp.account.forms import LanguageForm
from idp.account.forms import NamesForm
from idp.account.forms import PhoneForm
from idp.account.forms import PictureForm
from idp.account.forms import PlainForm
from idp.account.forms import RemovePictureForm
from idp.account.forms import TimezoneForm
from idp.account.phones import readable
from idp.errors import ValidationError
from idp.model import User
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import remember_language
from idp.web.i18n import translate_error
from idp.web.plumbing import UPLOAD_LIMITS

bp = Blueprint("profile", __name__)

# The picture's form: the file and a few hundred bytes of multipart around it.
UPLOAD_LIMITS["profile.picture"] = MAX_BYTES + 64 * 1024
# A picture's address holds its version: what is served there never changes.
FOREVER = "public, max-age=31536000, immutable"


def picture_url(user: User, size: str = "large", *, external: bool = False) -> str | None:
    """Where the account's picture is served (OpenID `picture` when external), or None."""
    if user.avatar_version is None:
        return None
    return url_for("profile.avatar", subject=user.subject, version=user.avatar_version, size=size,
                   _external=external)


def page(
    names: NamesForm | None = None, picture: PictureForm | None = None,
    language: LanguageForm | None = None, timezone: TimezoneForm | None = None, phone: PhoneForm | None = None,
) -> str:
    """The profile page, with the forms of a failed post kept as they were sent."""
    user = current_user.user
    if names is None:
        names = NamesForm(formdata=None, given_name=user.given_name or "", family_name=user.family_name or "",
                          display_name=user.display_name)
    if language is None:
        language = LanguageForm(formdata=None, language=user.locale or str(get_locale()))
    if timezone is None:
        timezone = TimezoneForm(formdata=None, timezone=user.timezone or "UTC")
    return render_template(
        "account/profile.html", user=user, names_form=names, picture_form=picture or PictureForm(formdata=None),
        remove_form=RemovePictureForm(formdata=None), language_form=language, timezone_form=timezone,
        picture=picture_url(user), recommended=RECOMMENDED_SIDE,
        phones=[(p, readable(p.number)) for p in services().phones.list(user)],
        phone_form=phone or PhoneForm(formdata=None), plain_form=PlainForm(formdata=None),
    )


@bp.get("/profile")
@login_required  # type: ignore[untyped-decorator]
def profile() -> str:
    return page()


@bp.post("/profile/names")
@login_required  # type: ignore[untyped-decorator]
def names() -> BaseResponse | tuple[str, int]:
    form = NamesForm()
    if form.validate_on_submit():
        try:
            services().profiles.set_names(
                current_user.user, given_name=form.given_name.data or "", family_name=form.family_name.data or "",
                display_name=form.display_name.data or "", ctx=request_context(),
            )
        except ValidationError as exc:
            getattr(form, exc.field or "display_name").errors.append(translate_error(exc))
        else:
            flash(_("Your name is saved."), "success")
            return redirect(url_for("profile.profile"))
    return page(names=form), 400


@bp.post("/profile/picture")
@login_required  # type: ignore[untyped-decorator]
def picture() -> BaseResponse | tuple[str, int]:
    form = PictureForm()
    if form.validate_on_submit():
        upload = form.picture.data
        data = upload.read(MAX_BYTES + 1) if upload else b""
        try:
            saved = services().profiles.set_picture(current_user.user, data, ctx=request_context())
        except ValidationError as exc:
            form.picture.errors.append(translate_error(exc))
        else:
            if saved.small_source:
                flash(_("Your picture is saved. It is smaller than %(num)d × %(num)d pixels, so it may look "
                        "blurred: a larger one will look sharper.", num=RECOMMENDED_SIDE), "warning")
            else:
                flash(_("Your picture is saved."), "success")
            return redirect(url_for("profile.profile"))
    return page(picture=form), 400


@bp.post("/profile/picture/remove")
@login_required  # type: ignore[untyped-decorator]
def remove_picture() -> BaseResponse | tuple[str, int]:
    form = RemovePictureForm()
    if not form.validate_on_submit():
        return page(), 400
    if services().profiles.remove_picture(current_user.user, ctx=request_context()):
        flash(_("Your picture is removed: your initials are shown instead."), "success")
    return redirect(url_for("profile.profile"))


@bp.post("/profile/language")
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
            response = redirect(url_for("profile.profile"))
            remember_language(response, chosen)
            return response
    return page(language=form), 400


@bp.post("/profile/timezone")
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
            return redirect(url_for("profile.profile"))
    return page(timezone=form), 400


@bp.get("/avatars/<subject>/<row_id:version>/<size>.jpg")
def avatar(subject: str, version: int, size: str) -> BaseResponse:
    """A picture, public (applications show it from the OpenID `picture` claim) at an address
    only its owner's opaque subject leads to; an older version redirects to the current one."""
    found = services().profiles.picture(subject, size)
    if found is None:
        abort(404)
    current, body = found
    if version != current:
        moved = redirect(url_for("profile.avatar", subject=subject, version=current, size=size))
        moved.headers["Cache-Control"] = "no-cache"
        return moved
    etag = hashlib.sha256(body).hexdigest()[:32]
    response = Response(body, mimetype="image/jpeg")
    response.set_etag(etag)
    response.headers["Cache-Control"] = FOREVER
    # Shown on applications' pages, so readable from other origins; nothing in it runs.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    return response.make_conditional(request)
