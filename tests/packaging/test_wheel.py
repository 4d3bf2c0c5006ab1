"""The wheel holds every module of the source tree, under one name each, and they import.

An editable install finds modules in the working tree, so a package that setuptools leaves
out of the wheel (a folder without ``__init__.py``, a wrong ``packages.find`` pattern) passes
every other test. This one builds the wheel from a copy of the sources, without network or
build isolation, and imports each module with only the unpacked wheel and the dependencies on
``sys.path``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What the wheel is built from (the rest of the repository is not shipped).
SOURCES = ("go_support", "cli", "migrations", "jmap_schema", "pyproject.toml", "README.md")
#: The import packages the wheel may hold at its top level.
TOP_LEVEL = {"go_support", "jmap_schema"}


def _source_modules() -> set[str]:
    """Dotted names of every ``.py`` file under the shipped packages (links followed)."""
    names = set()
    for top in sorted(TOP_LEVEL):
        for folder, _dirs, files in os.walk(ROOT / top, followlinks=True):
            package = Path(folder).relative_to(ROOT).parts
            for file in files:
                if file.endswith(".py"):
                    stem = file.removesuffix(".py")
                    names.add(".".join(package if stem == "__init__" else (*package, stem)))
    return names


def _wheel_modules(wheel: Path) -> set[str]:
    names = set()
    with zipfile.ZipFile(wheel) as zf:
        for entry in zf.namelist():
            if not entry.endswith(".py"):
                continue
            parts = entry.removesuffix(".py").split("/")
            if parts[-1] == "__init__":
                parts.pop()
            names.add(".".join(parts))
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built by setuptools from a copy of the sources (links kept as links)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(origin, src / name)
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-c",  # PEP 517's hook, as pip --no-build-isolation would call it
         "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))", str(out)],
        cwd=src, capture_output=True, text=True, timeout=120, check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    return out / build.stdout.strip().splitlines()[-1]


def test_the_wheel_holds_every_module_once(wheel: Path) -> None:
    modules = _wheel_modules(wheel)
    assert {m.split(".")[0] for m in modules} == TOP_LEVEL  # no top-level cli, migrations...
    assert {"go_support.cli.main", "go_support.migrations.runner"} <= modules
    assert modules == _source_modules()
    with zipfile.ZipFile(wheel) as zf:
        assert {"go_support/py.typed", "jmap_schema/py.typed"} <= set(zf.namelist())
        entry_points = next(n for n in zf.namelist() if n.endswith("entry_points.txt"))
        assert "go-support = go_support.cli.main:main" in zf.read(entry_points).decode()


def test_every_module_imports_from_the_wheel_alone(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    modules = sorted(_wheel_modules(wheel))
    # -I -S: no working directory, PYTHONPATH, user site or .pth files (so not the editable
    # install); the dependencies come from this interpreter's site-packages, appended after.
    script = (
        "import importlib, json, sys\n"
        "sys.path[:0] = [sys.argv[1]]\n"
        "sys.path.append(sys.argv[2])\n"
        "files = {m: importlib.import_module(m).__file__ for m in json.loads(sys.argv[3])}\n"
        "print(json.dumps(files))\n"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(site),
         sysconfig.get_paths()["purelib"], json.dumps(modules)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    files = json.loads(run.stdout)
    outside = {m: f for m, f in files.items() if not Path(f).is_relative_to(site)}
    assert not outside, f"imported from outside the wheel: {outside}"
    assert len(files) == len(modules) > 60
