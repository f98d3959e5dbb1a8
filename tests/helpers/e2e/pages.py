"""What the journeys share: the axe-core check, screenshots, keyboard walking, form filling."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.e2e.settings import SCREENSHOTS

# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe-core has no rule tagged wcag22a).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Every page an axe check ran on in this session (printed at the end; see README).
AUDITED: list[str] = []


@functools.cache
def axe_source() -> str:
    """axe-core as bundled by the axe-playwright-python wheel (no network needed)."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def axe_version(page: Any) -> str:
    _inject(page)
    return page.evaluate("axe.version")


def _inject(page: Any) -> None:
    # page.evaluate runs through the DevTools protocol, which the page's Content Security Policy
    # (script-src 'self') does not govern, so the real CSP stays on during the tests.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())


def axe_violations(page: Any, include: str | None = None) -> list[dict[str, Any]]:
    _inject(page)
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    context = json.dumps(include) if include else "document"
    return page.evaluate(
        f"async () => (await axe.run({context}, {json.dumps(options)})).violations"
    )


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact') or 'n/a'}): {violation['help']}"
        )
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            target = " ".join(
                json.dumps(part) if not isinstance(part, str) else part for part in node["target"]
            )
            lines.append(f"    at {target}: {(node.get('html') or '')[:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            if summary:
                lines.append(f"       {summary[:300]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    ... and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page: Any, label: str | None = None) -> None:
    """Fail with a readable list when axe-core finds WCAG 2.x A/AA violations on the page."""
    page.wait_for_load_state("load")
    violations = axe_violations(page)
    where = label or page.url
    AUDITED.append(f"{where} ({page.url}, lang={page.evaluate('document.documentElement.lang')})")
    if violations:
        pytest.fail(
            f"axe-core found {len(violations)} WCAG A/AA violation(s) on {where} <{page.url}>:\n"
            + format_violations(violations),
            pytrace=False,
        )


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save artifacts/screenshots/<name>.png (CI keeps the folder)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def check_page(page: Any, name: str) -> None:
    """Every page a journey visits: axe (enforced) and a screenshot."""
    screenshot(page, name)
    assert_accessible(page, name)


def skip_unless_page(live_server: Any, path: str, what: str) -> None:
    """Skip a journey whose page is not merged yet (its URL answers 404)."""
    if live_server.status(path) == 404:
        pytest.skip(f"{what} ({path}) not merged yet")


# -- keyboard ---------------------------------------------------------------------------------

FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), "
    "textarea:not([disabled]), video[controls], audio[controls], summary, [tabindex]:not([tabindex='-1'])"
)

_DESCRIBE_ACTIVE = r"""() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  if (!el.dataset.e2eKey) el.dataset.e2eKey = String(Math.random()).slice(2);
  const style = getComputedStyle(el);
  return {
    key: el.dataset.e2eKey,
    tag: el.tagName.toLowerCase(),
    id: el.id,
    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 60),
    named: Boolean(
      (el.labels && el.labels.length && [...el.labels].some(l => l.innerText.trim())) ||
      (el.getAttribute('aria-label') || '').trim() ||
      (el.getAttribute('aria-labelledby') || '').split(/\s+/).some(
        id => id && document.getElementById(id) && document.getElementById(id).innerText.trim()) ||
      (!['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) && (el.innerText || '').trim()) ||
      (el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type) && el.value.trim()) ||
      (el.getAttribute('title') || '').trim()),
    focusVisible: el.matches(':focus-visible'),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
  };
}"""

_MARK_FOCUSABLE = """(selector) => {
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none' || el.closest('[hidden], [inert]')) continue;
    if (!el.getClientRects().length) continue;
    if (!el.dataset.e2eKey) el.dataset.e2eKey = String(Math.random()).slice(2);
    out.push({key: el.dataset.e2eKey, tag: el.tagName.toLowerCase(), id: el.id,
              text: (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 60)});
  }
  return out;
}"""


_START = """() => {
  // Put the sequential focus starting point before everything, as a fresh page load does.
  const start = document.createElement('span');
  start.tabIndex = -1;
  start.id = 'e2e-focus-start';
  document.body.prepend(start);
  start.focus();
  start.addEventListener('blur', () => start.remove(), {once: true});
}"""


