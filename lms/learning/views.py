"""The learner's pages: starting a course, the course player, reflections, My learning.

Every enrollment page and JSON endpoint answers 404 to anyone but the enrollment's learner
(``services.get_enrollment_for``). JSON POSTs carry the CSRF token in ``X-CSRFToken``.

Longer than most modules (about 520 lines) because it is one blueprint, ``lms_learning``: a
second module of routes would register on the blueprint declared here and so import this module
back, and the player's pages and JSON endpoints share its enrollment lookups and the reflection
form's own CSRF handling. The work behind the pages is in the services, the dashboard and
``lms.accounts.data_export``.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.security import safe_join

from lms import caching
from lms.accounts import services as accounts
from lms.accounts.data_export import export_user_data
from lms.courses.definitions import AttendStep, ReadStep, ReflectStep, WatchStep
from lms.courses.presentation import path_label, register_course_panel
from lms.db import commit_if_open
from lms.downloads import as_download, name_part
from lms.i18n import LANGUAGE_NAMES, _, current_locale, domain
from lms.learning import dashboard as my_learning
from lms.learning import services
from lms.learning.forms import DeleteAccountForm, ReflectionForm, StartForm
from lms.learning.models import EnrollmentStatus, ReflectionStatus, StepState
from lms.learning.progress import count_words
from lms.markdown import render_markdown
from lms.routing import AreaBlueprint
from lms.web.caching import kept, kept_page
from lms.web.guards import request_json

blueprint = AreaBlueprint("lms_learning", __name__)

MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".vtt": "text/vtt",
}
MAX_PROGRESS_BYTES = 32 * 1024


@blueprint.record_once
def _exempt_reflection_form(state) -> None:
    # The reflection form runs the app's CSRF check itself (``_refused_by_csrf``), so that an
    # expired token re-renders the form with everything typed instead of an error page.
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(reflection)


def _refused_by_csrf() -> bool:
    """Whether the request fails the checks every other POST gets from the app's CSRFProtect
    before its view runs: the token, and over HTTPS a Referer from this site."""
    csrf = current_app.extensions.get("csrf")
    if csrf is None or not (
        current_app.config["WTF_CSRF_ENABLED"] and current_app.config["WTF_CSRF_CHECK_DEFAULT"]
    ):
        return False
    try:
        csrf.protect()
    except CSRFError:
        return True
    return False


@blueprint.record_once
def _add_course_panel(state) -> None:
    register_course_panel(state.app, start_panel, of_kept_parts=True)


# --- starting a course ----------------------------------------------------------------------


def start_panel(course) -> Markup:
    """The course page's "Take this course" section: start or continue a self-directed path."""
    paths = services.startable_paths(course)
    if not paths:
        return Markup("")
    existing = {}
    if current_user.is_authenticated:
        for enrollment in services.enrollments_for_course(current_user, course):
            if (
                enrollment.cohort_id is None
                and enrollment.path.value in paths
                and enrollment.status is not EnrollmentStatus.withdrawn
            ):
                existing[enrollment.path.value] = enrollment

    def render() -> str:
        return render_template(
            "lms/learning/course_panel.html",
            course=course,
            paths=paths,
            existing=existing,
            path_label=path_label,
            summarize=lambda enrollment: services.summarize(enrollment, current_locale(), course),
        )

    if current_user.is_authenticated:
        caching.built_for_this_request_only()  # the person's own enrollments, read live
        return Markup(render())
    # Signed out, the panel is the course file's paths with sign-in links: the same for everyone.
    return kept("start-panel", (course.slug,), lambda: Markup(render()))


@blueprint.post("/courses/<slug>/start")
@login_required
def start(slug: str):
    course = services.catalog_course(slug)
    if course is None:
        abort(404)
    form = StartForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        enrollment = services.start_enrollment(current_user, course, form.path.data)
    except services.LearningError as error:
        flash(str(error), "error")
        return redirect(url_for("lms_courses.course", slug=slug), code=303)
    return redirect(url_for("lms_learning.enrollment", enrollment_id=enrollment.id), code=303)


