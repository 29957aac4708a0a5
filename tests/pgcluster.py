"""A throwaway PostgreSQL server for the test run.

Usage::

    cluster = PostgresCluster().start()      # or: with PostgresCluster() as cluster: ...
    cluster.create_database("forever_template")
    ...                                      # migrate forever_template once
    cluster.create_database("t123", template="forever_template")   # per test, fast
    cluster.url("t123")                      # postgresql://forever@127.0.0.1:PORT/t123
    cluster.drop_database("t123")
    cluster.stop()                           # idempotent; also runs at interpreter exit

The server lives in a fresh ``tempfile.mkdtemp()`` directory, listens on 127.0.0.1 on a free port, trusts
every local connection and runs with fsync off, so it is fast and disposable.  As root (PostgreSQL refuses to
run as root) ``initdb``/``pg_ctl`` are run as the existing ``postgres`` system user through ``runuser``.

If ``FOREVER_TEST_POSTGRES_URL`` is set (``postgresql://user:pw@host:5432/postgres``), no server is started:
databases are created and dropped on that server instead, and ``stop()`` drops whatever this object created
and did not drop itself.

Only the standard library is needed; ``psql`` from the server's bin directory runs the SQL, and asyncpg is
used instead when no ``psql`` is found (e.g. with an external server and no local PostgreSQL install).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ENV_URL = "FOREVER_TEST_POSTGRES_URL"
SUPERUSER = "forever"
HOST = "127.0.0.1"
SYSTEM_USER = "postgres"

_NOT_FOUND = (
    "PostgreSQL server binaries not found: run `make test` as root so it installs the `postgresql` package"
)
_SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")


def find_pg_bin() -> Path:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Prefers the newest ``/usr/lib/postgresql/<version>/bin`` (Debian layout), else the directory of
    ``pg_ctl`` on PATH (or of its resolved symlink target).
    """

    def complete(d: Path) -> bool:
        return all(os.access(d / tool, os.X_OK) for tool in _SERVER_TOOLS)

    def version_key(d: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", d.parent.name)) or (0,)

    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version_key, reverse=True)
    for d in debian:
        if complete(d):
            return d
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        for d in (Path(pg_ctl).parent, Path(pg_ctl).resolve().parent):
            if complete(d):
                return d
    raise RuntimeError(_NOT_FOUND)


def free_port(host: str = HOST) -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresError(RuntimeError):
    """Starting, stopping or talking to the test server failed."""


