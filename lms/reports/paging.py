"""Page numbers for long lists (offset paging over a stable order)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_PAGE = 1_000_000


def page_number(args: Mapping[str, Any]) -> int:
    """The ``page`` argument as a number from 1; anything else is page 1."""
    raw = str(args.get("page", "1") or "1")
    # isascii: isdigit() alone accepts digits int() cannot read, such as "²".
    return min(int(raw), MAX_PAGE) if raw.isascii() and raw.isdigit() and int(raw) > 0 else 1


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int

    @classmethod
    def of(cls, number: int, size: int, total: int) -> Page:
        pages = max(1, -(-total // size))
        return cls(number=min(max(1, number), pages), size=size, total=total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_item(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last_item(self) -> int:
        return min(self.offset + self.size, self.total)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages
