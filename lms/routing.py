"""Each area's routes, declared once when its views module is imported and built into a new
Flask blueprint for every app the engine is registered on.

A ``flask.Blueprint`` is registered on an app and then takes no more setup; one kept at module
level would be shared by every app in the process, so whatever an app added to it (error
pages, input checks) would reach the others. ``AreaBlueprint`` records the same decorators a
blueprint takes (``route``, ``get``, ``post``, ``record_once``, ...) and :meth:`build` replays
them on a fresh ``Blueprint``: the declarations are shared, every blueprint belongs to one app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint

F = TypeVar("F", bound=Callable[..., Any])


class AreaBlueprint:
    def __init__(self, name: str, import_name: str, **options: Any) -> None:
        self.name = name
        self.import_name = import_name
        self._options = options
        self._setup: list[tuple[str, tuple[Any, ...], dict[str, Any], Callable[..., Any]]] = []

    def _declare(self, method: str, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        def decorator(function: F) -> F:
            self._setup.append((method, args, kwargs, function))
            return function

        return decorator

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        return self._declare("route", rule, **options)

    def get(self, rule: str, **options: Any) -> Callable[[F], F]:
        return self._declare("get", rule, **options)

    def post(self, rule: str, **options: Any) -> Callable[[F], F]:
        return self._declare("post", rule, **options)

    def record_once(self, function: F) -> F:
        """Called with the setup state when a built blueprint is first registered on an app."""
        return self._declare("record_once")(function)

    def before_request(self, function: F) -> F:
        return self._declare("before_request")(function)

    def app_context_processor(self, function: F) -> F:
        return self._declare("app_context_processor")(function)

    def app_template_global(self, name: str | None = None) -> Callable[[F], F]:
        return self._declare("app_template_global", name=name)

    def errorhandler(self, code_or_exception: Any) -> Callable[[F], F]:
        return self._declare("errorhandler", code_or_exception)

    def build(self) -> Blueprint:
        """A new blueprint with every route and hook declared so far, for one app."""
        blueprint = Blueprint(self.name, self.import_name, **self._options)
        for method, args, kwargs, function in self._setup:
            setup = getattr(blueprint, method)
            if args or kwargs or method in ("route", "get", "post", "errorhandler"):
                setup(*args, **kwargs)(function)
            else:
                setup(function)
        return blueprint
