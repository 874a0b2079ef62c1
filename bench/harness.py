"""The bench's plumbing: a scratch directory, gunicorn servers, a keep-alive client, statistics.

Every server is the live tests' ``Gunicorn``: ``python -m gunicorn`` in a session of its own, so
it and its workers form one process group. ``Workspace.close`` (also run at exit and on SIGINT/
SIGTERM) stops every group it started and removes the scratch directory.
"""

from __future__ import annotations

import atexit
import contextlib
import html
import http.client
import json
import math
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from tests.live.helpers import Gunicorn, free_port

from .databases import PostgresDatabases, SQLiteFiles

ROOT = Path(__file__).resolve().parent.parent
APP = "webapp:create_app()"
BASELINE_APP = "bench.baseline_app:create_app()"
STAFF_EMAIL = "bench@example.com"
STAFF_PASSWORD = "bench-password-" + secrets.token_hex(8)
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def proc_status_kb(pid: int, key: str) -> int:
    """A ``kB`` figure (VmRSS, VmHWM) from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


class Server(Gunicorn):
    """A server of this workspace: logs in its directory, stopped by ``Workspace.close``."""

    def __init__(self, ws: Workspace, name: str, app: str, env: dict, workers=2, threads=8):
        super().__init__(free_port(), env, ws.dir, workers, threads, app=app, name=name)
        ws.servers.append(self)

    def start(self, timeout: float = 30) -> Server:
        status, body = super().start(timeout)
        if status != 200:
            self.stop()
            raise RuntimeError(f"{self.name}: /healthz answered {status} {body}")
        return self


@dataclass
class Workspace:
    """The scratch directory, the databases and everything started in this run.

    The databases are SQLite files here, or with ``BENCH_POSTGRES_URL`` databases on that
    PostgreSQL server (``databases``).
    """

    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="share-desk-bench-")))
    secret: str = field(default_factory=lambda: secrets.token_hex(32))
    servers: list[Server] = field(default_factory=list)
    token: str = ""
    closed: bool = False
    databases: SQLiteFiles | PostgresDatabases | None = None

    def __post_init__(self):
        atexit.register(self.close)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        postgres = os.environ.get("BENCH_POSTGRES_URL")
        self.databases = PostgresDatabases(postgres) if postgres else SQLiteFiles(self.dir)

    def _on_signal(self, signum, _frame):
        self.close()
        raise SystemExit(128 + signum)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for server in self.servers:
            with contextlib.suppress(Exception):
                server.stop()
        with contextlib.suppress(Exception):
            self.databases.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def app_env(self, database: str, **extra: str) -> dict[str, str]:
        """The app's environment on the database at URL ``database``."""
        return {
            **os.environ,
            "WEBAPP_DATABASE_URL": database,
            "WEBAPP_SECRET_KEY": self.secret,
            "WEBAPP_INSTANCE_PATH": str(self.dir / "instance"),
            # The per-token API limit (1200/min by default) would cap the load, not measure it.
            "WEBAPP_API_RATE_LIMIT": "100000000 per minute",
            **extra,
        }

    def flask(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "webapp", *args],
            cwd=ROOT,
            env=self.app_env(self.databases.template_url),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def make_template(self) -> None:
        """Schema by the migrations, an admin by the CLI, an admin API token by the CLI."""
        self.databases.prepare()
        self.flask("init-db")
        self.flask("staff", "create", STAFF_EMAIL, "--role", "admin", stdin=STAFF_PASSWORD + "\n")
        self.token = self.flask("tokens", "create", "bench", "--role", "admin").strip()
        self.token = self.token.splitlines()[-1].strip()
        self.databases.finish_template()

    def database(self, name: str) -> str:
        """A copy of the template database; its URL."""
        return self.databases.copy(name)

    def drop(self, database: str) -> None:
        """The copy at URL ``database`` is no longer needed."""
        self.databases.drop(database)

    def app_server(self, name: str, database: str, workers=2, threads=8) -> Server:
        env = self.app_env(database)
        return Server(self, name, APP, env, workers, threads).start()

    def baseline_server(self, name: str, database: str, workers=2, threads=8) -> Server:
        env = {**os.environ, "BENCH_DATABASE_URL": database}
        return Server(self, name, BASELINE_APP, env, workers, threads).start()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """One keep-alive HTTP/1.1 connection with a cookie jar, an optional token and CSRF token."""

    def __init__(self, port: int, timeout: float = 30, token: str | None = None):
        self.port, self.timeout, self.token = port, timeout, token
        self.connection: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def copy(self) -> Client:
        """Another connection with the same cookies and tokens (a second tab)."""
        other = Client(self.port, self.timeout, self.token)
        other.cookies, other.csrf = dict(self.cookies), self.csrf
        return other

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method, path, body: bytes | None = None, headers=None) -> Response:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.connection is not None and _dropped(self.connection):
            self.close()  # the server closed it while idle (keep-alive timeout): reconnect
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, self.timeout)
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return Response(response.status, response.headers, data)

    def get(self, path: str, headers=None) -> Response:
        return self.request("GET", path, headers=headers)

    def api(self, method: str, path: str, payload: dict | None = None) -> Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        return self.request(method, path, body, headers)

    def form(self, path: str, fields: dict, headers=None) -> Response:
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, body, headers)

    def sign_in(self) -> Client:
        """Sign in through the form, then pick up a CSRF token for later posts."""
        page = self.get("/sign-in")
        token = _csrf_from(page)
        answer = self.form(
            "/sign-in", {"csrf_token": token, "email": STAFF_EMAIL, "password": STAFF_PASSWORD}
        )
        if answer.status != 302:
            raise RuntimeError(f"sign-in answered {answer.status}: {answer.text[:500]}")
        self.csrf = _csrf_from(self.get("/shares/new"))
        return self


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle keep-alive connection was closed by the server (as urllib3 checks too):
    an idle socket that reads as ready has hit end-of-file."""
    if connection.sock is None:
        return True
    readable, _, _ = select.select([connection.sock], [], [], 0)
    return bool(readable)


def _csrf_from(page: Response) -> str:
    found = CSRF_INPUT.search(page.text)
    if page.status != 200 or not found:
        raise RuntimeError(f"no CSRF token on the page ({page.status}): {page.text[:500]}")
    return html.unescape(found.group(1))


def query(path: str, params: dict[str, str | int] | None = None) -> str:
    return f"{path}?{urllib.parse.urlencode(params)}" if params else path


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
