"""The embedded mode's SECRET_KEY: generated once, kept in a git-ignored file."""

import secrets
from pathlib import Path


def load_or_create_secret_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    # O_EXCL: when runserver and qcluster start together only one of them writes the key.
    try:
        with path.open("x") as f:
            f.write(key)
        path.chmod(0o600)
        return key
    except FileExistsError:
        return path.read_text().strip()
