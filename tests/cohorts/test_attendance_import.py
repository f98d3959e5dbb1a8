"""The participant report parser and matcher: pure functions, bytes in, rows and problems out."""

from __future__ import annotations

import codecs

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.cohorts.attendance_import import (
    RosterEntry,
    match_rows,
    parse_minutes,
    parse_participant_report,
)

ZOOM_A = "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"
ZOOM_B = "Name (original name),Email,Join time,Leave time,Duration (minutes)\n"
LIMITS = {"max_bytes": 100_000, "max_rows": 100}


def parse(text: str | bytes, **limits):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_participant_report(data, **{**LIMITS, **limits})


def test_first_header_set():
    result = parse(ZOOM_A + "Ana,ana@example.org,1:00,2:00,32,No\n")
    assert result.ok and [(r.line, r.name, r.email, r.minutes) for r in result.rows] == [
        (2, "Ana", "ana@example.org", 32)
    ]


def test_second_header_set_and_unknown_columns_ignored():
    text = (
        "Department,"
        + ZOOM_B.replace("\n", ",Attentiveness Score\n")
        + "Ops,Ben,BEN@Example.org,1:00,2:00,15,99%\n"
    )
    result = parse(text)
    assert result.ok and result.rows[0].email == "ben@example.org" and result.rows[0].minutes == 15


def test_utf8_bom_and_utf16_by_bom():
    text = ZOOM_A + "José Núñez,jose@example.org,,,40,No\n"
    for data in (
        codecs.BOM_UTF8 + text.encode("utf-8"),
        codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    ):
        result = parse(data)
        assert result.ok, result.fatal
        assert result.rows[0].name == "José Núñez" and result.rows[0].minutes == 40


def test_not_utf8_is_a_clear_error():
    result = parse((ZOOM_A + "Jos\xe9,j@example.org,,,4,No\n").encode("latin-1"))
    assert result.fatal is not None and "encoding" in result.fatal.message


def test_missing_required_columns():
    assert "duration" in parse("Name,Email,Join Time\nAna,a@example.org,1\n").fatal.message
    assert "email or name" in parse("Join Time,Duration (Minutes)\n1,30\n").fatal.message
    assert parse("hello,world\n1,2\n").fatal is not None


def test_limits():
    body = ZOOM_A + "".join(f"P{i},p{i}@example.org,,,5,No\n" for i in range(5))
    assert (
        "more than 4 rows"
        in parse(body, max_rows=4).fatal.message % parse(body, max_rows=4).fatal.params
    )
    assert parse(body, max_bytes=50).fatal.params == {"limit": 50}
    assert parse(b"").fatal.message == "The file is empty."


def test_rejected_rows_have_line_numbers_and_reasons():
    text = (
        ZOOM_A
        + "Ana,ana@example.org,,,abc,No\n\n"
        + ",,,,10,No\n"
        + "Ben,not-an-email,,,5,No\n"
        + '"Multi\nline",c@example.org,,,-3,No\n'
        + "Cy,cy@example.org,,,12.5,No\n"
    )
    result = parse(text)
    problems = {p.line: p.message for p in result.rejected}
    assert set(problems) == {2, 4, 5, 6}
    assert (
        "not a duration" in problems[2]
        and "No name" in problems[4]
        and "not an email" in problems[5]
        and "not a duration" in problems[6]
    )
    assert [(r.line, r.minutes) for r in result.rows] == [(8, 13)]


def test_meeting_summary_above_participants():
    text = (
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\n"
        "123,Dialogue,1:00,2:00,host@example.org,61,3\n\n"
        + ZOOM_A
        + "Ana,ana@example.org,,,30,No\n"
    )
    result = parse(text)
    assert result.ok and [r.email for r in result.rows] == ["ana@example.org"]


def test_parse_minutes():
    assert (
        parse_minutes("12") == 12
        and parse_minutes("12.5") == 13
        and parse_minutes(" 1,000 ") == 1000
    )
    assert (
        parse_minutes("") is None
        and parse_minutes("NaN") is None
        and parse_minutes("1e9") is None
        and parse_minutes("-1") is None
    )


def test_matching_by_email_then_unique_name_and_rejoins_add_up_to_the_cap():
    roster = [
        RosterEntry(1, "ana@example.org", "Ana Learner"),
        RosterEntry(2, "ben@example.org", "Ben Learner"),
        RosterEntry(3, "c1@example.org", "Sam Lee"),
        RosterEntry(4, "c2@example.org", "Sam Lee"),
    ]
    text = ZOOM_A + (
        "Ana,ANA@example.org,,,40,No\n"
        "Ana again,ana@example.org,,,30,No\n"
        "Ben Learner,,,,20,Yes\n"
        "Sam Lee,,,,10,Yes\n"
        "Nobody,nobody@example.org,,,10,Yes\n"
        "Guest (Ben Learner),other@example.org,,,5,Yes\n"
    )
    result = match_rows(parse(text).rows, roster, cap_minutes=60)
    assert result.matched[1].minutes == 60 and result.matched[1].lines == [2, 3]  # 70 capped at 60
    assert result.matched[2].minutes == 25 and result.matched[2].matched_by == "name"
    assert [u.row.line for u in result.ambiguous] == [5]
    assert [u.row.line for u in result.unmatched] == [6]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(data):
    result = parse_participant_report(data, max_bytes=2000, max_rows=50)
    assert result.ok or result.fatal is not None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.text(max_size=20), max_size=7), max_size=30),
    st.sampled_from([ZOOM_A, ZOOM_B]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_random_rows_under_a_real_header_never_raise(rows, header, encoding):
    text = header + "\n".join(",".join(cells) for cells in rows)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    result = parse_participant_report(data, max_bytes=100_000, max_rows=20)
    if result.ok:
        match_rows(result.rows, [RosterEntry(1, "a@example.org", "A")], cap_minutes=60)
