"""A WSGI app served on 127.0.0.1 by werkzeug's threaded server in a daemon thread.

Shared by the simulator and the local runtime's API gateway: start on a free port (port 0) or a given one,
stop cleanly (shutdown, close the socket, join the thread) so the port is free again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class BackgroundWsgiServer:
    def __init__(self, app: Any, name: str) -> None:
        self._app = app
        self._name = name
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._server is not None:
            raise RuntimeError(f"the {self._name} is already started")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server(host, port, self._app, threaded=True)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=self._name, daemon=True)
        self._thread.start()
        return self.url

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the {self._name} is not started")
        return int(self._server.server_port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
