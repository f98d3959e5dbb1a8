"""``python -m bench``: every measurement against its same-run baseline, one table, one JSON file.

    python -m bench [--scale 1] [--only pages,export,certificates,sync,records] [--seconds 10] [--strict]
                    [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/lms_bench] [--no-writes]

The pages and the export are measured on the SQLite file, and with ``--database-url`` on
PostgreSQL too (the same generated rows, copied in by ``bench.pgdata``: that database is
EMPTIED). Then, unless ``--no-writes``, the pages again while the mixed load of ``bench.load``
writes to the same database (``bench.load.writing``), each page's ratio beside its read-only one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import CACHE_DIR, RESULTS_DIR, Row, failed, log, machine, print_table

GROUPS = ("pages", "export", "certificates", "sync", "records")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks against same-run baselines (bench/README.md).",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="data size: 1 = 100,000 learners, 1,000,000 enrollments; 0.01 for a quick try",
    )
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated subset of {','.join(GROUPS)}"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="wrk duration per page (default 10)"
    )
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached database")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is missed (skips do not count)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LMS_BENCH_DATABASE_URL"),
        help="also measure pages and export on this PostgreSQL database (EMPTIED, then loaded with the same rows)",
    )
    parser.add_argument(
        "--no-writes",
        action="store_true",
        help="skip the pages measured while the mixed load writes",
    )
    parser.add_argument(
        "--writers",
        type=int,
        default=20,
        help="learners of the mixed load behind the pages (default 20)",
    )
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s): {', '.join(unknown)}")

    started = time.perf_counter()
    started_at = datetime.now(UTC)
    phases: dict[str, float] = {}
    rows: list[Row] = []
    dataset_meta: dict[str, Any] = {}  # what is reported (no password)
    full_meta: dict[str, Any] = {}  # what the measurements need (the shared password too)
    work_dir = CACHE_DIR / "run"
    shutil.rmtree(work_dir, ignore_errors=True)
    (work_dir / "instance").mkdir(parents=True)
    db_copy = work_dir / "lms.sqlite"

    if {"pages", "export", "records"} & set(groups):
        from bench.generate import ensure_dataset

        phase = time.perf_counter()
        dataset = ensure_dataset(args.scale, force=args.regenerate)
        phases["dataset"] = time.perf_counter() - phase
        full_meta = dataset.meta
        dataset_meta = {k: v for k, v in dataset.meta.items() if k != "password"}
        origin = (
            "cached"
            if dataset.meta["cached"]
            else f"generated in {dataset.meta['generation_seconds']:.1f} s"
        )
        log(
            f"dataset: {dataset.path.name} ({origin}), {dataset.meta['learners']:,} learners, "
            f"{dataset.meta['enrollments']:,} enrollments"
        )
        phase = time.perf_counter()
        shutil.copyfile(
            dataset.path, db_copy
        )  # the runs may write (logins); the cache stays pristine
        phases["copy database"] = time.perf_counter() - phase

    def measure(name: str, function: Any, *call_args: Any, **call_kwargs: Any) -> None:
        if name not in groups:
            return
        label = call_kwargs.get("group", name)
        phase = time.perf_counter()
        try:
            rows.extend(function(*call_args, **call_kwargs))
        except Exception as error:
            rows.append(failed(label, "(whole group)", f"{type(error).__name__}: {error}"))
        phases[label] = time.perf_counter() - phase

    from bench import certificates, export, pages, records, sync
    from bench.load import writing

    def writes(database: Path | str) -> Any:
        if args.no_writes:
            return None
        return lambda cache_dir: writing(
            database if isinstance(database, str) else f"sqlite:///{database}",
            work_dir,
            learners=args.writers,
            cache_dir=cache_dir,
        )

    measure(
        "export", export.run, db_copy, full_meta, work_dir
    )  # before the writes: the rows are the generated ones
    measure(
        "pages",
        pages.run,
        db_copy,
        full_meta,
        work_dir,
        seconds=args.seconds,
        writes=writes(db_copy),
    )
    if args.database_url and {"pages", "export"} & set(groups):
        from bench.pgdata import ensure_postgres_dataset, forget

        phase = time.perf_counter()
        try:
            ensure_postgres_dataset(args.scale, args.database_url, force=args.regenerate)
        except Exception as error:
            rows.append(failed("PostgreSQL", "(the data set)", f"{type(error).__name__}: {error}"))
        else:
            phases["PostgreSQL data set"] = time.perf_counter() - phase
            if "export" in groups:
                measure(
                    "export",
                    export.run,
                    args.database_url,
                    full_meta,
                    work_dir,
                    group="export (PostgreSQL)",
                )
            if "pages" in groups:
                forget(
                    args.database_url
                )  # the writers add people and rows: the next run copies the data again
                measure(
                    "pages",
                    pages.run,
                    args.database_url,
                    full_meta,
                    work_dir,
                    seconds=args.seconds,
                    group="pages (PostgreSQL)",
                    writes=writes(args.database_url),
                )
    elif {"pages", "export"} & set(groups):
        rows.append(
            Row(
                "PostgreSQL",
                "pages and export",
                status="skip",
                note="not measured: give --database-url postgresql+psycopg://…/DATABASE (BENCH_ARGS "
                "in make bench), a database of its own",
            )
        )
    measure("certificates", certificates.run)
    measure("sync", sync.run, work_dir)
    measure("records", records.run, db_copy, full_meta, work_dir)

    total = time.perf_counter() - started
    print()
    print(
        f"Benchmarks, {started_at:%Y-%m-%d %H:%M} UTC, scale {args.scale:g}"
        + (
            f" ({dataset_meta['learners']:,} learners, {dataset_meta['enrollments']:,} enrollments)"
            if dataset_meta
            else ""
        )
    )
    print_table(rows)
    print()
    print(
        "time: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phases.items())
        + f"; total {total:.0f} s"
    )

    RESULTS_DIR.mkdir(exist_ok=True)
    report = {
        "started_at": started_at.isoformat(),
        "total_seconds": round(total, 1),
        "phases_seconds": {k: round(v, 1) for k, v in phases.items()},
        "scale": args.scale,
        "groups": groups,
        "machine": machine(),
        "dataset": dataset_meta,
        "results": [row.as_dict() for row in rows],
        "summary": {
            status: sum(1 for r in rows if r.status == status)
            for status in ("pass", "fail", "skip", "info")
        },
    }
    out = RESULTS_DIR / "latest.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"results: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    shutil.rmtree(work_dir, ignore_errors=True)
    if args.strict and any(row.status == "fail" for row in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
