from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

blueprint = Blueprint("lms_learning", __name__)


@blueprint.get("/me")
@login_required
def dashboard():
    return render_template("lms/learning/dashboard.html")
