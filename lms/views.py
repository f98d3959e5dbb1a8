"""The list of the engine's blueprints, in registration order."""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint

from lms.web import register_error_pages, register_input_checks

# Each area owns one blueprint, named lms_<area>, defined in lms/<area>/views.py as `blueprint`.
AREAS = ("courses", "accounts", "learning", "cohorts", "certificates", "reports", "admin", "records")


def blueprints() -> list[Blueprint]:
    found = []
    for area in AREAS:
        module = import_module(f"lms.{area}.views")
        blueprint: Blueprint = module.blueprint
        if not blueprint._got_registered_once:  # blueprints are shared by every app: set up once
            register_error_pages(blueprint)
            register_input_checks(blueprint)
        found.append(blueprint)
    return found
