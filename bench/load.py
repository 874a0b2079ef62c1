"""Closed-loop load: client threads, each on its own keep-alive connection, for a fixed time."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .harness import Client, Response, percentile

#: One step: given the client, its number and its iteration, send one request and return
#: (operation name, the answer, whether the answer is an expected one).
Step = Callable[[Client, int, int], tuple[str, Response, bool]]


@dataclass
class LoadResult:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    operations: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    unfinished: int = 0  # client threads still busy after the grace period

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values()) + self.unfinished

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000 if self.latencies else float("nan")

    @classmethod
    def combined(cls, parts: list[LoadResult]) -> LoadResult:
        """Several runs as one: their times, requests and errors added up."""
        whole = cls()
        for part in parts:
            whole.seconds += part.seconds
            whole.latencies += part.latencies
            whole.operations += part.operations
            whole.errors += part.errors
            whole.samples += part.samples[: 5 - len(whole.samples)]
            whole.unfinished += part.unfinished
        return whole


def run_load(clients: list[Client], seconds: float, step: Step, grace: float = 45) -> LoadResult:
    """Run ``step`` in a loop on every client until ``seconds`` have passed.

    A request is counted once answered (or failed); errors are unexpected answers, 5xx,
    connection failures and timeouts. Threads still busy ``grace`` seconds after the end are
    counted as errors too (each client's own timeout normally ends them first).
    """
    result = LoadResult()
    lock = threading.Lock()
    ready = threading.Barrier(len(clients) + 1)
    timing = {}

    def worker(number: int, client: Client) -> None:
        ready.wait()
        deadline = timing["deadline"]
        iteration = 0
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                operation, answer, ok = step(client, number, iteration)
                kind = detail = None
                if not ok:
                    kind = "5xx" if answer.status >= 500 else "unexpected answer"
                    detail = f"{answer.status} {answer.text[:160]}"
            except TimeoutError as error:  # socket.timeout is TimeoutError
                operation, kind, detail = "?", "timeout", repr(error)
            except (OSError, http.client.HTTPException) as error:
                operation, kind, detail = "?", "connection failure", repr(error)
            elapsed = time.perf_counter() - began
            iteration += 1
            with lock:
                result.latencies.append(elapsed)
                result.operations[operation] += 1
                if kind is not None:
                    result.errors[kind] += 1
                    if len(result.samples) < 5:
                        result.samples.append(f"{operation}: {kind}: {detail}")
        client.close()

    threads = [
        threading.Thread(target=worker, args=(n, c), daemon=True) for n, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    timing["deadline"] = started + seconds
    ready.wait()
    for thread in threads:
        thread.join(timeout=max(0.0, started + seconds + grace - time.monotonic()))
    result.unfinished = sum(thread.is_alive() for thread in threads)
    # Requests answered after the deadline still count: the rate uses the time until the last.
    result.seconds = time.monotonic() - started
    return result
