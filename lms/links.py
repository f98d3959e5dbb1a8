"""Links that leave the server (mail, certificate QR codes, calendar files), from configuration.

Never from the request's ``Host`` header: a reset request sent with ``Host: evil.example``
would otherwise mail the victim a link to the attacker's site. The base is ``LMS_BASE_URL``
(``https://courses.example.org``, or ``https://example.org/lms`` behind a path), or, for a
standalone app without it, ``PREFERRED_URL_SCHEME`` + ``SERVER_NAME`` + ``APPLICATION_ROOT``.
The same code works in a request, a CLI command and a job (which has no request at all).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app


class BaseURLMissing(RuntimeError):
    """Neither ``LMS_BASE_URL`` nor ``SERVER_NAME`` is set, so no link can be built."""


def base_url(app: Flask | None = None) -> str:
    """The configured base URL, without a trailing slash."""
    config = (app or current_app).config
    configured = config.get("LMS_BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    if config.get("SERVER_NAME"):
        root = (config.get("APPLICATION_ROOT") or "/").rstrip("/")
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}{root}"
    raise BaseURLMissing(
        "Set LMS_BASE_URL (e.g. 'https://courses.example.org') so links in mail and "
        "certificates can be built: `flask lms setup --base-url URL` writes it."
    )


def check_base_url(value: str) -> str:
    """``value`` if it can serve as ``LMS_BASE_URL`` (http(s), a host, no query), else ValueError."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"{value!r} is not a base URL: give the scheme and host, e.g. https://courses.example.org"
        )
    return value.strip().rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under the configured base URL."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    parts = urlsplit(base_url(app))
    adapter = app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""
