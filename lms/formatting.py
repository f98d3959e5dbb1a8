"""Locale- and time-zone-aware formatting for templates (dates, times, numbers)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_timezone_name
from flask import Flask
from flask_babel import format_date, format_decimal, get_locale, get_timezone


def lms_date(value: dt.date | dt.datetime | None, format: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(get_timezone()).date()
    return format_date(value, format)


def lms_datetime(value: dt.datetime | None, format: str = "medium", zone: str | None = None) -> str:
    """A UTC datetime in the viewer's zone (or ``zone``), with the zone named."""
    if value is None:
        return ""
    tz = ZoneInfo(zone) if zone else get_timezone()
    locale = get_locale()
    when = babel_format_datetime(value, format, tzinfo=tz, locale=locale)
    zone_name = get_timezone_name(value.astimezone(tz), width="long", locale=locale)
    return f"{when} ({zone_name})"


def lms_number(value: float | int | None) -> str:
    return "" if value is None else format_decimal(value)


def register_filters(app: Flask) -> None:
    app.add_template_filter(lms_date)
    app.add_template_filter(lms_datetime)
    app.add_template_filter(lms_number)
