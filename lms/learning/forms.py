from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from lms.i18n import _l

SELF_DIRECTED_PATHS = ("recording", "self_paced")  # lms.learning.services.SELF_DIRECTED_PATHS


class StartForm(FlaskForm):
    path = HiddenField(validators=[DataRequired(), AnyOf(SELF_DIRECTED_PATHS)])
    submit = SubmitField(_l("Start"))


class ReflectionForm(FlaskForm):
    body = TextAreaField(_l("Your reflection"), render_kw={"rows": 12, "spellcheck": "true"})
    shared = BooleanField(
        _l("Let my facilitator read this reflection"),
        description=_l(
            "Off unless you turn it on. Reflections are yours: only you can read them, unless you "
            "choose to share one with the facilitator of your live session. You can change this "
            "whenever you submit."
        ),
    )
    save_draft = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit"))

    def __init__(self, *args, prompt: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit = current_app.config["LMS_REFLECTION_MAX_CHARS"]
        self.body.validators = [
            Length(max=limit, message=_l("A reflection can be at most %(max)d characters long."))
        ]
        self.body.render_kw = {**(self.body.render_kw or {}), "maxlength": limit}
        if prompt:
            self.body.label.text = prompt


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Type your password to confirm.")), Length(max=200)],
        description=_l("To confirm that it is you who wants your account deleted."),
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Delete my account and my records"))
