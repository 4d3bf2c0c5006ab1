"""``go-support help``: the page served by waitress, started as a real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.help.conftest import PASSWORDS, Browser, Site

#: ``go-support`` with the help command registered (cli/main.py registers it in the product).
RUN = ("import sys; from go_support.cli.main import cli, main; "
       "from go_support.cli.help import help_command; cli.add_command(help_command); "
       "main(sys.argv[1:])")


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", RUN, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[2])


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO_SUPPORT_")}
    env.update(values)
    return env


def test_the_command_serves_the_page_until_interrupted(site: Site, tmp_path: Path) -> None:
    config = tmp_path / "go-support.toml"
    config.write_text(f'[desk]\ncustomer_groups = ["{site.tag} customers"]\n', encoding="utf-8")
    process = _start(["--config", str(config), "help", "--host", "127.0.0.1", "--port", "0"],
                     _env(GO_SUPPORT_URL=site.go_url, GO_SUPPORT_API_KEY=site.go_key,
                          GO_SUPPORT_HELP_SECRET_KEY="a-secret-for-the-test-run"))
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Help page on http://127.0.0.1:"), first
        assert site.go_key not in first
        base = first.split()[3].rstrip("/")
        answer = requests.get(base + "/signin", timeout=10)
        assert answer.status_code == 200 and "Server" in answer.headers
        assert answer.headers["Server"] == "go-support"
        browser = Browser(base)
        signed = browser.sign_in(site.username("ann"), PASSWORDS["ann"])
        assert "My requests" in signed.text
        offered = browser.get("/requests/new").text
        assert "Hardware" in offered and "Software" in offered
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.rstrip().endswith("Stopped.")
    assert site.go_key not in out + err


def test_the_command_names_a_missing_setting_with_exit_code_3(tmp_path: Path) -> None:
    process = _start(["help", "--port", "0"], _env(HOME=str(tmp_path)))
    out, err = process.communicate(timeout=30)
    assert process.returncode == 3, (out, err)
    assert "groupoffice.url" in err
    process = _start(["--url", "http://127.0.0.1:9", "help", "--port", "0"],
                     _env(HOME=str(tmp_path), GO_SUPPORT_API_KEY="k",
                          GO_SUPPORT_HELP_IDLE_MINUTES="soon"))
    out, err = process.communicate(timeout=30)
    assert process.returncode == 3, (out, err)
    assert "GO_SUPPORT_HELP_IDLE_MINUTES must be a whole number (got 'soon')" in err


def test_gunicorn_serves_the_app_factory_as_docs_sysadmin_says(site: Site,
                                                                tmp_path: Path) -> None:
    """``gunicorn 'go_support.help:create_app()'`` with the settings from the environment and
    the page's options from ``GO_SUPPORT_HELP_*`` (one process, threads), behind a proxy."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "go-support.toml"
    config.write_text(f'[desk]\ncustomer_groups = ["{site.tag} customers"]\n', encoding="utf-8")
    env = _env(GO_SUPPORT_CONFIG=str(config), GO_SUPPORT_URL=site.go_url,
               GO_SUPPORT_API_KEY=site.go_key, GO_SUPPORT_HELP_TRUSTED_PROXIES="1",
               GO_SUPPORT_HELP_SECRET_KEY="a-secret-for-the-test-run")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4",
         "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}",
         "go_support.help:create_app()"],
        env=env, cwd=Path(__file__).resolve().parents[2], text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        answer = None
        deadline = time.monotonic() + 60
        while answer is None and process.poll() is None and time.monotonic() < deadline:
            try:  # the master listens before its worker has imported the app: wait for both
                answer = requests.get(base + "/signin", timeout=30,
                                      headers={"X-Forwarded-Proto": "https"})
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        assert answer is not None, "gunicorn did not start"
        assert answer.status_code == 200
        assert "Secure" in answer.headers["Set-Cookie"]  # the proxy said https
        browser = Browser(base)
        assert "My requests" in browser.sign_in(site.username("ann"), PASSWORDS["ann"]).text
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert site.go_key not in output
