"""The engine's blueprints, in registration order: a new set for each app."""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint

from lms.routing import AreaBlueprint
from lms.web.errors import register_error_pages
from lms.web.guards import register_input_checks

# Each area owns one blueprint, named lms_<area>, declared in lms/<area>/views.py as `blueprint`.
AREAS = (
    "courses",
    "accounts",
    "learning",
    "cohorts",
    "certificates",
    "credentials",
    "reports",
    "admin",
    "notifications",
    "records",
)


def blueprints() -> list[Blueprint]:
    """Every area's blueprint, built for one app, with the engine's error pages and input checks."""
    found = []
    for area in AREAS:
        declared: AreaBlueprint = import_module(f"lms.{area}.views").blueprint
        blueprint = declared.build()
        register_error_pages(blueprint)
        register_input_checks(blueprint)
        found.append(blueprint)
    return found
