"""`forever serve` as a real process on a test's own database and data directory, for the fault tests:
started, killed with SIGKILL (no shutdown, no flush, no cleanup), started again; and the CLI run beside it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from forever.settings import Settings

FOREVER = Path(sys.executable).with_name("forever")
HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def engine_name(settings: Settings) -> str:
    """How the figures name the database of a run."""
    return "sqlite" if settings.database_url.startswith("sqlite") else "postgresql"


def environment(settings: Settings) -> dict[str, str]:
    """The test's settings as the server reads them: its database, data directory, secret (voucher codes
    derive from it) and the test's cheap Argon2 cost. A developer's own FOREVER_* variables are dropped."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FOREVER_")}
    env.update(FOREVER_DATABASE_URL=settings.database_url, FOREVER_DATA_DIR=str(settings.data_dir),
               FOREVER_SECRET_KEY=settings.secret_key.decode(),
               FOREVER_ARGON2_MEMORY_KIB=str(settings.argon2_memory_kib),
               FOREVER_ARGON2_TIME_COST=str(settings.argon2_time_cost), PYTHONUNBUFFERED="1")
    return env


@dataclass
class FaultServer:
    """One address, served by successive `forever serve` processes."""

    settings: Settings
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> float:
        """Start the server and wait until /health answers 200; returns the seconds that took."""
        assert self.process is None or self.process.poll() is not None, "already running"
        started = time.monotonic()
        command = [str(FOREVER), "serve", "--host", HOST, "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=environment(self.settings), stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() - started < START_TIMEOUT:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log_tail()}")
                try:
                    if client.get("/health").status_code == 200:
                        return time.monotonic() - started
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"/health did not answer 200 within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """`kill -9`: the process gets no chance to finish a request, a transaction or a file."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """A graceful stop (teardown), forcing it if the server does not go."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `forever <args>` on the server's database and data directory."""
        return subprocess.run([str(FOREVER), *args], env=environment(self.settings), capture_output=True,
                              text=True, timeout=120, check=False)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
