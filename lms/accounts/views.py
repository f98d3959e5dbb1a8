"""Sign in and out, registration, password reset and the profile (blueprint ``lms_accounts``).

No user enumeration: signing in, registering and asking for a reset answer the same whether
or not an account uses the address. Registration with an address that already has an account
mails its owner instead (see ``lms.accounts.services.register_account``), and the person who
typed it sees the same "check your email" message as a new learner.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts.forms import (
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from lms.accounts.services import (
    AccountError,
    authenticate,
    confirm_email,
    end_all_sign_ins,
    end_sign_in,
    register_account,
    request_password_reset,
    reset_password,
    send_email_confirmation,
    start_sign_in,
    update_profile,
    user_for_reset_token,
)
from lms.i18n import _
from lms.routing import AreaBlueprint
from lms.security import (
    failed_sign_in,
    login_account_key,
    login_account_rate_limit,
    login_rate_limit,
    rate_limit,
)
from lms.web.guards import safe_next_url

blueprint = AreaBlueprint("lms_accounts", __name__, url_prefix="/auth")


def account_rate_limit() -> str:
    return current_app.config["LMS_ACCOUNT_RATE_LIMIT"]


def _form_status(form) -> int:
    return 200 if request.method == "GET" or not form.errors else 422


# What a visitor chose before signing in and keeps after: preferences that grant nothing.
_KEPT_ACROSS_SIGN_IN = ("lms_locale", "lms_time_zone")


def _fresh_session() -> None:
    """Start the session over (at sign-in and sign-out): a CSRF token, or anything else, taken
    before is not accepted after. Flask's session is a signed cookie, so this is a new one."""
    kept = {key: session[key] for key in _KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    g.pop(
        current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None
    )  # Flask-WTF's copy for this request


def _sign_out() -> None:
    _fresh_session()
    logout_user()  # after the fresh start: it marks the remember-me cookie for deletion


@blueprint.route("/login", methods=["GET", "POST"])
@rate_limit(login_rate_limit, methods=["POST"])
@rate_limit(
    login_account_rate_limit,
    methods=["POST"],
    key_func=login_account_key,
    deduct_when=failed_sign_in,
    scope="login-account",
)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            remember = bool(form.remember.data)
            _fresh_session()
            start_sign_in(user, remember=remember)
            login_user(user, remember=remember)
            return redirect(
                safe_next_url(form.next.data, url_for("lms_learning.dashboard")), code=303
            )
        # The same message whether the email is unknown or the password wrong.
        form.password.errors.append(_("That email and password do not match an active account."))
    return render_template("lms/accounts/login.html", form=form), _form_status(form)


@blueprint.post("/logout")
@login_required
def logout():
    # The sign-in ends, not only this browser's cookies: a copy of them saved before is useless.
    end_sign_in(current_user._get_current_object())
    _sign_out()
    flash(_("You are signed out."), "info")
    return redirect(url_for("lms_courses.catalog"), code=303)


@blueprint.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """The profile's button: every sign-in of the account ends, in every browser."""
    end_all_sign_ins(current_user._get_current_object())
    _sign_out()
    flash(_("You are signed out in every browser, this one included."), "info")
    return redirect(url_for("lms_courses.catalog"), code=303)


@blueprint.route("/register", methods=["GET", "POST"])
@rate_limit(account_rate_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("lms_learning.dashboard"), code=303)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            register_account(
                form.email.data,
                form.display_name.data,
                form.password.data,
                locale=str(get_locale() or current_app.config["LMS_DEFAULT_LOCALE"]),
                time_zone=current_app.config["LMS_DEFAULT_TIMEZONE"],
            )
        except AccountError:
            pass  # two registrations of one address at the same moment: answer as for any other
        # The same answer for a new address and one that already has an account.
        flash(
            _(
                "Check your email: we have sent a message to %(email)s. If the address is new "
                "here, your account is ready and you can sign in now. If it already had an "
                "account, the message explains how to get back into it.",
                email=form.email.data.strip(),
            ),
            "success",
        )
        return redirect(url_for("lms_accounts.login"), code=303)
    return render_template("lms/accounts/register.html", form=form), _form_status(form)


@blueprint.route("/reset", methods=["GET", "POST"])
@rate_limit(account_rate_limit, methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        request_password_reset(form.email.data)
        # The same answer whether or not an account uses the address.
        flash(
            _(
                "If an account uses %(email)s, we have sent it a link to choose a new password. "
                "The link works for %(minutes)s minutes.",
                email=form.email.data.strip(),
                minutes=current_app.config["LMS_PASSWORD_RESET_MAX_AGE"] // 60,
            ),
            "success",
        )
        return redirect(url_for("lms_accounts.login"), code=303)
    return render_template("lms/accounts/reset_request.html", form=form), _form_status(form)


@blueprint.route("/reset/<token>", methods=["GET", "POST"], endpoint="reset_password")
@rate_limit(account_rate_limit, methods=["POST"])
def reset_password_view(token: str):
    user = user_for_reset_token(token)
    if user is None:
        return render_template("lms/accounts/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset_password(user, form.password.data)
        except AccountError as error:
            form.password.errors.append(str(error))
        else:
            if current_user.is_authenticated:
                _sign_out()  # whoever it was: the account's own sign-ins have all ended
            flash(_("Your password has been changed. Sign in with the new one."), "success")
            return redirect(url_for("lms_accounts.login"), code=303)
    return render_template("lms/accounts/reset_password.html", form=form), _form_status(form)


@blueprint.get("/confirm/<token>", endpoint="confirm_email")
def confirm_email_view(token: str):
    """The link in the welcome message: the address is the account owner's."""
    user = confirm_email(token)
    if user is None:
        return render_template("lms/accounts/confirm_invalid.html"), 400
    flash(
        _(
            "Your email address %(email)s is confirmed: you can register for live sessions.",
            email=user.email,
        ),
        "success",
    )
    signed_in_as_owner = current_user.is_authenticated and current_user.id == user.id
    return redirect(
        url_for("lms_learning.dashboard") if signed_in_as_owner else url_for("lms_accounts.login"),
        code=303,
    )


@blueprint.post("/confirm")
@login_required
@rate_limit(account_rate_limit)
def resend_confirmation():
    if current_user.email_confirmed_at is not None:
        flash(_("Your email address is already confirmed."), "info")
    else:
        send_email_confirmation(current_user)
        flash(
            _("We have sent a new confirmation link to %(email)s.", email=current_user.email),
            "success",
        )
    return redirect(
        safe_next_url(request.form.get("next"), url_for("lms_learning.dashboard")), code=303
    )


@blueprint.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user
    form = ProfileForm(obj=user, current_zone=user.time_zone)
    if form.validate_on_submit():
        try:
            update_profile(
                user,
                display_name=form.display_name.data,
                locale=form.locale.data,
                time_zone=form.time_zone.data,
                affiliate=form.affiliate.data or "",
                audience_role=form.audience_role.data or "",
            )
        except AccountError as error:
            form.display_name.errors.append(str(error))
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("lms_accounts.profile"), code=303)
    return render_template("lms/accounts/profile.html", form=form), _form_status(form)
