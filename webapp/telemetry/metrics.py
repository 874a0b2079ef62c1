"""``/metrics`` in Prometheus' text format: requests by endpoint and status, and what the
database says now (shares by status, claims of the last day).

Request metrics are counted by each process as it answers. Under gunicorn, ``gunicorn.conf.py``
sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker imports prometheus_client, so every worker
writes its counts to files there and whichever worker answers ``/metrics`` adds them all up.
Without it (``flask run``, the tests) a process reports its own counts.

Open to requests from this machine, and to ``Authorization: Bearer <WEBAPP_METRICS_TOKEN>``.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from .. import totals
from ..clock import utcnow
from ..enums import ShareStatus
from ..errors import ApiError
from ..extensions import db
from ..models import ShareClaim
from .timing import RequestRecord

bp = Blueprint("metrics", __name__)

#: Anything else a client sends as its method is counted as "other", so a scanner cannot make
#: the metrics grow without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Pages answer in milliseconds; an export of a million rows takes seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
METRICS_TOKEN_MIN = 16
CLAIMS_WINDOW = timedelta(hours=24)

# The *_created series say when a process first counted: noise here, and absent from the
# multiprocess mode that gunicorn runs.
disable_created_metrics()
# Not in prometheus_client's default registry: each scrape builds its own (``_registry``).
REQUESTS = Counter(
    "sharedesk_http_requests",
    "HTTP requests answered, by method, Flask endpoint and status.",
    ["method", "endpoint", "status"],
    registry=None,
)
DURATION = Histogram(
    "sharedesk_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response body.",
    ["method", "endpoint", "status"],
    buckets=BUCKETS,
    registry=None,
)
# A counter, not a histogram: divided by the duration histogram's _sum, it is the database's
# share of each endpoint's time, for one write a request instead of three.
DATABASE = Counter(
    "sharedesk_http_request_database_seconds",
    "Time requests spent in database calls (statements and commits), by method and endpoint.",
    ["method", "endpoint"],
    registry=None,
)


def observe(record: RequestRecord) -> None:
    """Count one answered request (called once its body is sent)."""
    method = record.method if record.method in METHODS else "other"
    endpoint = record.endpoint or "unmatched"
    status = str(record.status)
    REQUESTS.labels(method, endpoint, status).inc()
    DURATION.labels(method, endpoint, status).observe(record.seconds)
    DATABASE.labels(method, endpoint).inc(record.db_seconds)


def figures(now: datetime) -> sa.Select:
    """One row: the number of shares of each status (``ShareStatus`` order) and of every share,
    then of claims made in the last 24 hours. A few index lookups, whatever the number of
    shares: the status totals come from the tallies, the claims from the claim-time index."""
    claims = (
        sa.select(sa.func.count())
        .select_from(ShareClaim)
        .where(ShareClaim.claimed_at >= now - CLAIMS_WINDOW)
        .scalar_subquery()
    )
    return totals.status_totals(now).add_columns(claims)


class DatabaseFigures:
    """What every server reads alike from the database, read at each scrape."""

    def collect(self):
        up = GaugeMetricFamily(
            "sharedesk_database_up", "Whether this scrape could read the database (1) or not (0)."
        )
        try:
            *shares, _every, claims = db.session.execute(figures(utcnow())).one()
        except sa.exc.SQLAlchemyError as error:
            db.session.rollback()
            current_app.logger.warning("Metrics could not read the database: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        by_status = GaugeMetricFamily(
            "sharedesk_shares",
            "Shares by status now (from the list totals' tallies).",
            labels=["status"],
        )
        for status, count in zip(ShareStatus, shares, strict=True):
            by_status.add_metric([status.value], count)
        yield by_status
        yield GaugeMetricFamily(
            "sharedesk_claims_last_24_hours",
            "Claims made in the last 24 hours, by every server.",
            value=claims,
        )


def _registry() -> CollectorRegistry:
    """This scrape's metrics: every worker's request counts, and the database's figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for metric in (REQUESTS, DURATION, DATABASE):
            registry.register(metric)
    registry.register(DatabaseFigures())
    return registry


def _from_this_machine() -> bool:
    """Whether the client is on this machine: its address, never a header, unless proxies
    are trusted (then ProxyFix has put the client's own address there)."""
    if not current_app.config["TRUSTED_PROXIES"] and "X-Forwarded-For" in request.headers:
        return False  # came through a proxy, for someone whose address we cannot know
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _has_token() -> bool:
    expected = current_app.config["METRICS_TOKEN"]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), str(expected).encode())
    )


@bp.get("/metrics")
def metrics():
    """Prometheus' scrape: open to this machine and to the metrics token, no one else."""
    if not (_has_token() or _from_this_machine()):
        if current_app.config["METRICS_TOKEN"]:
            raise ApiError(
                401,
                "Send 'Authorization: Bearer <WEBAPP_METRICS_TOKEN>' to read the metrics.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        raise ApiError(403, "The metrics are open to this machine only (see WEBAPP_METRICS_TOKEN).")
    body = generate_latest(_registry())
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def check_token(token) -> None:
    """None, or long enough not to be guessed; never repeated in the message."""
    if token and len(str(token)) < METRICS_TOKEN_MIN:
        raise ValueError(
            f"METRICS_TOKEN must be at least {METRICS_TOKEN_MIN} characters "
            "(set WEBAPP_METRICS_TOKEN, e.g. to the output of: openssl rand -hex 32)."
        )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
