"""The local HTTP server the API emulators share: start on 127.0.0.1 (port 0 = any free port), stop.

An emulator subclasses LocalServer, names its request handler class in `handler`, and reads the port
from `self.port`; the handler reaches the emulator's state through `self.emu`.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar


class LocalServer:
    handler: ClassVar[type[BaseHTTPRequestHandler]]
    _server: ThreadingHTTPServer | None = None

    def start(self, port: int = 0) -> str:
        emulator = self

        class Handler(self.handler):  # type: ignore[name-defined,misc]
            emu = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.base_url

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the emulator first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
