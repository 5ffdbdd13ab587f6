"""Serve a sandbox over real HTTP on 127.0.0.1 in a background thread (tests, the local stack)."""

from __future__ import annotations

import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, make_server

from local.sandbox.app import Sandbox, SandboxConfig, create_app


class SandboxServer:
    """`with SandboxServer(sandbox) as server: server.url` — port 0 picks a free port."""

    def __init__(
        self,
        sandbox: Sandbox | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        deliver_webhooks: bool = False,
    ) -> None:
        self.sandbox = sandbox or Sandbox.create(SandboxConfig())
        self.app = create_app(self.sandbox)
        self.host = host
        self.port = port
        self.deliver_webhooks = deliver_webhooks
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> SandboxServer:
        if self._server is not None:
            return self
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self.sandbox.store.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, name="pco-sandbox", daemon=True)
        self._thread.start()
        if self.deliver_webhooks:
            self.sandbox.hub.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.sandbox.hub.stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
