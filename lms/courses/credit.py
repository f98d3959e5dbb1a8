"""What completing a course is worth: the ``[credit]`` table of a course file. No Flask, no SQLAlchemy.

```toml
[credit]
type = "clock_hours"   # clock_hours, ceu, or a unit the deployment names (LMS_CREDIT_TYPES)
live = 1.0             # per path; a path left out earns none
self_paced = 0.5
recording = 0          # a recording is informational and ungraded: 0 or left out
```

Credit types live in :data:`CREDIT_TYPES` (id -> English label for one unit and for several),
like step kinds: a deployment names more with :func:`register_credit_type`, which the records
area calls for each entry of ``LMS_CREDIT_TYPES`` when it is registered on an app.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator


@dataclass(frozen=True)
class CreditType:
    id: str
    label: str  # a deployment's unit as printed after the amount ("PD points"); built-in ones are translated
    built_in: bool = True


CREDIT_TYPES: dict[str, CreditType] = {
    "clock_hours": CreditType("clock_hours", "clock hours"),
    "ceu": CreditType("ceu", "CEUs"),
}


def register_credit_type(type_id: str, label: str) -> CreditType:
    """Name a deployment's own unit (``label`` as printed after the amount: "PD points")."""
    existing = CREDIT_TYPES.get(type_id)
    if existing is not None and existing.built_in:
        return existing
    credit_type = CreditType(type_id, label, built_in=False)
    CREDIT_TYPES[type_id] = credit_type
    return credit_type


class CreditRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    type: str = Field(
        description="clock_hours, ceu, or a unit named in the deployment's LMS_CREDIT_TYPES."
    )
    live: float | None = Field(
        default=None, ge=0, le=1000, description="Credit for completing the live path."
    )
    self_paced: float | None = Field(
        default=None, ge=0, le=1000, description="Credit for completing the self-paced path."
    )
    recording: float | None = Field(
        default=None, ge=0, description="Always 0: a recording is informational and ungraded."
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in CREDIT_TYPES:
            raise ValueError(
                f"unknown credit type {value!r}; use one of {', '.join(sorted(CREDIT_TYPES))}"
            )
        return value

    @field_validator("recording")
    @classmethod
    def _recording_earns_none(cls, value: float | None) -> float | None:
        if value:
            raise ValueError(
                "a recording is informational and ungraded: it earns no credit (set 0 or leave it out)"
            )
        return value

    def amount_for(self, path: str) -> float:
        if path == "recording":
            return 0.0
        return float(getattr(self, path, None) or 0.0)


def credit_problems(credit: CreditRule | None, paths: tuple[str, ...]) -> list[tuple[str, str]]:
    """Rules between ``[credit]`` and the rest of the file, as (field, message) pairs."""
    if credit is None:
        return []
    problems = []
    for path in ("live", "self_paced", "recording"):
        if getattr(credit, path) is not None and path not in paths:
            problems.append(
                (f"credit.{path}", f"path {path!r} is not one of the course's paths {list(paths)}")
            )
    return problems


@dataclass(frozen=True)
class Credit:
    """What one completion earned: an amount of a type (0 for a recording)."""

    type: str
    amount: float

    @property
    def earns(self) -> bool:
        return self.amount > 0


def credit_for(credit: CreditRule | None, path: str) -> Credit | None:
    """The credit a completed enrollment on ``path`` earns, or None when the course declares none."""
    if credit is None:
        return None
    return Credit(credit.type, credit.amount_for(path))
