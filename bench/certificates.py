"""Certificates: one PDF with its QR code (``render_certificate``) against a bare ReportLab page
that draws the same text in the same fonts with the same QR code (``render_bare_page``), and a
1,000-certificate ZIP."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import random
import statistics
import time
import zipfile
from typing import Any

from bench.common import Row, failed, log, skipped, verdict

GROUP = "certificates"
# A certificate costs at most this many times its bare page, measured in the same run: a limit in
# milliseconds would pass or fail with the machine and whatever else it runs, not with the code.
MAX_RATIO_TO_BARE = 1.5
ZIP_SECONDS = 10.0
ZIP_COUNT = 1000
SINGLE_COUNT = 300


def _contents(pdf: Any, count: int) -> list[Any]:
    from bench.generate import FIRST_NAMES, LAST_NAMES

    rng = random.Random(7)
    titles = (
        "A Dialogue with ESPs about Racial Justice in Education",
        "Social Justice Training Program",
        "Un diálogo con los ESP sobre la justicia racial en la educación",
    )
    contents = []
    for index in range(count):
        code = "-".join(
            "".join(rng.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4))
            for _ in range(4)
        )
        contents.append(
            pdf.CertificateContent(
                code=code,
                learner_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {index}",
                course_title=rng.choice(titles),
                hours=rng.choice((1.0, 1.5, 2.5)),
                session_date=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(300)),
                facilitator_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                organisation="National Education Association",
                verify_url=f"https://learn.example.org/verify/{code}",
                locale=rng.choice(("en", "en", "es")),
            )
        )
    return contents


_TEXTS = {  # the renderer's msgids when it exports them, else these English strings
    "HEADING": "Certificate of Completion",
    "CERTIFIES_THAT": "This certifies that",
    "COMPLETED_LIVE_SESSION": "completed the live session",
    "HELD_ON": "on %(date)s",
    "FACILITATOR_LABEL": "Facilitator",
    "ISSUED_BY_LABEL": "Issued by",
    "CODE_LABEL": "Certificate code %(code)s",
    "VERIFY_AT": "Verify at %(url)s",
}


def _bare_lines(pdf: Any, content: Any) -> list[str]:
    """The same words the certificate prints, as plain lines (no layout or fitting)."""
    text = {name: str(getattr(pdf, name, default)) for name, default in _TEXTS.items()}

    def fill(name: str, **values: str) -> str:
        try:
            return text[name] % values
        except (KeyError, TypeError, ValueError):
            return _TEXTS[name] % values

    return [
        content.organisation,
        text["HEADING"],
        text["CERTIFIES_THAT"],
        content.learner_name,
        text["COMPLETED_LIVE_SESSION"],
        content.course_title,
        f"{fill('HELD_ON', date=content.session_date.isoformat())}  ·  {content.hours:g} hours",
        f"{text['FACILITATOR_LABEL']}: {content.facilitator_name}",
        f"{text['ISSUED_BY_LABEL']}: {content.organisation}",
        fill("CODE_LABEL", code=content.code),
        fill("VERIFY_AT", url=content.verify_url),
    ]


def _bare_page(pdf: Any, content: Any) -> bytes:
    try:
        return pdf.render_bare_page(_bare_lines(pdf, content), qr_data=content.verify_url)
    except TypeError:  # a renderer whose bare page draws no QR code
        return pdf.render_bare_page(_bare_lines(pdf, content))


def zip_certificates(pdf: Any, contents: list[Any]) -> bytes:
    """The bulk download: one ZIP of PDFs.

    Plug point: when the certificate-issuing code offers its own Flask-free ZIP writer, call it
    here instead, so this measures the app's code path rather than the harness's.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for content in contents:
            archive.writestr(f"certificate-{content.code}.pdf", pdf.render_certificate(content))
    return buffer.getvalue()