def _focus_start_of_page(page: Any) -> None:
    page.evaluate(_START)


def tab_through(page: Any, limit: int = 200) -> list[dict[str, Any]]:
    """Press Tab from the top of the page until focus leaves it; return each focused element in order."""
    _focus_start_of_page(page)
    seen: list[dict[str, Any]] = []
    keys: set[str] = set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(_DESCRIBE_ACTIVE)
        if active is None or active["key"] in keys:
            break
        keys.add(active["key"])
        seen.append(active)
    return seen


def assert_keyboard_operable(page: Any) -> list[dict[str, Any]]:
    """Every visible interactive element is reached by Tab, has a name, and shows a visible focus ring."""
    reached = tab_through(page)
    focusable = page.evaluate(_MARK_FOCUSABLE, FOCUSABLE)
    reached_keys = {item["key"] for item in reached}
    missing = [item for item in focusable if item["key"] not in reached_keys]
    assert not missing, f"not reachable with Tab on {page.url}: {missing}"
    unnamed = [item for item in reached if not item["named"]]
    assert not unnamed, f"controls without a label or name on {page.url}: {unnamed}"
    invisible = [
        item
        for item in reached
        if not (
            item["focusVisible"]
            and (
                (item["outlineStyle"] != "none" and item["outlineWidth"] >= 2)
                or item["boxShadow"] != "none"
            )
        )
    ]
    assert not invisible, f"no visible focus indicator on {page.url}: {invisible}"
    return reached


def assert_skip_link(page: Any) -> None:
    """Tab first focuses "Skip to main content" (visibly); Enter moves focus to <main>."""
    _focus_start_of_page(page)
    page.keyboard.press("Tab")
    active = page.evaluate(_DESCRIBE_ACTIVE)
    assert active is not None and active["tag"] == "a", f"first Tab focused {active}"
    skip = page.locator("a.skip-link")
    assert skip.evaluate("el => el === document.activeElement"), (
        f"first Tab focused {active}, not the skip link"
    )
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] > 0, (
        "the focused skip link is off-screen"
    )
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.tagName === 'MAIN'"
    )


def focus_by_tab(page: Any, selector: str, limit: int = 100) -> None:
    """Press Tab until the element matching ``selector`` has focus (keyboard only, no clicks)."""
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never received focus by Tab on {page.url}")


def assert_errors_announced(page: Any) -> None:
    """A failed form: an error summary that is announced (role=alert) and focused, and every
    invalid control points at its message with aria-describedby."""
    from playwright.sync_api import expect

    page.wait_for_load_state("load")
    summary = page.locator(".error-summary")
    expect(summary, "an error summary after a failed submit").to_have_count(1)
    assert summary.get_attribute("role") == "alert" or summary.get_attribute("aria-live") in (
        "assertive",
        "polite",
    )
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.classList.contains('error-summary')"
    )
    invalid = page.locator("main [aria-invalid='true']")
    assert invalid.count() >= 1, "no control is marked aria-invalid"
    for index in range(invalid.count()):
        control = invalid.nth(index)
        described = (control.get_attribute("aria-describedby") or "").split()
        messages = [page.locator(f"#{re.escape(ident)}") for ident in described]
        texts = [m.inner_text().strip() for m in messages if m.count()]
        assert any(texts), (
            f"{control.get_attribute('name')} is invalid but describes no error message"
        )


def type_into(page: Any, selector: str, text: str) -> None:
    """Focus a field by Tab and type into it with the keyboard."""
    focus_by_tab(page, selector)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(text)


def words(n: int, seed: str = "reflection") -> str:
    vocabulary = (
        "students notice when adults listen and act; our school can practise restorative conversations, "
        "share decisions with families, and make every hallway, bus and cafeteria a place where each student "
        "of color is known, safe and expected to succeed"
    ).split()
    out = [seed]
    while len(out) < n:
        out.append(vocabulary[len(out) % len(vocabulary)])
    return " ".join(out) + "."
