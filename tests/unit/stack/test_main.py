"""`python -m local.stack token`: a token the running stack's authorizer accepts, from the persisted key."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

import pytest

import local.stack.__main__ as cli
from local.stack.assembly import dev_issuer
from local.stack.auth import load_or_create_key, local_email
from local.stack.template import Template
from tests.unit.stack.conftest import REAL_TEMPLATE


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")
@pytest.mark.parametrize(
    ("argv", "groups", "email"),
    [
        (["token", "--role", "VOLUNTEER", "--email", "v@church.test"], ["VOLUNTEER"], "v@church.test"),
        # Without an email: the one local admin, the address the sign-in page and the banner use too
        (["token"], ["TECH_ADMIN"], "tech_admin@church.local"),
    ],
)
def test_token_subcommand_prints_a_token_the_stack_accepts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    groups: list[str],
    email: str,
) -> None:
    key_path = tmp_path / "dev-issuer.pem"
    monkeypatch.setattr(cli, "DEFAULT_KEY_PATH", key_path)

    assert cli.main(argv) == 0

    token = capsys.readouterr().out.strip()
    # What `make run` builds from the same key file and template:
    verifier = dev_issuer(Template.load(REAL_TEMPLATE), load_or_create_key(key_path)).verifier()
    claims = verifier.verify(token)
    assert (claims["cognito:groups"], claims["email"]) == (groups, email)
    assert local_email("TECH_ADMIN") == "tech_admin@church.local"


# ---------------------------------------------------------------- `make run` as a process

ROOT = Path(__file__).resolve().parents[3]
BANNER_URL = re.compile(
    r"^\s+(admin page|PCO sandbox|moto \(AWS\))\s+http://127\.0\.0\.1:(\d+)", re.MULTILINE
)
STARTUP_SECONDS = 90.0
STOP_SECONDS = 10.0


def stack_process(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "local.stack"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'pco_core'}:{ROOT}", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(stream: IO[str], marker: str, timeout: float) -> str:
    """What `stream` printed up to and including the line holding `marker`, within `timeout` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    deadline = time.monotonic() + timeout
    seen = []
    while not any(marker in line for line in seen):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no {marker!r} within {timeout}s; got: {''.join(seen)[-2000:]}")
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            continue
    return "".join(seen)


def test_given_moto_port_taken_then_make_run_says_which_variable_to_change_and_exits_at_once() -> None:
    # Given another program (LocalStack, say) listening on the port moto would use
    holder = socket.create_server(("127.0.0.1", 0))
    busy = holder.getsockname()[1]
    try:
        # When the stack starts
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "local.stack"],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": f"{ROOT / 'layers' / 'pco_core'}:{ROOT}",
                "API_PORT": "0",
                "SANDBOX_PORT": "0",
                "MOTO_SERVER_PORT": str(busy),
            },
            capture_output=True,
            text=True,
            timeout=30,
        )
        elapsed = time.monotonic() - started
    finally:
        holder.close()

    # Then it fails at once with one line naming the variable, and starts nothing
    assert result.returncode != 0
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"make run: port {busy} (moto, the emulated AWS) is already in use: set MOTO_SERVER_PORT"
    )
    assert elapsed < 10


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_given_a_running_stack_when_signalled_then_every_part_stops_and_frees_its_port(
    stop_signal: signal.Signals,
) -> None:
    # Given a started stack (any free ports, a small church, the schedule firing at once)
    process = stack_process(
        {
            "API_PORT": "0",
            "MOTO_SERVER_PORT": "0",
            "SANDBOX_PORT": "0",
            "SANDBOX_PEOPLE": "20",
            "LOCAL_SCHEDULE_EVERY_MINUTES": "1",
        }
    )
    try:
        assert process.stdout is not None
        banner = read_until(process.stdout, "Ctrl-C to stop.", STARTUP_SECONDS)
        ports = {name: int(port) for name, port in BANNER_URL.findall(banner)}
        assert set(ports) == {"admin page", "PCO sandbox", "moto (AWS)"}
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['admin page']}/", timeout=10) as page:
            assert page.status == 200

        # When it gets the signal
        stopped = time.monotonic()
        process.send_signal(stop_signal)
        code = process.wait(timeout=STOP_SECONDS)

        # Then it exits cleanly within a few seconds and every port is free again
        assert code == 0
        assert time.monotonic() - stopped < STOP_SECONDS
        for port in ports.values():
            socket.create_server(("127.0.0.1", port)).close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