@blueprint.get("/courses/<slug>/media/<filename>")
def course_media(slug: str, filename: str):
    """A recording or caption file the course definition refers to (HTTP Range supported)."""
    course = services.catalog_course(slug)
    if course is None:
        abort(404)
    allowed = set()
    for step in course.definition.steps:
        if isinstance(step, WatchStep):
            allowed.update(step.captions.values())
            for video in (step.video, step.described_video):
                if video and not video.startswith(("https://", "http://")):
                    allowed.add(video)
    mimetype = MEDIA_TYPES.get(Path(filename).suffix.lower())
    path = safe_join(str(course.folder), filename)
    if filename not in allowed or mimetype is None or path is None or not Path(path).is_file():
        abort(404)
    return send_file(path, mimetype=mimetype, conditional=True, max_age=3600)


# --- the course player ----------------------------------------------------------------------


def _enrollment_and_course(enrollment_id: int):
    enrollment = services.get_enrollment_for(current_user, enrollment_id)
    return enrollment, services.course_of(enrollment)


def _step_of_kind(enrollment_id: int, step_id: str, kind: type):
    """The learner's own enrollment, its course and one of its steps of ``kind``, or a 404."""
    enrollment, course = _enrollment_and_course(enrollment_id)
    if course is None:
        abort(404)
    step = services.step_of(enrollment, course, step_id)
    if not isinstance(step, kind):
        abort(404)
    return enrollment, course, step


@blueprint.get("/learn/<lms_id:enrollment_id>")
@login_required
def enrollment(enrollment_id: int):
    enrollment, course = _enrollment_and_course(enrollment_id)
    services.refresh(enrollment, course)  # a changed course file may add or drop steps
    summary = services.summarize(enrollment, current_locale(), course)
    return render_template(
        "lms/learning/enrollment.html",
        summary=summary,
        enrollment=enrollment,
        path_label=path_label,
        StepState=StepState,
    )


@blueprint.get("/learn/<lms_id:enrollment_id>/<step_id>")
@login_required
def step(enrollment_id: int, step_id: str):
    enrollment, course = _enrollment_and_course(enrollment_id)
    if course is None:
        abort(404)
    step = services.step_of(enrollment, course, step_id)
    if isinstance(step, ReadStep):
        services.mark_step_read(enrollment, course, step)
    return _render_step(enrollment, course, step)


def _render_step(
    enrollment,
    course,
    step,
    *,
    form: ReflectionForm | None = None,
    message: str = "",
    status: int = 200,
):
    locale = current_locale()
    summary = services.summarize(enrollment, locale, course)
    view = next(v for v in summary.steps if v.step.id == step.id)
    index = summary.steps.index(view)
    context = {
        "summary": summary,
        "enrollment": enrollment,
        "course": course,
        "step": step,
        "view": view,
        "previous": summary.steps[index - 1] if index > 0 else None,
        "following": summary.steps[index + 1] if index + 1 < len(summary.steps) else None,
        "content_language": course.content_language(locale),
        "path_label": path_label,
        "StepState": StepState,
        "message": message,
        "word_count": count_words,
    }
    if isinstance(step, WatchStep):
        context.update(_watch_context(enrollment, course, step, locale))
    elif isinstance(step, ReadStep):
        context["body_html"] = render_markdown(course.step_text(step.id, "body", locale))
    elif isinstance(step, ReflectStep):
        reflection = services.reflection_for(enrollment, step)
        prompt = str(course.step_text(step.id, "prompt", locale))
        if form is None:
            form = ReflectionForm(
                prompt=prompt,
                data={
                    "body": reflection.body if reflection else "",
                    "shared": reflection.shared_with_facilitator if reflection else False,
                },
            )
        else:
            form.body.label.text = prompt
        translations = domain.get_translations()
        context.update(
            word_templates=tuple(
                _plural_template(translations.ngettext("%(num)s word", "%(num)s words", count))
                for count in (1, 2)
            )
        )
        context.update(
            reflection=reflection,
            form=form,
            prompt=prompt,
            ReflectionStatus=ReflectionStatus,
            max_chars=current_app.config["LMS_REFLECTION_MAX_CHARS"],
        )
    elif isinstance(step, AttendStep):
        pass
    return render_template("lms/learning/step.html", **context), status


def _plural_template(translated: str) -> str:
    """A plural form with ``{n}`` in place of the number, for a script to fill in."""
    return translated.replace("%(num)s", "{n}")


