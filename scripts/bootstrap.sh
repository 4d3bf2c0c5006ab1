#!/usr/bin/env bash
# Prepares .venv with go-support and its development tools. Safe to run again: it reinstalls
# only when pyproject.toml changed. Sourced by scripts/demo and scripts/test.
set -euo pipefail
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1   # the browser tests use Debian's chromium, never a download
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "go-support needs Python 3.11 or newer ($python is $("$python" --version 2>&1))." >&2
  exit 3
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.go-support-installed
want="$(sha1sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing go-support and its dependencies into .venv (once)..." >&2
  log=.venv/pip-install.log
  # uv (from PyPI, into the venv) installs the same packages in seconds; pip is the fallback
  if ! { .venv/bin/python -m pip install -q uv &&
         .venv/bin/uv pip install --compile-bytecode --python .venv/bin/python -e ".[dev]"; } >"$log" 2>&1 &&
     ! .venv/bin/python -m pip install -e ".[dev]" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "Installing the Python dependencies failed; the pip output is above and in $log." >&2
    exit 3
  fi
  echo "$want" > "$stamp"
fi
# Bytecode for our own sources too: an installed package has it (pip compiles on install), an
# editable checkout gets it only when Python may write it, which PYTHONDONTWRITEBYTECODE
# forbids; without it every command compiles each module again (0.3 s of a mail's delivery).
.venv/bin/python -m compileall -q -j 0 go_support jmap_schema >/dev/null || true
