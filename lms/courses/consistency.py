"""The rules of a course file that span fields (a step's path is one of the course's, a step id
is used once, every language has its captions), checked once the schema has read the file. No
Flask, no SQLAlchemy."""

from __future__ import annotations

from lms.courses.credit import credit_problems
from lms.courses.definitions import AttendStep, CourseDefinition, ReflectStep, WatchStep
from lms.courses.evaluation import evaluation_problems


def consistency_problems(course: CourseDefinition) -> list[tuple[str, str]]:
    """Rules that span fields, as (field, message) pairs; an empty list means consistent."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, step in enumerate(course.steps):
        where = f"steps[{index}]"
        if step.id in seen:
            problems.append((f"{where}.id", f"step id {step.id!r} is used twice"))
        seen.add(step.id)
        for path in step.paths or ():
            if path not in course.paths:
                problems.append(
                    (
                        f"{where}.paths",
                        f"path {path!r} is not one of the course's paths {list(course.paths)}",
                    )
                )
        if (
            isinstance(step, ReflectStep)
            and step.outcome is not None
            and step.outcome > len(course.outcomes)
        ):
            problems.append(
                (
                    f"{where}.outcome",
                    f"outcome {step.outcome} does not exist (the course has {len(course.outcomes)})",
                )
            )
        if isinstance(step, WatchStep):
            missing = [language for language in course.languages if language not in step.captions]
            if missing:
                problems.append(
                    (
                        f"{where}.captions",
                        (
                            f"has no captions in {', '.join(missing)}: a recording needs a WebVTT "
                            "caption file for every language "
                            f"the course offers {list(course.languages)}, e.g. captions = {{ "
                            + ", ".join(
                                f'{language} = "captions.{language}.vtt"'
                                for language in course.languages
                            )
                            + " }"
                        ),
                    )
                )
            for language in step.transcript:
                if language not in course.languages:
                    problems.append(
                        (
                            f"{where}.transcript",
                            f"language {language!r} is not listed in languages {list(course.languages)}",
                        )
                    )
        if isinstance(step, AttendStep) and step.paths != ("live",):
            problems.append(
                (
                    f"{where}.paths",
                    'an "attend" step belongs to the live path only: paths = ["live"]',
                )
            )
    for path in course.paths:
        steps = course.steps_for(path)
        if not steps:
            problems.append(("paths", f"path {path!r} has no steps"))
        if path == "live" and not any(isinstance(s, AttendStep) for s in steps):
            problems.append(("steps", 'the live path needs an "attend" step'))
        if path == "recording" and not any(isinstance(s, WatchStep) for s in steps):
            problems.append(("steps", 'the recording path needs a "watch" step'))
    if "live" in course.paths and course.certificate is None:
        problems.append(
            (
                "certificate",
                "a course with a live path needs [certificate] hours and minimum_minutes",
            )
        )
    if "live" not in course.paths and course.certificate is not None:
        problems.append(
            (
                "certificate",
                "only live attendance earns a certificate, and this course has no live path",
            )
        )
    problems.extend(credit_problems(course.credit, course.paths))
    problems.extend(
        evaluation_problems(
            course.evaluation, {lang: t.evaluation for lang, t in course.translations.items()}
        )
    )
    if course.certificate and course.certificate.minimum_minutes > course.minutes:
        problems.append(
            (
                "certificate.minimum_minutes",
                f"is more than the course's length ({course.minutes} minutes)",
            )
        )
    for language in course.languages[1:]:
        if language not in course.translations:
            problems.append(
                (
                    "languages",
                    f"lists {language!r}, but there is no [translations.{language}] table",
                )
            )
    for language, translation in course.translations.items():
        where = f"translations.{language}"
        if language not in course.languages:
            problems.append(
                (
                    where,
                    f"language {language!r} is not listed in languages {list(course.languages)}",
                )
            )
        if translation.outcomes is not None and len(translation.outcomes) != len(course.outcomes):
            problems.append(
                (
                    f"{where}.outcomes",
                    f"has {len(translation.outcomes)} outcomes, the course has {len(course.outcomes)}",
                )
            )
        if translation.topics is not None and len(translation.topics) != len(course.topics):
            problems.append(
                (
                    f"{where}.topics",
                    f"has {len(translation.topics)} topics, the course has {len(course.topics)}",
                )
            )
        for step_id, step_translation in translation.steps.items():
            step = course.step(step_id)
            if step is None:
                problems.append((f"{where}.steps.{step_id}", "no step has this id"))
                continue
            for field in step_translation.model_fields_set:
                if field not in type(step).translatable:
                    problems.append(
                        (
                            f"{where}.steps.{step_id}.{field}",
                            f"a {step.kind!r} step has no translatable {field!r}",
                        )
                    )
    return problems


def consistency_warnings(course: CourseDefinition) -> list[tuple[str, str]]:
    """What a course can be published without but should not be, as (field, message) pairs."""
    warnings: list[tuple[str, str]] = []
    for index, step in enumerate(course.steps):
        if isinstance(step, WatchStep) and not (
            step.described_video or step.transcript or step.captions_describe_visuals
        ):
            warnings.append(
                (
                    f"steps[{index}]",
                    (
                        "has no audio description: add described_video (a version with the visuals described), or a "
                        "transcript document that describes what is shown, or set captions_describe_visuals = true if "
                        "the captions already say everything the video shows"
                    ),
                )
            )
    return warnings