def _watch_context(enrollment, course, step: WatchStep, locale: str) -> dict:
    if step.video.startswith(("https://", "http://")):
        video_src = step.video
    else:
        video_src = url_for("lms_learning.course_media", slug=course.slug, filename=step.video)
    languages = list(step.captions)
    default_language = locale if locale in step.captions else (languages[0] if languages else None)
    tracks = [
        {
            "lang": lang,
            "src": url_for("lms_learning.course_media", slug=course.slug, filename=name),
            "label": LANGUAGE_NAMES.get(lang, lang),
            "default": lang == default_language,
        }
        for lang, name in step.captions.items()
    ]
    progress = services.watch_progress(enrollment, step)
    fraction = progress.fraction if progress else 0.0
    described_src = None
    if step.described_video:
        described_src = (
            step.described_video
            if step.described_video.startswith("https://")
            else url_for(
                "lms_learning.course_media", slug=course.slug, filename=step.described_video
            )
        )
    return {
        **_transcript_context(course, step, locale, default_language),
        "described_src": described_src,
        "video_src": video_src,
        "tracks": tracks,
        "fraction": fraction,
        "percent": int(fraction * 100 + 1e-9),
        "required_percent": int(round(step.required_fraction * 100)),
        "progress_url": url_for(
            "lms_learning.progress", enrollment_id=enrollment.id, step_id=step.id
        ),
    }


def _clock(seconds: float) -> str:
    """A cue's start as a player shows it: 1:05, or 1:02:05 past the hour."""
    whole = int(seconds)
    hours, minutes, rest = whole // 3600, whole // 60 % 60, whole % 60
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def _transcript_context(course, step: WatchStep, locale: str, caption_language: str | None) -> dict:
    """The transcript under the player: the course's own document in the page's language when it
    names one, else the timed passages of the captions in that language (or the default track's)."""
    document_language = locale if locale in step.transcript else next(iter(step.transcript), None)
    if document_language is not None:
        return {
            "transcript_lang": document_language,
            "transcript_html": render_markdown(
                course.texts.get(step.transcript[document_language], "")
            ),
            "cues": [],
        }
    cues = (
        [
            {
                "start": cue.start,
                "end": cue.end,
                "text": cue.text,
                "clock": _clock(cue.start),
                "offset": f"{cue.start:g}",
            }
            for cue in course.caption_cues(step, caption_language)
        ]
        if caption_language
        else []
    )
    translations = domain.get_translations()
    return {
        "transcript_lang": caption_language,
        "transcript_html": None,
        "cues": cues,
        # Called as ``ngettext`` so that extraction finds the message (a helper's arguments it would not).
        "match_templates": tuple(
            _plural_template(
                translations.ngettext("%(num)s passage matches.", "%(num)s passages match.", count)
            )
            for count in (1, 2)
        ),
    }


def _json_body(limit: int) -> dict:
    # A body without a length is still capped by MAX_CONTENT_LENGTH (Werkzeug enforces it).
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    data = request_json()
    if not isinstance(data, dict):
        abort(400)
    return data


@blueprint.post("/learn/<lms_id:enrollment_id>/<step_id>/progress")
@login_required
def progress(enrollment_id: int, step_id: str):
    """Played segments of a recording: ``{"segments": [[start, end], ...], "duration": seconds}``."""
    enrollment, course, step = _step_of_kind(enrollment_id, step_id, WatchStep)
    data = _json_body(MAX_PROGRESS_BYTES)
    try:
        row = services.record_played_segments(
            enrollment, course, step, data.get("segments"), data.get("duration")
        )
    except services.LearningError as error:
        return {"error": 400, "message": str(error)}, 400
    return {
        "fraction": round(row.fraction, 4),
        "percent": int(row.fraction * 100 + 1e-9),
        "required_fraction": step.required_fraction,
        "done": row.state is StepState.done,
        "completed": enrollment.status is EnrollmentStatus.completed,
    }


