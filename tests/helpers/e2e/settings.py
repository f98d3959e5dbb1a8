"""Where the browser tests find Chromium and put their artifacts (both overridable by env)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", REPO / "artifacts"))
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "e2e password 4 people!"
FLAGSHIP = "esp-racial-justice-dialogue"
