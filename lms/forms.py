"""Forms every area shares."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that POSTs (register, withdraw, close, issue, retry): only the CSRF token."""
