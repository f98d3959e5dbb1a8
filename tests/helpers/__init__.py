"""Plain helpers and constants shared by the tests (fixtures live in the conftest.py files).

Test modules and conftest.py files import from here, never from one another
(tests/test_test_suite.py checks it). This module holds the basics every area uses: where the
repository and its courses are, the test database, the people's password, signing in and the
CSRF tokens of a page; the areas' helpers are in the modules beside it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

REPO = Path(__file__).resolve().parents[2]
COURSES_DIR = REPO / "courses"
POSTGRES_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
TEST_PASSWORD = "correct horse battery staple"
# Tests create many people; a cheap hash keeps them fast (production uses scrypt).
TEST_PASSWORD_HASH = generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1000")

_CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_tokens_in(html: str) -> list[str]:
    """Every form's CSRF token on a page (WTForms and hand-written hidden fields alike)."""
    return _CSRF_FIELD.findall(html)


def csrf_token_in(html: str) -> str:
    tokens = csrf_tokens_in(html)
    assert tokens, "no CSRF token on the page"
    return tokens[0]


def login(client: FlaskClient, user: Any, password: str = TEST_PASSWORD) -> None:
    response = client.post("/auth/login", data={"email": user.email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
