"""A course's session evaluation: the ``[evaluation]`` table of a course file. No Flask, no SQLAlchemy.

```toml
[evaluation]
required = true                 # answered before the certificate is issued

[[evaluation.questions]]
id = "useful"
kind = "likert"                 # likert (strongly disagree .. strongly agree), choice, text
prompt = "The session was useful for my work."

[[evaluation.questions]]
id = "format"
kind = "choice"
prompt = "Which format suits you best?"
options = ["Live online", "In person", "Recording"]

[[evaluation.questions]]
id = "comments"
kind = "text"
prompt = "Anything else?"
required = false

[translations.es.evaluation.format]
prompt = "..."
options = ["...", "...", "..."]
```
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Option = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LIKERT_POINTS = 5
MAX_TEXT_ANSWER = 4000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Question(_Strict):
    id: Identifier
    kind: Literal["likert", "choice", "text"]
    prompt: Prompt
    options: tuple[Option, ...] = Field(
        default=(), max_length=20, description="The answers to choose from (choice questions only)."
    )
    required: bool = True

    @model_validator(mode="after")
    def _options_fit_the_kind(self) -> Question:
        if self.kind == "choice" and len(self.options) < 2:
            raise ValueError("a choice question needs options: at least two")
        if self.kind != "choice" and self.options:
            raise ValueError(f"a {self.kind} question has no options (only choice questions do)")
        if len(set(self.options)) != len(self.options):
            raise ValueError("lists an option more than once")
        return self


class EvaluationDefinition(_Strict):
    required: bool = Field(default=False, description="Answered before a certificate is issued.")
    questions: tuple[Question, ...] = Field(min_length=1, max_length=30)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


class QuestionTranslation(_Strict):
    prompt: Prompt | None = None
    options: tuple[Option, ...] | None = None


def evaluation_problems(
    evaluation: EvaluationDefinition | None, translations: dict[str, dict[str, QuestionTranslation]]
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if evaluation is not None:
        ids = [q.id for q in evaluation.questions]
        for index, question_id in enumerate(ids):
            if question_id in ids[:index]:
                problems.append(
                    (
                        f"evaluation.questions[{index}].id",
                        f"question id {question_id!r} is used twice",
                    )
                )
    for language, questions in translations.items():
        for question_id, translation in questions.items():
            where = f"translations.{language}.evaluation.{question_id}"
            question = evaluation.question(question_id) if evaluation else None
            if question is None:
                problems.append((where, "no evaluation question has this id"))
            elif translation.options is not None and len(translation.options) != len(
                question.options
            ):
                problems.append(
                    (
                        f"{where}.options",
                        f"has {len(translation.options)} options, the question has {len(question.options)}",
                    )
                )
    return problems
