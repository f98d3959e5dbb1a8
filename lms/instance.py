"""The instance folder's ``config.py`` that ``flask lms setup`` writes: a secret key, the base URL
links are built from, the trusted hosts, Redis (commented out without it) and the cookies' HTTPS
settings. A config written before a setting existed gets it added; one that has it is left alone.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import current_app

from lms.links import host_of

DEFAULT_BASE_URL = "http://127.0.0.1:5000"  # `make run`


def trusted_hosts_for(base_url: str) -> list[str]:
    """The Host names to accept for a base URL (``localhost`` too for a loopback address)."""
    host = host_of(base_url)
    return [host, "localhost"] if host in ("127.0.0.1", "::1") else [host]


def production_settings(base_url: str, redis_url: str | None) -> str:
    return (
        "# Links in mail, certificates and calendar files start with this, never with the Host\n"
        "# a request names; requests for any other host are refused (400).\n"
        f"LMS_BASE_URL = {base_url!r}\n"
        f"TRUSTED_HOSTS = {trusted_hosts_for(base_url)!r}\n"
        + (
            f"LMS_REDIS_URL = {redis_url!r}"
            "  # job queue, rate limits, page versions: run `flask --app lms lms worker`\n"
            if redis_url
            else "# LMS_REDIS_URL = 'redis://127.0.0.1:6379/0'"
            "  # job queue, rate limits, page versions: then run `flask --app lms lms worker`\n"
        )
        + cookie_settings(base_url)
    )


def cookie_settings(base_url: str) -> str:
    """Served over HTTPS, the session and remember-me cookies go over HTTPS only (and HSTS is sent)."""
    secure = base_url.startswith("https://")
    prefix = "" if secure else "# "
    return (
        f"{prefix}SESSION_COOKIE_SECURE = True{'' if secure else '  # once the site is served over HTTPS'}\n"
        f"{prefix}REMEMBER_COOKIE_SECURE = True\n"
    )


def ensure_instance_config(base_url: str | None = None, redis_url: str | None = None) -> None:
    instance = Path(current_app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    config_file = instance / "config.py"
    if config_file.exists():
        # A config written before these settings existed gets them; one that has them is left alone.
        text = config_file.read_text(encoding="utf-8")
        if "LMS_BASE_URL" not in text and not current_app.config.get("LMS_BASE_URL"):
            base_url = base_url or DEFAULT_BASE_URL
            config_file.write_text(
                text.rstrip("\n") + "\n" + production_settings(base_url, redis_url),
                encoding="utf-8",
            )
            current_app.config["LMS_BASE_URL"] = base_url
            click.echo(f"Added LMS_BASE_URL = {base_url!r} and TRUSTED_HOSTS to {config_file}.")
        elif base_url and base_url != current_app.config.get("LMS_BASE_URL"):
            current = current_app.config.get("LMS_BASE_URL")
            click.echo(
                f"{config_file} already sets LMS_BASE_URL = {current!r}: change it there.",
                err=True,
            )
        return
    base_url = base_url or DEFAULT_BASE_URL
    secret = secrets.token_hex(32)
    config_file.write_text(
        "# Written by `flask lms setup`. Keep this file out of version control.\n"
        f"SECRET_KEY = {secret!r}\n"
        + production_settings(base_url, redis_url)
        + "# LMS_DATABASE_URL = 'postgresql+psycopg://user@host/dbname'\n",
        encoding="utf-8",
    )
    config_file.chmod(0o600)
    current_app.config["SECRET_KEY"] = secret
    current_app.config["LMS_BASE_URL"] = base_url
    click.echo(f"Wrote {config_file} with a new secret key and LMS_BASE_URL = {base_url!r}.")
