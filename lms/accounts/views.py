from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from lms.accounts.forms import LoginForm
from lms.accounts.services import authenticate
from lms.i18n import _
from lms.security import limiter, login_rate_limit
from lms.web import safe_next_url

blueprint = Blueprint("lms_accounts", __name__, url_prefix="/auth")


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next_url(form.next.data, url_for("lms_learning.dashboard")), code=303)
        # The same message whether the email is unknown or the password wrong.
        form.password.errors.append(_("That email and password do not match an active account."))
    return render_template("lms/accounts/login.html", form=form), 200 if request.method == "GET" or not form.errors else 422


@blueprint.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("lms_courses.catalog"), code=303)



