"""Records: the transcript PDF (``lms.records.pdf.render_transcript``) against a bare ReportLab
document with the same lines, and the PD credit export (``flask lms reports credits``) of every
completed enrollment against ``sqlite3 -csv`` running an equivalent join on the same file."""

from __future__ import annotations

import csv
import io
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import REPO_DIR, VENV_BIN, Row, failed, log, run_child, skipped, verdict
from bench.export import _lms_env, _read_through

GROUP = "records"
TRANSCRIPT_ROWS = 50
SAMPLES = 40
MAX_PDF_RATIO = 15.0
MAX_EXPORT_RATIO = 3.0
APP_TIMEOUT = 300.0

# Completed enrollments with the credit of their course and path: what the export computes
# (the credit CASE comes from the course files in courses/, kept in step by hand here).
BASELINE_SQL = """
SELECT u.display_name, u.email, u.affiliate, c.title, c.slug, e.path, e.completed_at,
       CASE WHEN e.path = 'recording' THEN 'Informational and ungraded: no credit' ELSE 'Clock hours' END,
       CASE WHEN c.slug = 'esp-racial-justice-dialogue' AND e.path = 'live' THEN 1.0
            WHEN c.slug = 'social-justice-training' AND e.path = 'live' THEN 2.5
            WHEN c.slug = 'community-partnerships' AND e.path = 'self_paced' THEN 0.5 ELSE 0 END,
       'National Education Association', co.title, cert.code,
       CASE WHEN e.path <> 'live' THEN 'not available' WHEN cert.id IS NULL THEN 'none'
            WHEN cert.revoked_at IS NULL THEN 'valid' ELSE 'revoked' END
  FROM lms_enrollment e
  JOIN lms_user u ON u.id = e.user_id
  JOIN lms_course c ON c.id = e.course_id
  LEFT JOIN lms_cohort co ON co.id = e.cohort_id
  LEFT JOIN lms_certificate cert ON cert.id = (SELECT max(id) FROM lms_certificate c2 WHERE c2.enrollment_id = e.id)
 WHERE e.status = 'completed'
 ORDER BY e.id;
"""


def _document(pdf: Any, index: int) -> Any:
    rows = [
        (
            f"Sep {1 + n % 28}, 2026",
            "A Dialogue with ESPs about Racial Justice in Education"
            if n % 2
            else "Community Partnerships",
            "Live session" if n % 3 == 0 else "Self-paced",
            "1 clock hour",
            f"ABCD-EFGH-JKMN-{n:04d} (Valid)",
        )
        for n in range(TRANSCRIPT_ROWS)
    ]
    return pdf.TranscriptDocument(
        organisation="National Education Association",
        heading="Professional learning transcript",
        learner_name=f"José Ñúñez {index}",
        period="Period: July 1, 2026 to June 30, 2027",
        issued="Issued December 1, 2026",
        headers=("Completed on", "Course", "Path", "Credit", "Certificate"),
        rows=rows,
        totals_heading="Total credit",
        totals=["Clock hours: 50 clock hours"],
        empty="",
        code=f"TRNS-CRPT-0000-{index:04d}",
        verify_text=f"Verify at https://learn.example.org/verify/transcripts/TRNS-CRPT-0000-{index:04d}",
        verify_url=f"https://learn.example.org/verify/transcripts/TRNS-CRPT-0000-{index:04d}",
        page_label="Page %(number)s",
    )