@blueprint.post("/learn/<lms_id:enrollment_id>/<step_id>/reflection")
@login_required
def reflection(enrollment_id: int, step_id: str):
    """The reflection form (works without JavaScript): "Save draft" or "Submit"."""
    refused = _refused_by_csrf()  # first, as the app's own check would be
    enrollment, course, step = _step_of_kind(enrollment_id, step_id, ReflectStep)
    form = ReflectionForm()
    if refused or not form.validate_on_submit():
        csrf_field = getattr(form, "csrf_token", None)
        if refused or (csrf_field is not None and csrf_field.errors):
            # Nothing is saved from a request whose token failed; the page keeps what was typed.
            return _render_step(
                enrollment,
                course,
                step,
                form=form,
                message=_(
                    "Your session expired before the reflection was sent, so it was not saved. "
                    "Everything you typed is still below: press the button again."
                ),
                status=400,
            )
        return _render_step(enrollment, course, step, form=form, status=422)
    body = form.body.data or ""
    try:
        if form.submit.data:
            services.submit_reflection(enrollment, course, step, body, form.shared.data)
            flash(_("Your reflection is submitted."), "success")
        else:
            _saved_reflection, saved = services.save_reflection_draft(
                enrollment, step, body, form.shared.data
            )
            if saved:
                flash(_("Your draft is saved. It does not count until you submit it."), "success")
            else:
                flash(
                    _("This reflection is already submitted; to change it, press Submit."), "info"
                )
    except services.TooFewWords as error:
        form.body.errors = [str(error)]
        commit_if_open()  # the draft is kept even though the submit is refused
        return _render_step(enrollment, course, step, form=form, status=422)
    except services.LearningError as error:
        form.body.errors = [str(error)]
        return _render_step(enrollment, course, step, form=form, status=422)
    return redirect(
        url_for("lms_learning.step", enrollment_id=enrollment.id, step_id=step.id), code=303
    )


@blueprint.post("/learn/<lms_id:enrollment_id>/<step_id>/reflection/draft")
@login_required
def reflection_draft(enrollment_id: int, step_id: str):
    """Autosave: ``{"body": "..."}``; a submitted reflection is left as submitted."""
    enrollment, course, step = _step_of_kind(enrollment_id, step_id, ReflectStep)
    data = _json_body(current_app.config["LMS_REFLECTION_MAX_CHARS"] * 6 + 1024)
    try:
        reflection, saved = services.save_reflection_draft(enrollment, step, data.get("body"))
    except services.LearningError as error:
        return {"error": 400, "message": str(error)}, 400
    return {
        "saved": saved,
        "status": reflection.status.value if reflection else None,
        "words": reflection.word_count if reflection else 0,
        "saved_at": reflection.updated_at.isoformat() if reflection else None,
    }


# --- My learning ----------------------------------------------------------------------------


@blueprint.get("/me")
@login_required
def dashboard():
    def render() -> Markup:
        data = my_learning.dashboard_for(current_user, current_locale())
        return Markup(
            render_template(
                "lms/learning/_dashboard_records.html",
                data=data,
                path_label=path_label,
                ReflectionStatus=ReflectionStatus,
                paths=my_learning.ordered_paths(),
            )
        )

    person = current_user._get_current_object()

    def page() -> str:
        records = kept("dashboard", (person.id,), render, versions=[caching.person(person.id)])
        return render_template("lms/learning/dashboard.html", records=records)

    # Only the evaluations to answer and the records below the header are read: both kept.
    return kept_page("dashboard-page", (), page)


@blueprint.get("/me/export.json")
@login_required
def export_data():
    payload = json.dumps(export_user_data(current_user), ensure_ascii=False, indent=2)
    response = Response(payload, mimetype="application/json")
    return as_download(
        response,
        "-".join(filter(None, ("my-learning-data", name_part(current_user.display_name))))
        + ".json",
    )


@blueprint.route("/me/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    certificates = my_learning.certificates_of_user(current_user)
    if form.validate_on_submit():
        try:
            accounts.delete_account(current_user, form.password.data)
        except accounts.AccountError as error:
            form.password.errors.append(str(error))
        else:
            logout_user()
            flash(_("Your account and your records have been deleted."), "success")
            return redirect(url_for("lms_courses.catalog"), code=303)
    status = 200 if request.method == "GET" or not form.errors else 422
    return render_template(
        "lms/learning/delete_account.html", form=form, certificates=certificates
    ), status
