"""A throwaway `forever serve` for benchmarks.

A fresh temporary directory is the data directory (so the default database is a new SQLite file in it);
`forever demo` loads the demo catalog and logins, then `forever serve` runs on a free loopback port until the
`with` block ends. Inherited FOREVER_* variables are dropped so a developer's own settings (or database) are
never touched; pass `database_url` (e.g. a scratch PostgreSQL database) to benchmark another engine.

    with running_server() as server:
        print(server.base_url, server.pid)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FOREVER = REPO_ROOT / ".venv" / "bin" / "forever"
HOST = "127.0.0.1"


class ServerFailed(RuntimeError):
    """The server could not be prepared or started, or died."""


@dataclasses.dataclass
class Server:
    host: str
    port: int
    pid: int
    data_dir: Path
    database: str  # "sqlite" or "postgresql"
    log_path: Path
    process: subprocess.Popen = dataclasses.field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise ServerFailed(f"the server exited with {self.process.returncode}\n{tail(self.log_path)}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("FOREVER_")}
    env["FOREVER_DATA_DIR"] = str(data_dir)
    if database_url:
        env["FOREVER_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def http_json(method: str, url: str, body: object | None = None, token: str | None = None,
              timeout: float = 10.0) -> tuple[int, object]:
    """A one-off JSON call with the standard library (set-up only, never under load)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, payload.decode("utf-8", "replace")


def _wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            status, _ = http_json("GET", f"{server.base_url}/health", timeout=2.0)
            if status == 200:
                return
            last = f"HTTP {status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise ServerFailed(f"GET /health did not answer 200 within {timeout:.0f}s ({last})\n"
                       f"{tail(server.log_path)}")


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_server(database_url: str | None = None, *, keep: bool = False, startup_timeout: float = 60.0,
                   quiet: bool = True) -> Iterator[Server]:
    """Prepare demo data and serve it; stop the server and remove the temporary directory afterwards."""
    if not FOREVER.exists():
        raise ServerFailed(f"{FOREVER} not found: run `make venv` first")
    data_dir = Path(tempfile.mkdtemp(prefix="forever-bench-"))
    log_path = data_dir / "server.log"
    env = _environment(data_dir, database_url)
    process = None
    try:
        demo = subprocess.run([str(FOREVER), "demo"], check=False, cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        if demo.returncode != 0:
            raise ServerFailed(f"`forever demo` failed ({demo.returncode}):\n{demo.stdout}\n{demo.stderr}")
        if not quiet:
            print(demo.stdout, file=sys.stderr)
        port = free_port()
        with open(log_path, "wb") as log:
            process = subprocess.Popen([str(FOREVER), "serve", "--host", HOST, "--port", str(port)],
                                       cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        kind = "postgresql" if database_url and database_url.startswith("postgres") else "sqlite"
        server = Server(host=HOST, port=port, pid=process.pid, data_dir=data_dir, database=kind,
                        log_path=log_path, process=process)
        _wait_healthy(server, startup_timeout)
        yield server
    finally:
        if process is not None:
            _stop(process)
        if keep:
            print(f"kept {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":  # manual use: serve the throwaway instance until Ctrl-C
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with running_server(args.database_url, quiet=False) as running:
        print(f"serving {running.base_url} (pid {running.pid}); Ctrl-C to stop", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            while running.process.poll() is None:
                time.sleep(0.5)
