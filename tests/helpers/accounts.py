"""Signing up through the registration form."""

from __future__ import annotations


def register(
    client,
    email: str,
    password: str = "long enough password",
    confirm: str | None = None,
    name: str = "New Learner",
):
    return client.post(
        "/auth/register",
        data={
            "display_name": name,
            "email": email,
            "password": password,
            "confirm": confirm or password,
        },
    )