class PostgresCluster:
    """A disposable PostgreSQL server (or, with ``FOREVER_TEST_POSTGRES_URL``, an existing one).

    ``external_url``: use that server instead of starting one; by default it is read from
    ``FOREVER_TEST_POSTGRES_URL`` unless ``use_env=False``.
    """

    def __init__(self, external_url: str | None = None, *, use_env: bool = True, start_timeout: int = 60):
        if external_url is None and use_env:
            external_url = os.environ.get(ENV_URL) or None
        self.external_url = external_url
        self.start_timeout = start_timeout
        self.password: str | None = None
        self.admin_db = "postgres"
        self._query = ""
        if external_url:
            parts = urlsplit(external_url)
            if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
                raise ValueError(f"{ENV_URL} must look like postgresql://user:pw@host:5432/postgres")
            self.host: str = parts.hostname
            self.port: int = parts.port or 5432
            self.user: str = unquote(parts.username or SUPERUSER)
            self.password = unquote(parts.password) if parts.password is not None else None
            self.admin_db = unquote(parts.path.lstrip("/")) or "postgres"
            self._query = parts.query
        else:
            self.host = HOST
            self.port = 0
            self.user = SUPERUSER
        self.bin_dir: Path | None = None
        self.base_dir: Path | None = None
        self.data_dir: Path | None = None
        self.log_file: Path | None = None
        self.socket_dir: Path | None = None
        self._running = False
        self._owner_pid: int | None = None
        self._created: list[str] = []
        self._atexit_registered = False

    # ----------------------------------------------------------------- public API

    @property
    def external(self) -> bool:
        return bool(self.external_url)

    @property
    def running(self) -> bool:
        return self._running

    def url(self, dbname: str = "postgres") -> str:
        """``postgresql://user@127.0.0.1:PORT/dbname`` (with the password, for an external server)."""
        if self.port == 0:
            raise PostgresError("the cluster is not started")
        auth = quote(self.user, safe="")
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return urlunsplit(("postgresql", f"{auth}@{host}:{self.port}", "/" + quote(dbname, safe=""), self._query, ""))

    def start(self) -> PostgresCluster:
        if self._running:
            return self
        self._register_atexit()
        if self.external:
            self._running = True
            self._owner_pid = os.getpid()
            return self
        self.bin_dir = find_pg_bin()
        as_root = os.geteuid() == 0
        if as_root:
            try:
                pw = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresError(
                    f"running as root, but there is no `{SYSTEM_USER}` system user to run PostgreSQL as "
                    "(installing the `postgresql` package creates it; or run the tests as a normal user)"
                ) from None
            if not shutil.which("runuser"):
                raise PostgresError("running as root needs `runuser` (package util-linux) to run PostgreSQL")
        self.base_dir = Path(tempfile.mkdtemp(prefix="forever-pg-", dir=self._temp_parent(as_root)))
        self.data_dir = self.base_dir / "data"
        self.log_file = self.base_dir / "server.log"
        self.socket_dir = self.base_dir / "sock"
        self.socket_dir.mkdir()
        if as_root:
            for p in (self.base_dir, self.socket_dir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self._owner_pid = os.getpid()
        try:
            self._initdb()
            self._start_server()
        except BaseException:
            self._cleanup_files()
            raise
        self._running = True
        return self

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its files. Safe to call more than once."""
        if self._owner_pid is not None and self._owner_pid != os.getpid():
            return  # a forked child must not stop its parent's server
        if self.external:
            if self._running:
                for name in reversed(self._created):
                    try:
                        self.drop_database(name)
                    except Exception:
                        pass
            self._running = False
            return
        if self.data_dir is not None and (self.data_dir / "postmaster.pid").exists():
            self._stop_server()
        self._running = False
        self._cleanup_files()

    def pause(self, mode: str = "fast") -> None:
        """Stop the server as an outage does (`pg_ctl stop -m fast` ends the sessions and writes a checkpoint,
        `immediate` is a crash), keeping its data and port for `resume()`."""
        if self.external or not self._running:
            raise PostgresError("only a started server of this run can be paused")
        assert self.bin_dir and self.data_dir
        r = self._run_tool([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "stop", "-m", mode, "-w"],
                           timeout=30)
        if r.returncode != 0:
            raise PostgresError(f"pg_ctl stop -m {mode} failed: {(r.stderr or r.stdout).strip()}")

    def resume(self) -> None:
        """Start a paused server again, on the same port."""
        self._start_server(port=self.port)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def create_database(self, name: str, template: str | None = None) -> None:
        """``CREATE DATABASE name [TEMPLATE template]``; no session may be connected to the template."""
        sql = f"CREATE DATABASE {quote_ident(name)}"
        if template:
            sql += f" TEMPLATE {quote_ident(template)}"
        self.execute(sql)
        if name not in self._created:
            self._created.append(name)

    def drop_database(self, name: str, *, missing_ok: bool = True) -> None:
        """``DROP DATABASE [IF EXISTS] name WITH (FORCE)``: terminates the sessions still connected."""
        exists = "IF EXISTS " if missing_ok else ""
        self.execute(f"DROP DATABASE {exists}{quote_ident(name)} WITH (FORCE)")
        if name in self._created:
            self._created.remove(name)

    def execute(self, sql: str, dbname: str | None = None) -> None:
        """Run one SQL statement (autocommit) as the superuser, by default in the maintenance database."""
        if not self._running:
            raise PostgresError("the cluster is not started")
        dsn = self.url(dbname or self.admin_db)
        psql = self._psql()
        if psql is None:
            self._execute_asyncpg(dsn, sql)
            return
        env = dict(os.environ)
        env.setdefault("PGCONNECT_TIMEOUT", "10")
        env.pop("PGOPTIONS", None)
        r = subprocess.run(
            [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
        )
        if r.returncode != 0:
            raise PostgresError(f"{sql!r} failed: {(r.stderr or r.stdout).strip()}")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log ('' for an external server or when there is none)."""
        if self.log_file is None:
            return ""
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        where = "external" if self.external else str(self.base_dir)
        return f"<PostgresCluster {self.host}:{self.port} {state} {where}>"

    # ----------------------------------------------------------------- internals

    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            atexit.register(self._atexit_stop)
            self._atexit_registered = True

    def _atexit_stop(self) -> None:
        try:
            self.stop()
        except Exception:
            pass

    @staticmethod
    def _temp_parent(as_root: bool) -> str | None:
        """Where mkdtemp may create the directory: as root, somewhere `postgres` can reach."""
        if not as_root:
            return None
        parent = Path(tempfile.gettempdir()).resolve()
        for d in (parent, *parent.parents):
            if not os.stat(d).st_mode & stat.S_IXOTH:
                return "/tmp"
        return str(parent)

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SYSTEM_USER, "--", *argv]
        return argv

    def _run_tool(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_MESSAGES"] = "C"
        return subprocess.run(
            self._as_server_user(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.base_dir,
            timeout=timeout,
        )

    def _initdb(self) -> None:
        assert self.bin_dir and self.data_dir
        errors = []
        for locale in ("C.UTF-8", "C"):
            if self.data_dir.exists():
                shutil.rmtree(self.data_dir, ignore_errors=True)
            r = self._run_tool(
                [
                    str(self.bin_dir / "initdb"),
                    "-D", str(self.data_dir),
                    "-U", SUPERUSER,
                    "--auth=trust",
                    "-E", "UTF8",
                    f"--locale={locale}",
                    "--no-sync",
                ],
                timeout=120,
            )
            if r.returncode == 0:
                return
            errors.append(f"--locale={locale}: {(r.stderr or r.stdout).strip()}")
        raise PostgresError("initdb failed:\n" + "\n".join(errors))

    def _start_server(self, port: int | None = None) -> None:
        """Start the postmaster on `port`, or on a free port (three tries, should another process take it)."""
        assert self.bin_dir and self.data_dir and self.log_file and self.socket_dir
        last = ""
        for _attempt in range(1 if port else 3):
            self.port = port or free_port(HOST)
            options = " ".join(
                [
                    f"-c listen_addresses={HOST}",
                    f"-p {self.port}",
                    f"-k {shlex.quote(str(self.socket_dir))}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            argv = [
                str(self.bin_dir / "pg_ctl"),
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-o", options,
                "-w", "-t", str(self.start_timeout),
                "start",
            ]
            try:
                r = self._run_tool(argv, timeout=self.start_timeout + 15)
                output = (r.stderr or r.stdout).strip()
                ok = r.returncode == 0
            except subprocess.TimeoutExpired:
                output, ok = "pg_ctl start timed out", False
            if ok:
                return
            tail = self.log_tail()
            last = f"pg_ctl start failed on port {self.port}: {output}\n--- server log tail ---\n{tail}"
            self._stop_server()  # in case it half-started
            if "could not bind" not in tail and "already in use" not in tail:
                break
        raise PostgresError(last)

    def _stop_server(self) -> None:
        assert self.bin_dir and self.data_dir
        try:
            r = self._run_tool(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "stop", "-m", "immediate", "-w"],
                timeout=30,
            )
            if r.returncode == 0:
                return
        except (OSError, subprocess.TimeoutExpired):
            pass
        # pg_ctl could not do it: kill the postmaster named in the pid file, if it is still there.
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.05)
        except (OSError, ValueError, IndexError):
            pass

    def _cleanup_files(self) -> None:
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def _psql(self) -> Path | None:
        dirs = []
        if self.bin_dir is not None:
            dirs.append(self.bin_dir)
        else:
            try:
                dirs.append(find_pg_bin())
            except RuntimeError:
                pass
        for d in dirs:
            if os.access(d / "psql", os.X_OK):
                return d / "psql"
        found = shutil.which("psql")
        return Path(found) if found else None

    @staticmethod
    def _execute_asyncpg(dsn: str, sql: str) -> None:
        try:
            import asyncpg
        except ImportError:
            raise PostgresError("neither psql nor asyncpg is available to run SQL") from None

        async def run() -> None:
            conn = await asyncpg.connect(dsn, timeout=10)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        # A thread of its own, so this also works when called from inside a running event loop.
        error: list[BaseException] = []

        def target() -> None:
            try:
                asyncio.run(run())
            except BaseException as e:  # noqa: BLE001 - re-raised below
                error.append(e)

        t = threading.Thread(target=target, name="pgcluster-sql")
        t.start()
        t.join()
        if error:
            raise PostgresError(f"{sql!r} failed: {error[0]}") from error[0]
