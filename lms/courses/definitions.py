"""The course file schema (pydantic). No Flask, no SQLAlchemy.

Step kinds live in :data:`STEP_KINDS`; a host or a later release adds one with
:func:`register_step_kind` and the course model is rebuilt from the registry on next use.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model

from lms.courses.credit import CreditRule
from lms.courses.evaluation import EvaluationDefinition, QuestionTranslation

PathName = Literal["live", "recording", "self_paced"]
PATHS: tuple[str, ...] = ("live", "recording", "self_paced")
GRADES: tuple[str, ...] = (
    "early-childhood",
    "elementary",
    "middle",
    "high",
    "higher-education",
    "adult",
)
FORMATS: tuple[str, ...] = ("webinar", "workshop", "training", "microcourse", "course")

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", min_length=2, max_length=80)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
FileName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=120)
]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


def _no_duplicates(values: tuple[Any, ...]) -> tuple[Any, ...]:
    duplicates = sorted({str(v) for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"lists {', '.join(duplicates)} more than once")
    return values


def _video_source(value: str) -> str:
    # A local video is a plain file name in the course folder (never a path that could leave
    # it); anything else must be an https URL.
    if value.startswith("https://") or re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
        return value
    raise ValueError("must be an https:// URL or the name of a file in the course folder")


Unique = AfterValidator(_no_duplicates)
VideoSource = Annotated[
    str, StringConstraints(min_length=1, max_length=500), AfterValidator(_video_source)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CertificateRule(Strict):
    hours: float = Field(gt=0, le=100, description="Hours printed on the certificate.")
    minimum_minutes: int = Field(
        gt=0, le=24 * 60, strict=True, description="Attendance needed for a certificate."
    )


class StepDefinition(Strict):
    """Fields every step has. Subclasses set ``kind`` to a Literal of their own name."""

    kind: str
    id: Identifier
    title: ShortText | None = None
    paths: Annotated[tuple[PathName, ...], Unique] | None = Field(
        default=None,
        min_length=1,
        description="Paths this step belongs to; omitted means every path of the course.",
    )
    required: bool = True

    # Translatable text fields of this kind (see [translations.<lang>.steps.<id>]).
    translatable: ClassVar[tuple[str, ...]] = ("title",)

    # File names this kind refers to, checked for existence by the loader.
    def referenced_files(self) -> list[str]:
        return []

    def applies_to(self, path: str) -> bool:
        return self.paths is None or path in self.paths


class WatchStep(StepDefinition):
    kind: Literal["watch"]
    video: VideoSource = Field(description="An https:// URL, or a file in the course folder.")
    captions: dict[LanguageCode, FileName] = Field(
        default_factory=dict,
        description="WebVTT caption files by language: one for every language the course offers.",
    )
    transcript: dict[LanguageCode, FileName] = Field(
        default_factory=dict,
        description=(
            "Markdown transcript documents by language, shown instead of the transcript built "
            "from the captions."
        ),
    )
    described_video: VideoSource | None = Field(
        default=None,
        description="A version of the recording with audio description (https:// URL or a file in the course folder).",
    )
    captions_describe_visuals: bool = Field(
        default=False,
        description="The captions already say everything the video shows (title cards, slides), so the transcript "
        "built from them is its text alternative and no described version is needed.",
    )
    duration_seconds: int | None = Field(default=None, gt=0, le=24 * 3600, strict=True)
    required_fraction: float = Field(default=0.9, gt=0, le=1)

    def referenced_files(self) -> list[str]:
        files = [*self.captions.values(), *self.transcript.values()]
        for video in (self.video, self.described_video):
            if video is not None and not video.startswith("https://"):
                files.append(video)
        return files


class ReadStep(StepDefinition):
    kind: Literal["read"]
    body: FileName = Field(description="A Markdown file in the course folder.")
    translatable: ClassVar[tuple[str, ...]] = ("title", "body")

    def referenced_files(self) -> list[str]:
        return [self.body]


class ReflectStep(StepDefinition):
    kind: Literal["reflect"]
    prompt: LongText
    outcome: int | None = Field(
        default=None, ge=1, strict=True, description="The 1-based outcome this prompt reflects on."
    )
    min_words: int = Field(default=0, ge=0, le=2000, strict=True)
    translatable: ClassVar[tuple[str, ...]] = ("title", "prompt")


class AttendStep(StepDefinition):
    kind: Literal["attend"]


STEP_KINDS: dict[str, type[StepDefinition]] = {}


def register_step_kind(step_class: type[StepDefinition]) -> type[StepDefinition]:
    kind = step_class.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]
    STEP_KINDS[kind] = step_class
    if "course_file_model" in globals():  # built lazily; rebuilt with the new kind on next use
        course_file_model.cache_clear()
    return step_class


for _kind in (WatchStep, ReadStep, ReflectStep, AttendStep):
    register_step_kind(_kind)


class StepTranslation(Strict):
    title: ShortText | None = None
    prompt: LongText | None = None
    body: FileName | None = None


class CourseTranslation(Strict):
    title: ShortText | None = None
    summary: LongText | None = None
    description: FileName | None = None
    developed_by: ShortText | None = None
    outcomes: tuple[LongText, ...] | None = None
    topics: tuple[ShortText, ...] | None = None
    steps: dict[Identifier, StepTranslation] = Field(default_factory=dict)
    evaluation: dict[Identifier, QuestionTranslation] = Field(default_factory=dict)


class CourseFields(Strict):
    """Every course field except ``steps``, whose type is built from the step-kind registry."""

    slug: Slug
    title: ShortText
    summary: LongText
    description: FileName | None = Field(
        default=None, description="A Markdown file with the longer description."
    )
    developed_by: ShortText
    last_updated: dt.date
    minutes: int = Field(gt=0, le=100 * 60, strict=True)
    format: Literal["webinar", "workshop", "training", "microcourse", "course"] = "microcourse"
    audience_roles: Annotated[tuple[Identifier, ...], Unique] = Field(min_length=1)
    grades: Annotated[
        tuple[
            Literal["early-childhood", "elementary", "middle", "high", "higher-education", "adult"],
            ...,
        ],
        Unique,
    ] = ()
    topics: Annotated[tuple[ShortText, ...], Unique] = ()
    outcomes: tuple[LongText, ...] = Field(min_length=1, max_length=20)
    paths: Annotated[tuple[PathName, ...], Unique] = Field(min_length=1)
    languages: Annotated[tuple[LanguageCode, ...], Unique] = Field(default=("en",), min_length=1)
    certificate: CertificateRule | None = None
    credit: CreditRule | None = Field(
        default=None, description="What completing each path is worth (lms.courses.credit)."
    )
    evaluation: EvaluationDefinition | None = Field(
        default=None, description="The session evaluation (lms.courses.evaluation)."
    )
    translations: dict[LanguageCode, CourseTranslation] = Field(default_factory=dict)


class CourseDefinition(CourseFields):
    steps: tuple[StepDefinition, ...]

    translatable: ClassVar[tuple[str, ...]] = (
        "title",
        "summary",
        "description",
        "developed_by",
        "outcomes",
        "topics",
    )

    def steps_for(self, path: str) -> list[StepDefinition]:
        return [step for step in self.steps if step.applies_to(path)]

    def step(self, step_id: str) -> StepDefinition | None:
        return next((step for step in self.steps if step.id == step_id), None)

    @property
    def offers_certificate(self) -> bool:
        return "live" in self.paths and self.certificate is not None

    def referenced_files(self) -> list[str]:
        files = [self.description] if self.description else []
        for step in self.steps:
            files.extend(step.referenced_files())
        for translation in self.translations.values():
            if translation.description:
                files.append(translation.description)
            files.extend(t.body for t in translation.steps.values() if t.body)
        return files


@cache
def course_file_model() -> type[CourseDefinition]:
    """The course model with ``steps`` typed as a union of the registered kinds."""
    kinds = tuple(STEP_KINDS.values())
    # Union[...] of a runtime tuple: the `X | Y` spelling needs the members written out.
    step_type = (
        Annotated[Union[kinds], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007
        if len(kinds) > 1
        else kinds[0]
    )
    return create_model(  # type: ignore[call-overload,no-any-return]
        "CourseFile",
        __base__=CourseDefinition,
        steps=(tuple[step_type, ...], Field(min_length=1)),  # type: ignore[valid-type]
    )


def course_json_schema() -> dict[str, Any]:
    schema = course_file_model().model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Course file (course.toml)"
    return schema
