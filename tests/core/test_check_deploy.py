"""The production settings of deploy/env.example pass `manage.py check --deploy` with no warning."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path) -> dict:
    # Only what a production host would have: nothing another test left in os.environ.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value.replace("CHANGE_ME", secrets.token_urlsafe(50))
    env.update(DEBUG="0", BOOKBAG_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="bookbag.settings")
    return env


def test_the_example_production_environment_passes_check_deploy(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
