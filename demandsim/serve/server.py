"""Starting and stopping the explorer's web server (Werkzeug, threaded) on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from werkzeug.serving import make_server

from demandsim.serve.app import make_app
from demandsim.serve.runs import RunQueue
from demandsim.serve.sources import Councils


class Explorer:
    """The app, its run queue and a web server, started and stopped together."""

    def __init__(
        self,
        out_root: Path,
        scenarios_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 8050,
        jobs: int | None = None,
    ) -> None:
        self.runs = RunQueue(out_root, jobs)
        self.councils = Councils(out_root)
        self.app = make_app(self.runs, self.councils, scenarios_dir)
        self._server = make_server(host, port, self.app.server, threaded=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.server_port}/"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> Explorer:
        """Serve from a background thread (tests and the benchmark)."""
        self._thread = threading.Thread(target=self.serve_forever, name="demandsim-serve",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering requests, close the socket, cancel the runs (their workers are ended),
        and end the queue's and the calibrations' threads."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(10)
        self._server.server_close()
        self.runs.stop()
        self.councils.stop()
