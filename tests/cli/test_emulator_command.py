"""`go-support emulator` as a sysadmin runs it: a real process, its URL and key on stdout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests


def test_emulator_command_serves_and_keeps_data(tmp_path: Path) -> None:
    data = tmp_path / "desk.sqlite"
    urls_keys = []
    for _ in range(2):  # twice on the same data file: the key and the data survive a restart
        proc = subprocess.Popen(
            [sys.executable, "-c", "from go_support.cli.main import main; main()",
             "emulator", "--port", "0", "--data", str(data)],
            stdout=subprocess.PIPE, text=True,
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[-1]
            key = proc.stdout.readline().split()[-1]
            urls_keys.append(key)
            headers = {"Authorization": f"Bearer {key}"}
            session = requests.get(f"{url}/api/jmap.php", headers=headers, timeout=10)
            assert session.status_code == 200
            assert session.json()["userId"] == "1"
            body = [["TaskList/query", {"filter": {"text": "Kept"}}, "q"]]
            found = requests.post(f"{url}/api/jmap.php", json=body, headers=headers, timeout=10)
            if len(urls_keys) == 1:
                assert found.json()[0][1]["ids"] == []
                create = [["TaskList/set", {"create": {"l": {"name": "Kept"}}}, "c"]]
                requests.post(f"{url}/api/jmap.php", json=create, headers=headers, timeout=10)
            else:
                assert len(found.json()[0][1]["ids"]) == 1
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert urls_keys[0] == urls_keys[1]
