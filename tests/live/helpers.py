"""gunicorn in a subprocess of its own process group, and a small JSON client for it.

The benchmarks (``bench/harness.py``) run their servers with the same ``Gunicorn``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Errors in a server's log, in the app's text or JSON lines (gunicorn's too: gunicorn.conf.py),
#: or in gunicorn's own format, which it writes before it has read its settings.
ERROR_MARKS = (
    "Traceback",
    "ERROR in ",
    "CRITICAL in ",
    '"level": "ERROR"',
    '"level": "CRITICAL"',
    "[ERROR]",
    "[CRITICAL]",
    "WORKER TIMEOUT",
)
#: What a client sees when the server goes away under it: refused, reset, cut short.
NO_ANSWER = (OSError, http.client.HTTPException)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_argv(port: int, *options: str) -> list[str]:
    """gunicorn as ``make serve`` runs it (its timeouts, logs, metrics, no control socket), on
    this port, with ``options`` after."""
    config = str(ROOT / "gunicorn.conf.py")
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        config,
        "--bind",
        f"127.0.0.1:{port}",
        *options,
    ]


def call(
    base: str,
    token: str | None,
    method: str,
    path: str,
    body: dict | None = None,
    timeout: float = 30,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict]:
    """One JSON request; (status, decoded body), 4xx and 5xx included."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def share_body(profile_id: str) -> dict:
    return {"profile_id": profile_id, "source_type": "reward", "source_id": 7}


def group_members(pgid: int) -> list[int]:
    """Live processes (zombies excluded) whose process group is ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")".
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state not in "ZX":
            members.append(int(entry.name))
    return members


class Gunicorn:
    """``gunicorn 'webapp:create_app()'`` (or another ``app``) as `make serve` runs it, on a
    port of its own.

    The master leads a new session, so it and its workers form one process group that
    ``stop`` and ``kill_master`` can account for, whatever happens to the master.
    """

    def __init__(
        self,
        port: int,
        env: dict[str, str],
        logs: Path,
        workers=2,
        threads=8,
        app: str | None = None,
        name: str = "gunicorn",
    ):
        self.port, self.env, self.logs = port, env, logs
        self.workers, self.threads = workers, threads
        self.app, self.name = app, name
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.logs / f"{self.name}-{self.starts}.log"

    def log(self) -> str:
        """Everything this run of gunicorn wrote: its own log, the app's request lines and
        errors."""
        return self.log_path.read_text(errors="replace")

    def log_errors(self) -> list[str]:
        return [line for line in self.log().splitlines() if any(m in line for m in ERROR_MARKS)]

    def answered_by(self, method: str, path: str, status: int) -> list[int]:
        """The worker pid of each such request, from the app's request lines (text format)."""
        line = rf"\(pid (\d+), request \S+\): {method} {re.escape(path)} {status} in "
        return [int(pid) for pid in re.findall(line, self.log())]

    def start(self, timeout: float = 20) -> tuple[int, dict]:
        """Start gunicorn and wait for /healthz to answer and every worker to be up; returns
        that answer."""
        assert self.process is None, "already running"
        self.starts += 1
        # Each run counts its metrics in a directory of its own, beside its log.
        metrics = self.logs / f"{self.name}-{self.starts}-metrics"
        env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics), **self.env}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                gunicorn_argv(
                    self.port,
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                    *([self.app] if self.app else []),  # else gunicorn.conf.py's wsgi_app
                ),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                # A file, not a pipe: nobody drains a pipe while the test runs, and a full one
                # would block the server once the access log passes 64 KiB.
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(*NO_ANSWER):
                answer = call(self.base, None, "GET", "/healthz", timeout=2)
                if len(self.worker_pids()) == self.workers:
                    return answer
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def members(self) -> list[int]:
        """The live master and workers of the current run."""
        return group_members(self.process.pid) if self.process else []

    def worker_pids(self) -> list[int]:
        return [pid for pid in self.members() if pid != self.process.pid]

    def kill_master(self, linger: float = 5) -> list[int]:
        """SIGKILL the master alone, as a crash would; returns the workers that outlived it.

        Orphaned workers notice their parent is gone within a second and leave once their
        requests are answered; any still there after ``linger`` seconds are killed, so that the
        port is free for a restart.
        """
        pgid = self.process.pid
        os.kill(pgid, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + linger
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = group_members(pgid)
        self._kill_group(pgid)
        self.process = None
        return survivors

    def kill_group(self) -> None:
        """SIGKILL the master and every worker at once, mid-request (the OOM killer, a
        container stop with no grace)."""
        pgid = self.process.pid
        os.killpg(pgid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._kill_group(pgid)
        self.process = None

    def stop(self) -> None:
        """SIGTERM the group (a graceful stop), then SIGKILL whatever is left of it."""
        if self.process is None:
            return
        pgid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)  # the workers finish their requests
        self._kill_group(pgid)
        self.process.wait(timeout=10)
        self.process = None

    @staticmethod
    def _kill_group(pgid: int) -> None:
        deadline = time.monotonic() + 10
        while group_members(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"process group {pgid} would not die: {group_members(pgid)}")
            time.sleep(0.05)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()
