"""Every setting `make run` reads from the environment, checked, and its ports claimed before anything starts.

A malformed value or a busy port is a `SettingError` whose message is one line naming the variable to
change; `claim_ports` holds each port open from the check until its server takes it over, so nothing can
take it in between.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Mapping
from dataclasses import dataclass

HOST = "127.0.0.1"
DEFAULT_API_PORT = 3000
DEFAULT_MOTO_PORT = 4566
DEFAULT_SANDBOX_PORT = 4010
DEFAULT_SANDBOX_PEOPLE = 500
DEFAULT_SANDBOX_SEED = 7
LOCAL_APP_ID = "local-dev-app-id"
LOCAL_SECRET = "local-dev-secret"  # noqa: S105 - the sandbox's own credentials, nothing real
LOCAL_WEBHOOK_SECRET = "local-dev-webhook-secret"  # noqa: S105
SCHEDULE_VARIABLE = "LOCAL_SCHEDULE_EVERY_MINUTES"


class SettingError(Exception):
    """A `make run` setting that cannot be used; the message is one line naming the variable."""


class PortInUse(SettingError):
    pass


@dataclass(frozen=True)
class PortSetting:
    variable: str
    port: int  # 0: any free port
    serves: str


@dataclass(frozen=True)
class RunSettings:
    pco_base_url: str | None  # None: start the PCO sandbox
    app_id: str
    secret: str
    webhook_secret: str
    api_port: int
    moto_port: int
    sandbox_port: int
    sandbox_people: int
    sandbox_seed: int
    schedule_every_minutes: int | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RunSettings:
        every = env.get(SCHEDULE_VARIABLE, "").strip()
        return cls(
            pco_base_url=env.get("PCO_BASE_URL") or None,
            app_id=env.get("PCO_APP_ID") or LOCAL_APP_ID,
            secret=env.get("PCO_SECRET") or LOCAL_SECRET,
            webhook_secret=env.get("PCO_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET),
            api_port=_port(env, "API_PORT", DEFAULT_API_PORT),
            moto_port=_port(env, "MOTO_SERVER_PORT", DEFAULT_MOTO_PORT),
            sandbox_port=_port(env, "SANDBOX_PORT", DEFAULT_SANDBOX_PORT),
            sandbox_people=_whole(env, "SANDBOX_PEOPLE", DEFAULT_SANDBOX_PEOPLE, low=1),
            sandbox_seed=_whole(env, "SANDBOX_SEED", DEFAULT_SANDBOX_SEED, low=0),
            schedule_every_minutes=_whole(env, SCHEDULE_VARIABLE, 0, low=1) if every else None,
        )

    def ports(self) -> list[PortSetting]:
        """The ports this run serves on, each with the variable that moves it."""
        ports = [
            PortSetting("API_PORT", self.api_port, "the admin page and API"),
            PortSetting("MOTO_SERVER_PORT", self.moto_port, "moto, the emulated AWS"),
        ]
        if self.pco_base_url is None:
            ports.append(PortSetting("SANDBOX_PORT", self.sandbox_port, "the PCO sandbox"))
        return ports


def _whole(env: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        wanted = f"a whole number from {low}" + (f" to {high}" if high is not None else "")
        raise SettingError(f"{name} must be {wanted}, not {text!r}")
    return int(text)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    return _whole(env, name, default, low=0, high=65535)


def listen_on(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:port, bound as werkzeug binds (SO_REUSEADDR); OSError if busy."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _free_port_near(port: int, taken: set[int]) -> int | None:
    for candidate in range(port + 1, min(port + 50, 65536)):
        if candidate in taken:
            continue
        try:
            listen_on(candidate).close()
        except OSError:
            continue
        return candidate
    return None


def claim_ports(ports: list[PortSetting]) -> dict[str, socket.socket]:
    """Listen on every port now (keyed by variable), or close them all and raise naming what to change."""
    fixed = [p for p in ports if p.port]
    for i, first in enumerate(fixed):
        for second in fixed[i + 1 :]:
            if first.port == second.port:
                raise SettingError(
                    f"{first.variable} and {second.variable} are both {first.port}: give each its own port"
                )
    claimed: dict[str, socket.socket] = {}
    try:
        for setting in ports:
            try:
                claimed[setting.variable] = listen_on(setting.port)
            except OSError as exc:
                raise _port_error(setting, exc, {p.port for p in ports}) from None
    except BaseException:
        for sock in claimed.values():
            sock.close()
        raise
    return claimed


def _port_error(setting: PortSetting, exc: OSError, taken: set[int]) -> SettingError:
    where = f"port {setting.port} ({setting.serves})"
    if exc.errno == errno.EADDRINUSE:
        free = _free_port_near(setting.port, taken)
        example = f" (e.g. {setting.variable}={free} make run)" if free else ""
        return PortInUse(f"{where} is already in use: set {setting.variable} to a free port{example}")
    return SettingError(f"cannot listen on {where}: {exc.strerror}; set {setting.variable} to another port")
