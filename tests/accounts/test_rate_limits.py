from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "LMS_ACCOUNT_RATE_LIMIT": "2 per minute"}


def test_registration_and_reset_requests_are_rate_limited(client):
    for _ in range(2):
        assert client.post("/auth/reset", data={"email": "someone@example.org"}).status_code == 303
    assert client.post("/auth/reset", data={"email": "someone@example.org"}).status_code == 429
    for n in range(2):
        response = client.post("/auth/register", data={"display_name": "X", "email": f"x{n}@example.org", "password": "long enough password", "confirm": "long enough password"})
        assert response.status_code == 303
    response = client.post("/auth/register", data={"display_name": "X", "email": "x9@example.org", "password": "long enough password", "confirm": "long enough password"})
    assert response.status_code == 429
    assert client.get("/auth/register").status_code == 200, "only sending is limited"
