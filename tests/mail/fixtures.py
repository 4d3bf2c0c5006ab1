"""The real-world mails of ``<repo>/../shared/fixtures/mail`` (or ``$GO_SUPPORT_SHARED``).

A missing folder is an error, never a reason to skip: the tests that walk it must not pass
vacuously.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "GO_SUPPORT_SHARED"


def mail_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    path = (Path(env) if env else REPO_ROOT.parent / "shared") / "fixtures" / "mail"
    if not path.is_dir():
        raise RuntimeError(
            f"the mail fixtures are not at {path}: point ${ENV_VAR} at the folder that contains "
            "fixtures/mail")
    return path


def all_mails() -> list[str]:
    """Every file of the folder, as a path relative to it."""
    root = mail_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def read(name: str) -> bytes:
    return (mail_dir() / name).read_bytes()
