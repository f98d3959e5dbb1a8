"""The ``LMS`` Flask extension: everything the engine registers on a (host) app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, g, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from lms import db
from lms.accounts.services import load_user
from lms.caching import PageCache
from lms.cli import lms_group
from lms.config import apply_defaults
from lms.courses.catalog import CourseCatalog
from lms.formatting import register_filters
from lms.invalidation import note_person, watch, wrote_anything
from lms.jobs.runner import init_jobs
from lms.security import apply_rate_limits, init_security
from lms.state import LMSState, lms_state
from lms.views import blueprints
from lms.web.caching import public_page_validators
from lms.web.context import is_lms_request, select_locale, select_timezone, signed_in_person
from lms.web.templating import template_globals

__all__ = ["LMS", "mounted_prefix"]


class LMS:
    def __init__(self, app: Flask | None = None, **options: Any) -> None:
        if app is not None:
            self.init_app(app, **options)

    def init_app(self, app: Flask, url_prefix: str = "") -> None:
        if "lms" in app.extensions:
            raise RuntimeError("The LMS extension is already registered on this app.")
        apply_defaults(app.config)
        url_prefix = url_prefix.rstrip("/")
        app.config["LMS_URL_PREFIX"] = url_prefix

        database_url = (
            app.config["LMS_DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'lms.sqlite'}"
        )
        app.config["LMS_DATABASE_URL"] = database_url
        courses_dir = Path(app.config["LMS_COURSES_DIR"] or Path(app.root_path).parent / "courses")
        app.config["LMS_COURSES_DIR"] = str(courses_dir)
        state = LMSState(
            extension=self,
            url_prefix=url_prefix,
            database=db.DatabaseState(database_url, echo=app.config["LMS_DATABASE_ECHO"]),
            catalog=CourseCatalog(courses_dir),
            page_cache=PageCache(app, database_url),
        )
        app.extensions["lms"] = state
        watch(state.database.session_factory, state.page_cache.bump)
        init_jobs(app)

        self._init_babel(app)
        self._init_login(app)
        if "csrf" not in app.extensions:
            CSRFProtect(app)
        init_security(app)
        self._register_blueprints(app, state)
        apply_rate_limits(app)  # the views' limits, with this app's limiter
        if not app.config.get("SECRET_KEY"):
            app.before_request(_refuse_without_secret_key)

        app.before_request(_follow_catalog_syncs)
        app.teardown_appcontext(db.close_session)
        app.after_request(_commit_request)
        app.after_request(public_page_validators)
        app.context_processor(_template_context)
        register_filters(app)

        app.cli.add_command(lms_group)

    def _init_babel(self, app: Flask) -> None:
        app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["LMS_DEFAULT_LOCALE"])
        if "babel" not in app.extensions:
            Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)

    def _init_login(self, app: Flask) -> None:
        if hasattr(app, "login_manager"):
            return  # the host owns login; it must load lms users (docs/architecture.md)
        manager = _LoginManager(app)
        manager.login_view = "lms_accounts.login"
        manager.login_message = None  # the login page says why on its own
        manager.session_protection = "strong"
        manager.user_loader(load_user)

    def _register_blueprints(self, app: Flask, state: LMSState) -> None:
        core = Blueprint(
            "lms",
            __name__,
            static_folder="static",
            static_url_path="/static/lms-assets",
            template_folder="templates",
        )
        for blueprint in (core, *blueprints()):
            app.register_blueprint(
                blueprint, url_prefix=mounted_prefix(state.url_prefix, blueprint.url_prefix)
            )
            state.blueprints.append(blueprint.name)


def mounted_prefix(mount_point: str, own_prefix: str | None) -> str | None:
    """A blueprint's prefix under the mount point: joined to its own (``/learn`` + ``/auth``).

    Flask's ``url_prefix`` option replaces the blueprint's own prefix instead of joining it, which
    would move ``/auth/login`` to ``/learn/login``: every URL relative to the mount point must be
    the same mounted and standalone.
    """
    joined = mount_point.rstrip("/") + "/" + (own_prefix or "").strip("/")
    return joined.rstrip("/") or None


def _refuse_without_secret_key() -> Any:
    # Never a built-in default key: sessions signed with a known key can be forged.
    current_app.logger.error("No SECRET_KEY: run `flask --app lms lms setup` or set SECRET_KEY.")
    return (
        "This site is not configured yet: it has no SECRET_KEY. Run `flask --app lms lms setup`.",
        503,
    )


def _commit_request(response: Any) -> Any:
    """One commit per request: what a successful request flushed is committed, else rolled back."""
    if "_lms_session" not in g:
        return response
    if response.status_code < 400:
        session_ = g._lms_session
        person = signed_in_person()
        if person is not None and wrote_anything(session_):
            # Their own pages (the report included) show what they just did.
            note_person(session_, person.id)
        db.commit_if_open()
    else:
        db.get_session().rollback()
    return response


class _LoginManager(LoginManager):
    def _session_protection_failed(self) -> bool:
        # Strong protection checks a session against its browser only once someone has signed
        # in. Flask-Login also "fails" an anonymous session that holds just a CSRF token or a
        # language, and then rewrites it and deletes the remember cookie on every request
        # (flask-login issue #569): an extra Set-Cookie pair on each page, protecting nothing.
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


def _follow_catalog_syncs() -> None:
    if is_lms_request():
        # db_session is a proxy: no session is opened on the requests that do not look
        lms_state().catalog.reload_if_synced_elsewhere(
            db.db_session, current_app.config["LMS_CATALOG_CHECK_SECONDS"]
        )


def _template_context() -> dict[str, Any]:
    if not is_lms_request():
        return {}
    return template_globals()
