"""The learning tests' courses, a reflection's worth of words, and the player's requests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

FLAGSHIP = "esp-racial-justice-dialogue"
SELF_PACED = "community-partnerships"

FORTY_WORDS = " ".join(
    "Racial justice in my school would mean every student is greeted by name, disciplined fairly, "
    "fed well and heard, and that adults talk openly about the patterns they notice and act on them "
    "together with families and the wider community every single day".split()
)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def start(client, slug: str = FLAGSHIP, path: str = "recording") -> int:
    response = client.post(f"/courses/{slug}/start", data={"path": path})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    match = re.search(r"/learn/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def post_segments(
    client,
    enrollment_id: int,
    segments: list[Any],
    duration: Any = 30,
    step: str = "recording",
    headers: dict | None = None,
):
    return client.post(
        f"/learn/{enrollment_id}/{step}/progress",
        json={"segments": segments, "duration": duration},
        headers=headers or {},
    )


def submit(
    client, enrollment_id: int, step: str, body: str, shared: bool = False
) -> Callable[[], Any]:
    """A reflection's submit, to be called later (by a race of several)."""
    data = {"body": body, "submit": "Submit", **({"shared": "y"} if shared else {})}
    return lambda: client.post(f"/learn/{enrollment_id}/{step}/reflection", data=data)
