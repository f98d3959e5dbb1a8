"""The import-linter contracts in pyproject.toml hold (docs/architecture.md, "Layers"): `make test`
runs this, so a service that imports the web layer, or a catalog that builds HTML, fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept():
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    assert command, "lint-imports not found: install the test extra (pip install -e '.[test]')"
    result = subprocess.run(
        [command, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
