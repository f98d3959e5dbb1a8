"""A microcourse engine for professional learning, as a Flask extension and a standalone app.

``create_app`` and ``LMS`` load on first use, so the Flask-free parts (the course loader, the
PDF renderer) can be imported without pulling in Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lms.app import create_app
    from lms.extension import LMS

__all__ = ["LMS", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        # lazy: `import lms` (the course loader, the PDF renderer) must not import Flask
        from lms.app import create_app

        return create_app
    if name == "LMS":
        # lazy: `import lms` (the course loader, the PDF renderer) must not import Flask
        from lms.extension import LMS

        return LMS
    raise AttributeError(name)
