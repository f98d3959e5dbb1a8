"""The pages' baseline: a bare Flask app that returns a fixed string, served exactly like the LMS
(gunicorn, same worker count and class). Whatever the LMS does beyond this is the engine's cost.

    gunicorn -w 2 'bench.bare_app:app'
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)

BODY = "Hello from a bare Flask app.\n"


@app.get("/")
def index() -> str:
    return BODY
