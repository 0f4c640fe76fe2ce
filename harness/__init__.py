"""What the tests and the benchmarks both run: a database of one's own, gunicorn on a free port.

Neither depends on the other: `tests/` and `bench/` import these from here.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScratchDatabase:
    """A database of one's own for a run: on the PostgreSQL server at `server_url` a new
    database named `prefix_<random>` (`drop()` removes it), or without a server URL the SQLite
    file `sqlite_path`. Benchmarks, the test suite and the browser tests use it."""

    def __init__(self, server_url: str, prefix: str, sqlite_path: Path):
        self.admin_url = None
        if not server_url:
            self.url = f"sqlite:///{sqlite_path}"
            return
        import secrets

        import psycopg
        from sqlalchemy import make_url

        from app.config import normalise_database_url

        server = make_url(normalise_database_url(server_url))
        self.admin_url = server.set(drivername="postgresql").render_as_string(False)
        self.name = f"{prefix}_{secrets.token_hex(4)}"
        with psycopg.connect(self.admin_url, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.name}"')
        self.url = server.set(database=self.name).render_as_string(False)

    def copy(self, suffix: str) -> "ScratchDatabase":
        """A new PostgreSQL database made from this one as its template (nobody may be connected
        to this one meanwhile); `drop()` it when done."""
        import psycopg
        from sqlalchemy import make_url

        copy = ScratchDatabase.__new__(ScratchDatabase)
        copy.admin_url, copy.name = self.admin_url, f"{self.name}_{suffix}"
        with psycopg.connect(self.admin_url, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{copy.name}" TEMPLATE "{self.name}"')
        copy.url = make_url(self.url).set(database=copy.name).render_as_string(False)
        return copy

    def drop(self) -> None:
        if self.admin_url:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Gunicorn:
    """Run the app (or another WSGI target) under gunicorn on a free port, and wait until it
    answers. `log` keeps gunicorn's output in a file (quoted when it fails to start)."""

    def __init__(
        self,
        target: str,
        env: dict,
        workers: int = 2,
        cwd: Path = ROOT,
        *,
        threads: int = 1,
        log: Path | None = None,
        wait: float = 10,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        output = log.open("wb") if log else None
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    str(workers),
                    "--threads",
                    str(threads),
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "--log-level",
                    "warning",
                    target,
                ],
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=True,
            )
        finally:
            if output:
                output.close()  # gunicorn has its own copy
        self._wait(wait)

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped{self._output()}")
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)  # noqa: S310
                return
            except OSError as error:
                if getattr(error, "code", None):  # an HTTP error: the server answers
                    return
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer at {self.url}{self._output()}")

    def _output(self) -> str:
        return f":\n{self.log.read_text(errors='replace')}" if self.log else ""

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)
