"""The sandbox over real HTTP: the embeddable SandboxServer and the `python -m local.sandbox` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from local.sandbox.app import Sandbox, SandboxConfig
from local.sandbox.clock import FakeClock
from local.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]


def test_server_picks_a_free_port_serves_the_api_and_stops():
    sandbox = Sandbox.create(SandboxConfig(app_id="a", secret="s", people=30), clock=FakeClock())
    with SandboxServer(sandbox) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert not server.url.endswith(":0")
        page = httpx.get(f"{server.url}/people/v2/people", auth=("a", "s"), params={"per_page": 10})
        assert page.status_code == 200
        assert page.json()["meta"]["total_count"] == 30
        assert page.json()["links"]["next"].startswith(f"{server.url}/people/v2/people?")
        assert page.headers["X-PCO-API-Request-Rate-Limit"] == "100"
        assert httpx.get(f"{server.url}/people/v2/people").status_code == 401
        assert sandbox.store.base_url == server.url  # webhook resources link to the real address
        url = server.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_sandbox/health", timeout=2)


def test_command_prints_its_url_serves_and_stops_cleanly_on_sigterm(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/pco_core'}{os.pathsep}{ROOT}"}
    saved = tmp_path / "data.json"
    command = [sys.executable, "-m", "local.sandbox", "--people", "25", "--seed", "3", "--port", "0"]
    command += ["--app-id", "cli", "--secret", "pw", "--save", str(saved)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("PCO sandbox listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        assert httpx.get(f"{url}/_sandbox/health").json()["counts"]["Person"] == 25
        assert httpx.get(f"{url}/people/v2/people", auth=("cli", "pw")).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # the saved dataset serves again through --data
    loaded = Sandbox.create(SandboxConfig(data_file=str(saved)), clock=FakeClock())
    assert loaded.store.count("Person") == 25
