from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("lms_certificates", __name__)
