"""The real service as the browser tests run it: `forever demo`, then `forever serve` on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 375, "height": 812}
DEMO_SELLER = ("camille@forever.demo", "Forever-2026!")


def _forever_command() -> str:
    beside_python = Path(sys.executable).parent / "forever"
    return str(beside_python) if beside_python.exists() else (shutil.which("forever") or "forever")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """The running service: its address, a JSON API client for choosing test data, and its data directory (its
    SQLite database is there, for set-up only services can do, such as orders placed days ago)."""

    url: str
    api: httpx.Client
    data_dir: Path

    def products(self, **filters: str) -> list[dict[str, Any]]:
        response = self.api.get("/api/v1/catalog/products", params={"limit": 100, **filters})
        response.raise_for_status()
        return response.json()["items"]

    def token(self, email: str, password: str) -> str:
        response = self.api.post("/api/v1/auth/login", json={"email": email, "password": password})
        response.raise_for_status()
        return response.json()["token"]


@contextmanager
def running_server() -> Iterator[Server]:
    """The service on its own data directory (SQLite under it), stopped and removed on exit."""
    data_dir = Path(tempfile.mkdtemp(prefix="forever-browser-"))
    env = {**os.environ, "FOREVER_DATA_DIR": str(data_dir)}
    env.pop("FOREVER_DATABASE_URL", None)
    command = _forever_command()
    subprocess.run([command, "demo"], cwd=REPO_ROOT, env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen([command, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=REPO_ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    api = httpx.Client(base_url=url, timeout=10)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped: {(data_dir / 'serve.log').read_text()}")
            try:
                if api.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /health within 30 s")
            time.sleep(0.1)
        yield Server(url=url, api=api, data_dir=data_dir)
    finally:
        api.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