def bare_document(document: Any) -> bytes:
    """The same lines in Helvetica, one per row, no layout, shaping or QR: the baseline."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, pageCompression=1, invariant=1)
    lines = [
        document.organisation,
        document.heading,
        document.learner_name,
        document.period,
        document.issued,
        "  ".join(document.headers),
        *("  ".join(row) for row in document.rows),
        document.totals_heading,
        *document.totals,
        document.verify_text,
    ]
    y = 740.0
    for line in lines:
        if y < 60:
            canvas.showPage()
            y = 740.0
        canvas.setFont("Helvetica", 9)
        canvas.drawString(54, y, line)
        y -= 14
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _transcript_rows() -> list[Row]:
    name = f"transcript PDF ({TRANSCRIPT_ROWS} completions), CPU"
    target = f"<= {MAX_PDF_RATIO:g} x bare page"
    try:
        from lms.records import pdf
    except ImportError as error:
        return [skipped(GROUP, name, f"lms.records.pdf cannot be imported ({error})", target)]
    try:
        pdf.render_transcript(_document(pdf, 0))  # fonts registered once per process
        mine, bare = [], []
        for index in range(1, SAMPLES + 1):
            document = _document(pdf, index)
            cpu = time.process_time()
            pdf.render_transcript(document)
            mine.append((time.process_time() - cpu) * 1000)
            cpu = time.process_time()
            bare_document(document)
            bare.append((time.process_time() - cpu) * 1000)
        ratio = statistics.median(mine) / statistics.median(bare)
        return [
            Row(
                GROUP,
                name,
                statistics.median(mine),
                "ms",
                statistics.median(bare),
                "bare ReportLab pages, same lines",
                ratio,
                target,
                verdict(ratio <= MAX_PDF_RATIO),
                f"median of {SAMPLES}, interleaved",
                {"cpu_ms": mine, "bare_cpu_ms": bare},
            )
        ]
    except Exception as error:
        return [failed(GROUP, name, f"{type(error).__name__}: {error}", target)]


def _credit_rows(db_file: Path, meta: dict[str, Any], work_dir: Path) -> list[Row]:
    name = "PD credit CSV export time"
    target = f"<= {MAX_EXPORT_RATIO:g} x sqlite3"
    sqlite3 = shutil.which("sqlite3")
    if not sqlite3:
        return [
            Row(
                GROUP,
                name,
                target=target,
                status="fail",
                note="sqlite3 is not installed: apt-get install -y sqlite3 (make bench does it)",
            )
        ]
    env = _lms_env(db_file, work_dir)
    app_out, base_out = work_dir / "credits-app.csv", work_dir / "credits-sqlite3.csv"
    _read_through(db_file)
    log("records: sqlite3 -csv baseline of the credit join")
    base = run_child(
        [sqlite3, "-csv", "-header", "-bail", str(db_file), BASELINE_SQL],
        timeout=APP_TIMEOUT,
        stdout_path=base_out,
    )
    if base.returncode != 0:
        return [
            Row(
                GROUP,
                name,
                target=target,
                status="fail",
                note=f"sqlite3 baseline failed: {base.stderr.strip()[:300]}",
            )
        ]
    log(f"records: the app's PD credit CSV ({meta.get('enrollments', 0):,} enrollments)")
    app = run_child(
        [
            str(VENV_BIN / "flask"),
            "--app",
            "lms",
            "lms",
            "reports",
            "credits",
            "--format",
            "csv",
            "-o",
            str(app_out),
        ],
        env=env,
        timeout=APP_TIMEOUT,
        cwd=REPO_DIR,
    )
    if app.returncode != 0 or app.timed_out:
        return [
            Row(
                GROUP,
                name,
                target=target,
                status="fail",
                note=f"the credit export failed: {app.stderr.strip()[-400:]}",
            )
        ]
    with open(app_out, newline="", encoding="utf-8-sig") as handle:
        app_rows = sum(1 for _ in csv.reader(handle)) - 1
    with open(base_out, newline="", encoding="utf-8", errors="replace") as handle:
        base_rows = sum(1 for _ in csv.reader(handle)) - 1
    ratio = app.seconds / base.seconds
    problems = (
        [] if app_rows == base_rows else [f"the app wrote {app_rows:,} rows, sqlite3 {base_rows:,}"]
    )
    rows = [
        Row(
            GROUP,
            name,
            app.seconds,
            "s",
            base.seconds,
            "sqlite3 -csv, equivalent join",
            ratio,
            target,
            verdict(ratio <= MAX_EXPORT_RATIO and not problems),
            "; ".join(
                [*problems, f"{app_rows:,} completed rows; one process; start-up included in both"]
            ),
            {"rows": app_rows},
        )
    ]
    for path in (app_out, base_out):
        path.unlink(missing_ok=True)
    return rows


def run(db_file: Path, meta: dict[str, Any], work_dir: Path) -> list[Row]:
    return [*_transcript_rows(), *_credit_rows(db_file, meta, work_dir)]
