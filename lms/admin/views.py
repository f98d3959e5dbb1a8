from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("lms_admin", __name__)
