"""settings.py: `make run`'s variables read and checked, and its ports claimed, before anything starts."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from local.stack.settings import (
    PortInUse,
    PortSetting,
    RunSettings,
    SettingError,
    claim_ports,
    listen_on,
)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program (this test) listens on."""
    holder = listen_on(0)
    try:
        yield holder.getsockname()[1]
    finally:
        holder.close()


def test_given_no_settings_then_the_defaults_serve_on_3000_4566_and_4010() -> None:
    settings = RunSettings.from_env({})

    assert [(p.variable, p.port) for p in settings.ports()] == [
        ("API_PORT", 3000),
        ("MOTO_SERVER_PORT", 4566),
        ("SANDBOX_PORT", 4010),
    ]
    assert (settings.sandbox_people, settings.sandbox_seed, settings.schedule_every_minutes) == (500, 7, None)
    assert (settings.pco_base_url, settings.app_id) == (None, "local-dev-app-id")


def test_given_an_external_pco_then_no_sandbox_port_is_needed() -> None:
    settings = RunSettings.from_env({"PCO_BASE_URL": "https://api.planningcenteronline.com"})

    assert "SANDBOX_PORT" not in [p.variable for p in settings.ports()]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MOTO_SERVER_PORT": "localstack"}, "MOTO_SERVER_PORT must be a whole number from 0 to 65535"),
        ({"API_PORT": "70000"}, "API_PORT must be a whole number from 0 to 65535, not '70000'"),
        ({"SANDBOX_PEOPLE": "0"}, "SANDBOX_PEOPLE must be a whole number from 1"),
        ({"SANDBOX_SEED": "-1"}, "SANDBOX_SEED must be a whole number from 0"),
        ({"LOCAL_SCHEDULE_EVERY_MINUTES": "0"}, "LOCAL_SCHEDULE_EVERY_MINUTES must be a whole number from 1"),
    ],
)
def test_given_a_malformed_setting_then_one_line_names_it(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingError, match=message) as raised:
        RunSettings.from_env(env)

    assert "\n" not in str(raised.value)


def test_given_a_busy_port_then_the_error_names_the_variable_and_a_free_port(busy_port: int) -> None:
    ports = [
        PortSetting("API_PORT", 0, "the admin page and API"),
        PortSetting("MOTO_SERVER_PORT", busy_port, "moto, the emulated AWS"),
    ]

    with pytest.raises(PortInUse) as raised:
        claim_ports(ports)

    message = str(raised.value)
    assert message.startswith(
        f"port {busy_port} (moto, the emulated AWS) is already in use: set MOTO_SERVER_PORT"
    )
    suggested = int(message.rsplit("MOTO_SERVER_PORT=", 1)[1].split()[0])
    listen_on(suggested).close()  # the suggestion really is free


def test_given_a_busy_port_then_the_ports_claimed_before_it_are_released(busy_port: int) -> None:
    free = listen_on(0)
    free_port = free.getsockname()[1]
    free.close()

    with pytest.raises(PortInUse):
        claim_ports(
            [PortSetting("API_PORT", free_port, "api"), PortSetting("SANDBOX_PORT", busy_port, "pco")]
        )

    listen_on(free_port).close()  # not left claimed


def test_given_two_variables_with_the_same_port_then_the_error_names_both() -> None:
    ports = [PortSetting("API_PORT", 4010, "api"), PortSetting("SANDBOX_PORT", 4010, "pco")]

    with pytest.raises(SettingError, match="API_PORT and SANDBOX_PORT are both 4010"):
        claim_ports(ports)


def test_claimed_ports_are_held_until_handed_over() -> None:
    claims = claim_ports([PortSetting("API_PORT", 0, "api")])
    port = claims["API_PORT"].getsockname()[1]
    try:
        # Nobody else can take it while the stack starts
        with pytest.raises(OSError, match="in use"), socket.create_server(("127.0.0.1", port)):
            pass
    finally:
        claims["API_PORT"].close()
