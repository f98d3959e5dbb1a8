"""The Spanish catalog is complete and current, and no user-facing string escapes gettext."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from jinja2 import Environment

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "lms"
TRANSLATIONS = PACKAGE / "translations"
LANGUAGES = ["es"]


def extracted_messages() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"trimmed": "true"}}
    keywords = {
        "_": None,
        "_l": None,
        "N_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "lazy_gettext": None,
    }
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, options, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    return extracted_messages()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_not_fuzzy(messages, language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "lms.po", "rb") as handle:
        catalog = read_po(handle)
    missing, empty, fuzzy = [], [], []
    for message_id in sorted(messages):
        entry = catalog.get(message_id)
        if entry is None:
            missing.append(message_id)
        elif entry.fuzzy:
            fuzzy.append(message_id)
        elif not (all(entry.string) if isinstance(entry.string, tuple) else entry.string):
            empty.append(message_id)
    assert not missing, f"not in {language}/lms.po (run `make translations`): {missing[:20]}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy[:20]}"
    assert not empty, f"untranslated in {language}: {empty[:20]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_the_po_file(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"

    def as_key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    with open(folder / "lms.po", "rb") as handle:
        po = {as_key(m.id): as_key(m.string) for m in read_po(handle) if m.id and not m.fuzzy}
    with open(folder / "lms.mo", "rb") as handle:
        mo = {as_key(m.id): as_key(m.string) for m in read_mo(handle) if m.id}
    assert po == mo, "lms.mo is stale: run `flask --app lms lms translations compile`"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "lms.po", "rb") as handle:
        catalog = read_po(handle)
    pattern = re.compile(r"%\((\w+)\)s")
    for entry in catalog:
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = set(pattern.findall(ids[-1]))
        for translated in strings:
            assert set(pattern.findall(translated)) <= expected | {"num"}, entry.id
            assert expected - {"num"} <= set(pattern.findall(translated)), entry.id


# -- strings that skip gettext ------------------------------------------------------------------

VISIBLE_ATTRIBUTES = re.compile(r'\b(aria-label|title|placeholder|alt|aria-description)="([^"]*)"')
LETTERS = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
# Words that are the same in every language the engine ships (names, codes).
ALLOWED_TEXT = {"Español", "English", "WEBVTT", "×", "·"}


def untranslated_template_text(source: str) -> list[tuple[int, str]]:
    """Text in a template's HTML that is not inside a Jinja expression (so not translatable).

    Follows whether each piece of literal text is inside a tag (where only visible attributes
    such as aria-label count) or between tags (where every word counts).
    """
    env = Environment(extensions=["jinja2.ext.i18n"])
    problems: list[tuple[int, str]] = []
    in_tag = False
    for lineno, token_type, value in env.lex(source):
        if token_type != "data":
            continue
        value = re.sub(r"<!--.*?-->", " ", value, flags=re.S)
        position = 0
        while position < len(value):
            if in_tag:
                end = value.find(">", position)
                chunk = value[position:] if end < 0 else value[position:end]
                problems += [
                    (lineno, m.group(0))
                    for m in VISIBLE_ATTRIBUTES.finditer(chunk)
                    if LETTERS.search(m.group(2))
                ]
                if end < 0:
                    break
                in_tag, position = False, end + 1
            else:
                end = value.find("<", position)
                chunk = value[position:] if end < 0 else value[position:end]
                chunk = re.sub(r"&\w+;|&#\d+;", " ", chunk)
                # Words shaped like name="..." are attributes a macro emits, not prose.
                problems += [
                    (lineno, w)
                    for w in chunk.split()
                    if LETTERS.search(w)
                    and w.strip(".,:;()") not in ALLOWED_TEXT
                    and not re.match(r'^[\w-]+="', w)
                ]
                if end < 0:
                    break
                in_tag, position = True, end + 1
    return problems


def test_templates_mark_every_visible_string():
    problems = []
    for template in sorted((PACKAGE / "templates").rglob("*.html")):
        for lineno, text in untranslated_template_text(template.read_text(encoding="utf-8")):
            problems.append(f"{template.relative_to(REPO)}:{lineno}: {text}")
    assert problems == [], "visible text outside _():\n" + "\n".join(problems)


# WTForms fields ("StringField"...); pydantic's bare Field() describes the course schema for authors.
FIELD_CLASSES = re.compile(r"\w+Field$")
USER_FACING_CALLS = {"flash", "ValidationError", "StopValidation"}


def untranslated_python_strings(source: str) -> list[tuple[int, str]]:
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = (
            node.func.id
            if isinstance(node.func, ast.Name)
            else node.func.attr
            if isinstance(node.func, ast.Attribute)
            else ""
        )
        if not (name in USER_FACING_CALLS or FIELD_CLASSES.fullmatch(name)):
            continue
        candidates = node.args[:1] + [
            kw.value for kw in node.keywords if kw.arg in ("label", "description", "message")
        ]
        for arg in candidates:
            if (
                isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and LETTERS.search(arg.value)
            ):
                problems.append((node.lineno, arg.value))
            if isinstance(arg, ast.JoinedStr):
                problems.append((node.lineno, "f-string"))
    return problems


def test_python_marks_every_message_shown_to_people():
    problems = []
    for module in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in module.parts:
            continue
        for lineno, text in untranslated_python_strings(module.read_text(encoding="utf-8")):
            problems.append(f"{module.relative_to(REPO)}:{lineno}: {text!r}")
    assert problems == [], "user-facing strings outside gettext:\n" + "\n".join(problems)


def test_the_checks_catch_what_they_should():
    assert untranslated_template_text('<p>Hello</p>{{ _("Fine") }}<a title="Open">x</a>') == [
        (1, "Hello"),
        (1, 'title="Open"'),
    ]
    assert untranslated_python_strings(
        'flash("Saved")\nStringField(_l("Name"))\nflash(_("ok"))'
    ) == [(1, "Saved")]


def test_spanish_pages_render_spanish(client):
    html = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Catálogo de cursos" in html
    assert "Course catalog" not in html
