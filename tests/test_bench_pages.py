"""``bench/pages.py`` reads wrk's report right: a run whose requests all timed out is no pass."""

from __future__ import annotations

from bench import pages
from bench.pages import PAGES, _page_rows, parse_wrk

HEALTHY = """\
Running 10s test @ http://127.0.0.1:40000/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    11.20ms    1.10ms  30.00ms   90.00%
    Req/Sec   720.00     40.00   800.00     70.00%
  Latency Distribution
     50%   11.00ms
     75%   11.30ms
     90%   11.60ms
     99%   14.10ms
  14280 requests in 10.00s, 100.00MB read
  Socket errors: connect 0, read 14280, write 0, timeout 0
Requests/sec:   1428.00
Transfer/sec:     10.00MB
"""
ALL_TIMED_OUT = """\
Running 10s test @ http://127.0.0.1:40000/admin/reports/completions
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 10.00s, 0.00B read
  Socket errors: connect 0, read 0, write 0, timeout 16
Requests/sec:      0.00
Transfer/sec:       0.00B
"""
BARE = {"rps": 7000.0, "p99_ms": 3.5}


def test_a_healthy_run_is_judged_on_its_ratio_and_p99():
    result = parse_wrk(HEALTHY)
    assert result["rps"] == 1428.0 and result["p99_ms"] == 14.1 and result["requests"] == 14280
    rate, latency = _page_rows(PAGES[0], result, [BARE, BARE])
    assert rate.ratio == 1428.0 / 7000.0 and rate.status == "fail"  # 0.20 < 0.35
    assert latency.status == "pass" and "p50 11.0 ms" in latency.note


def test_a_run_with_every_request_timed_out_fails_its_p99():
    result = parse_wrk(ALL_TIMED_OUT)
    assert result["p99_ms"] == 0.0
    rate, latency = _page_rows(PAGES[3], result, [BARE, BARE])
    assert rate.status == "fail"
    assert latency.status == "fail"
    assert "16 requests timed out" in latency.note and "no request completed" in latency.note


def test_warm_up_runs_until_two_rates_agree(monkeypatch):
    # A kept page's first build (seconds per worker) must not land in the measured run.
    rates = iter([150.0, 700.0, 1000.0, 1040.0, 5000.0])
    monkeypatch.setattr(pages, "run_wrk", lambda *args, **kwargs: {"rps": next(rates)})
    assert pages.warm_up("http://x/", 2) == [150.0, 700.0, 1000.0, 1040.0]
    steady = iter([900.0] * 10)
    monkeypatch.setattr(pages, "run_wrk", lambda *args, **kwargs: {"rps": next(steady)})
    assert pages.warm_up("http://x/", 2) == [900.0, 900.0]
    climbing = iter(float(100 * 2**n) for n in range(10))
    monkeypatch.setattr(pages, "run_wrk", lambda *args, **kwargs: {"rps": next(climbing)})
    assert len(pages.warm_up("http://x/", 2, most=5)) == 5, "bounded"


def test_the_warm_up_rates_are_reported_with_the_page():
    result = parse_wrk(HEALTHY) | {"warmup_rps": [300.0, 1400.0, 1420.0]}
    rate_row = _page_rows(PAGES[0], result, [BARE])[0]
    assert "warm-up runs: 300, 1400, 1420 req/s" in rate_row.note


def test_under_writes_the_page_and_the_bare_app_take_turns(monkeypatch):
    # Under a load that changes by the second, each page run has a bare run beside it.
    calls: list[str] = []
    page_rates = iter([400.0, 600.0, 500.0])
    bare_rates = iter([1000.0, 1400.0, 1200.0])

    def fake_wrk(url: str, seconds: float, cookie: str | None = None, **_: object) -> dict:
        calls.append(url)
        run = parse_wrk(HEALTHY)
        run["rps"] = next(page_rates if "page" in url else bare_rates)
        if url.endswith("page") and len(calls) == 4:
            run["p99_ms"], run["socket_errors"] = 80.0, {"timeout": 2}
        return run

    monkeypatch.setattr(pages, "run_wrk", fake_wrk)
    result, bare_runs = pages._take_turns("http://bare/", "http://lms/page", "c=1", 3)
    assert calls == ["http://bare/", "http://lms/page"] * 3
    assert [run["rps"] for run in bare_runs] == [1000.0, 1400.0, 1200.0]
    assert result["rps"] == 500.0 and result["requests"] == 3 * 14280
    assert result["p99_ms"] == 80.0, "the slowest run's latency, not an average"
    assert result["socket_errors"]["timeout"] == 2
    rate = _page_rows(PAGES[0], result, bare_runs)[0]
    assert rate.ratio == 500.0 / 1200.0