def _timed(function: Any, item: Any) -> tuple[float, float]:
    """(wall ms, CPU ms of this process) for one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function(item)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def run() -> list[Row]:
    target = f"<= {MAX_RATIO_TO_BARE:g}x bare"
    try:
        pdf = importlib.import_module("lms.certificates.pdf")
    except ImportError as error:
        return [
            skipped(
                GROUP,
                "one certificate PDF",
                f"lms.certificates.pdf cannot be imported ({error})",
                target,
            ),
            skipped(
                GROUP,
                f"{ZIP_COUNT:,}-certificate ZIP",
                "lms.certificates.pdf cannot be imported",
                f"< {ZIP_SECONDS:g} s",
            ),
        ]
    missing = [
        name
        for name in ("render_certificate", "render_bare_page", "CertificateContent")
        if not hasattr(pdf, name)
    ]
    if missing:
        return [
            skipped(
                GROUP,
                "one certificate PDF",
                f"lms.certificates.pdf has no {', '.join(missing)}",
                target,
            )
        ]

    rows: list[Row] = []
    try:
        contents = _contents(pdf, max(SINGLE_COUNT, ZIP_COUNT))
        started = time.perf_counter()
        first = pdf.render_certificate(contents[0])  # registers the fonts once per process
        first_ms = (time.perf_counter() - started) * 1000
        _bare_page(pdf, contents[0])
        if not first.startswith(b"%PDF"):
            raise RuntimeError("render_certificate did not return a PDF")
        log(f"certificates: {SINGLE_COUNT} certificates and {SINGLE_COUNT} bare pages")
        sample = contents[1 : SINGLE_COUNT + 1]
        # Interleaved, one certificate then its bare page: a burst of load from another process
        # on the shared cores hits both sides alike.
        cert_wall, cert_cpu, bare_wall, bare_cpu = [], [], [], []
        for content in sample:
            wall, cpu = _timed(pdf.render_certificate, content)
            cert_wall.append(wall)
            cert_cpu.append(cpu)
            wall, cpu = _timed(lambda c: _bare_page(pdf, c), content)
            bare_wall.append(wall)
            bare_cpu.append(cpu)
        # The verdict is on CPU time: on the shared 2-core machine, wall time also counts whatever
        # else was scheduled meanwhile. Both are reported.
        cert_median, bare_median = statistics.median(cert_cpu), statistics.median(bare_cpu)
        rows.append(
            Row(
                GROUP,
                "one certificate PDF (with QR), CPU",
                cert_median,
                "ms",
                bare_median,
                "bare ReportLab page, same text, fonts, QR",
                cert_median / bare_median,
                target,
                verdict(cert_median <= MAX_RATIO_TO_BARE * bare_median),
                f"median of {len(sample)}, interleaved with the bare pages; wall median "
                f"{statistics.median(cert_wall):.2f} ms "
                f"(bare {statistics.median(bare_wall):.2f} ms), CPU p95 "
                f"{sorted(cert_cpu)[int(len(cert_cpu) * 0.95)]:.2f} ms; "
                f"first call in a process (font loading) {first_ms:.0f} ms; {len(first) / 1024:.0f} KiB per PDF",
                {
                    "cpu_ms": cert_cpu,
                    "wall_ms": cert_wall,
                    "bare_cpu_ms": bare_cpu,
                    "bare_wall_ms": bare_wall,
                    "first_call_ms": first_ms,
                    "pdf_bytes": len(first),
                },
            )
        )
    except Exception as error:
        return [failed(GROUP, "one certificate PDF", f"{type(error).__name__}: {error}", target)]

    try:
        log(f"certificates: a {ZIP_COUNT:,}-certificate ZIP")
        wall, cpu = time.perf_counter(), time.process_time()
        archive = zip_certificates(pdf, contents[:ZIP_COUNT])
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        for content in contents[:ZIP_COUNT]:
            _bare_page(pdf, content)
        bare_seconds, bare_cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        with zipfile.ZipFile(io.BytesIO(archive)) as check:
            entries = len(check.namelist())
        rows.append(
            Row(
                GROUP,
                f"{ZIP_COUNT:,}-certificate ZIP, CPU",
                cpu_seconds,
                "s",
                bare_cpu_seconds,
                f"{ZIP_COUNT:,} bare pages, no ZIP",
                cpu_seconds / bare_cpu_seconds,
                f"< {ZIP_SECONDS:g} s",
                verdict(cpu_seconds < ZIP_SECONDS and entries == ZIP_COUNT),
                f"wall {seconds:.2f} s (bare pages {bare_seconds:.2f} s); {entries} entries, "
                f"{len(archive) / 1e6:.1f} MB, "
                "deflate level 6 (the harness's zip writer: see zip_certificates)",
                {"wall_seconds": seconds, "bare_wall_seconds": bare_seconds},
            )
        )
    except Exception as error:
        rows.append(
            failed(
                GROUP,
                f"{ZIP_COUNT:,}-certificate ZIP",
                f"{type(error).__name__}: {error}",
                f"< {ZIP_SECONDS:g} s",
            )
        )
    return rows
