"""The shared template macros (lms/macros/): what each renders, for the pages built from them."""

from __future__ import annotations

from flask import Flask, render_template_string
from wtforms import Form, HiddenField, StringField, SubmitField

TABLES = '{% from "lms/macros/tables.html" import data_table, paged_table %}'
FORMS = '{% from "lms/macros/forms.html" import field_form, post_button %}'


def render(app: Flask, source: str, **context: object) -> str:
    with app.test_request_context("/"):
        return render_template_string(source, **context)


def squeeze(html: str) -> str:
    return " ".join(html.split()).replace("> <", "><")


def test_a_table_with_a_caption_id_is_a_focusable_region_named_by_its_caption(app: Flask) -> None:
    html = squeeze(
        render(
            app,
            TABLES
            + '{% call(row) data_table(rows, "People", ["Name", "Email"], caption_id="p-caption") %}'
            "<tr><td>{{ row }}</td></tr>{% endcall %}",
            rows=["a", "b"],
        )
    )
    assert html.startswith(
        '<div class="table-scroll" role="region" aria-labelledby="p-caption" tabindex="0"><table>'
        '<caption id="p-caption">People</caption>'
        '<thead><tr><th scope="col">Name</th><th scope="col">Email</th></tr></thead>'
    )
    assert "<tbody><tr><td>a</td></tr><tr><td>b</td></tr></tbody></table></div>" in html


def test_a_table_without_rows_says_so_across_its_columns_or_stays_empty(app: Flask) -> None:
    source = TABLES + (
        '{% call(row) data_table([], "Courses", ["A", "B", "C"], empty_row=empty, scroll=false) %}'
        "<tr><td>{{ row }}</td></tr>{% endcall %}"
    )
    with_text = squeeze(render(app, source, empty="None yet."))
    assert with_text.startswith("<table><caption>Courses</caption>")  # no region, no box
    assert '<tbody><tr><td colspan="3">None yet.</td></tr></tbody></table>' in with_text
    assert "<tbody></tbody>" in squeeze(render(app, source, empty=None))
    boxed = squeeze(render(app, source.replace("scroll=false", "scroll=true"), empty=None))
    assert boxed.startswith('<div class="table-scroll"><table><caption>Courses</caption>')


def test_a_paged_table_counts_and_says_when_nothing_matches(app: Flask) -> None:
    class Paging:
        number, pages, has_previous, has_next = 1, 1, False, False

    source = TABLES + (
        '{% call(row) paged_table(rows, paging, "lms_admin.people", {}, "2 people", "People", ["Name"],'
        ' "people-caption", "Nobody.") %}<tr><th scope="row">{{ row }}</th></tr>{% endcall %}'
    )
    html = squeeze(render(app, source, rows=["Ana", "Bo"], paging=Paging()))
    assert html.startswith('<p role="status" class="result-count">2 people</p>')
    assert '<tr><th scope="row">Ana</th></tr><tr><th scope="row">Bo</th></tr>' in html
    assert "Nobody." not in html
    empty = squeeze(render(app, source, rows=[], paging=Paging()))
    assert "<table" not in empty and empty.endswith("<p>Nobody.</p>")


def test_a_button_form_posts_its_token_and_values_and_names_what_it_acts_on(app: Flask) -> None:
    html = squeeze(
        render(
            app,
            FORMS
            + '{{ post_button("/go", "Make admin", "link-button", {"role": "admin", "grant": 1},'
            ' about="Ana Ruiz") }}',
        )
    )
    assert html.startswith(
        '<form method="post" action="/go"><input type="hidden" name="csrf_token"'
    )
    assert (
        '<input type="hidden" name="role" value="admin"><input type="hidden" name="grant" value="1">'
        '<button type="submit" class="link-button">Make admin'
        '<span class="visually-hidden"> (Ana Ruiz)</span></button></form>'
    ) in html
    plain = squeeze(render(app, FORMS + '{{ post_button("/go", "Withdraw") }}'))
    assert '<button type="submit" class="button">Withdraw</button>' in plain
    assert "visually-hidden" not in plain


class _SignIn(Form):
    next = HiddenField()
    email = StringField("Email")
    submit = SubmitField("Sign in")


def test_a_field_form_renders_hidden_fields_bare_and_the_others_labelled(app: Flask) -> None:
    form = _SignIn(next="/me")
    form.csrf_token = ""  # a plain WTForms form has none; the macro prints whatever is there
    html = squeeze(
        render(app, FORMS + '{{ field_form(form, [form.next, form.email], "/in") }}', form=form)
    )
    assert html.startswith('<form method="post" action="/in" novalidate class="stack narrow">')
    assert '<input id="next" name="next" type="hidden" value="/me"><div class="field">' in html
    assert '<label for="email">Email</label>' in html
    assert html.endswith(
        '<input class="button" id="submit" name="submit" type="submit" value="Sign in"></form>'
    )


def test_the_macros_speak_the_language_of_the_page_that_uses_them(client) -> None:
    """Imported macros see the page's own-domain gettext: on the Spanish sign-up page the
    form macro's "(required)" is Spanish (imported without the page's context, the macros fell
    back to the host's catalog and showed the English words)."""
    page = client.get("/auth/register", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "(obligatorio)" in page and "(required)" not in page
