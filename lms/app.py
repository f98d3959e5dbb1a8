"""The standalone host: a thin Flask app with the LMS extension mounted at the root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, redirect, url_for
from werkzeug.exceptions import SecurityError

from lms.config import STANDALONE_DEFAULTS, load_environment
from lms.extension import LMS
from lms.web.errors import register_error_pages


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        "lms", instance_relative_config=True, instance_path=os.environ.get("LMS_INSTANCE_PATH")
    )
    app.config.from_mapping(STANDALONE_DEFAULTS)
    if config is None:
        app.config.from_pyfile("config.py", silent=True)
        load_environment(app.config)
    else:
        app.config.from_mapping(config)
    os.makedirs(app.instance_path, exist_ok=True)
    # Requests naming any other Host are refused (400) by Flask; LMS_TRUSTED_HOSTS is the same
    # setting for environment variables (a JSON list).
    if app.config.get("TRUSTED_HOSTS") is None and app.config.get("LMS_TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["LMS_TRUSTED_HOSTS"])
    LMS(app, url_prefix=app.config.get("LMS_URL_PREFIX", ""))
    app.extensions["lms"].standalone = True
    register_error_pages(app)
    app.register_error_handler(SecurityError, _untrusted_host)
    if app.config.get("LMS_URL_PREFIX"):
        app.add_url_rule("/", "index", lambda: redirect(url_for("lms_courses.catalog")))
    return app


def _untrusted_host(error: SecurityError) -> Any:
    # A Host outside TRUSTED_HOSTS: no URL can be built for this request, so the usual error
    # page (which links to the site) cannot be drawn either. Plain text, no link.
    return (
        "Bad request: this site does not answer to that host name.",
        400,
        {"Content-Type": "text/plain; charset=utf-8"},
    )
