"""Operations: `/healthz` for the load balancer and the supervisor, `/metrics` for
Prometheus. Both read live figures (SQLite counts, the webhook's counters) at each request;
neither shows anything about a person. Put them behind the reverse proxy's allow-list if
the figures themselves should not be public."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlite_utils import Database

from common.clock import parse_iso
from storage import erasure, health
from storage.dossiers import STATUSES as DOSSIER_STATUSES
from storage.outbox import FAILED, PENDING, SAVED, SENDING, SENT, UNCERTAIN

from .deps import Services

log = logging.getLogger(__name__)

OUTBOX_STATUSES = (PENDING, SENDING, SENT, SAVED, UNCERTAIN, FAILED)
BACKLOG = (PENDING, UNCERTAIN, SENDING)
INTEGRATION_STATUSES = ("pending", "sent", "answered")
METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # text/plain; version=0.0.4; charset=utf-8
NO_STORE = {"Cache-Control": "no-store"}


def outbox_backlog(db: Database, now: dt.datetime) -> dict[str, Any]:
    counts = health.by_status(db, "outbox", OUTBOX_STATUSES)
    oldest = health.oldest_in_outbox(db, PENDING)
    age = None if oldest is None else max(0, round((now - parse_iso(oldest)).total_seconds()))
    return {
        **{status: counts[status] for status in BACKLOG},
        "backlog": sum(counts[status] for status in BACKLOG),
        "oldest_pending_age_seconds": age,
    }


class SportelloCollector(Collector):
    """Figures read at each scrape: the webhook's counters, and counts from SQLite."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        s = self.services
        counters = s.counters
        for name, what in (
            ("updates_handled", "Telegram updates handled by the Dispatcher"),
            ("updates_duplicate", "Telegram updates delivered again and skipped"),
            ("updates_failed", "Telegram updates whose handler raised"),
        ):
            family = CounterMetricFamily(f"sportello_{name}", what)
            family.add_metric([], counters.get(name, 0))
            yield family
        rejected = CounterMetricFamily(
            "sportello_webhook_rejected",
            "Webhook requests refused: wrong secret, not an update, or the database unavailable",
            labels=["reason"],
        )
        rejected.add_metric(["unauthorized"], counters.get("webhook_unauthorized", 0))
        rejected.add_metric(["bad_request"], counters.get("webhook_bad_request", 0))
        rejected.add_metric(["unavailable"], counters.get("webhook_unavailable", 0))
        yield rejected

        if s.last_receipt_poll is not None:
            poll = GaugeMetricFamily(
                "sportello_last_receipt_poll_timestamp_seconds",
                "When the PEC receipts mailbox was last read successfully (Unix time)",
            )
            poll.add_metric([], s.last_receipt_poll.timestamp())
            yield poll

        up = GaugeMetricFamily("sportello_database_up", "1 when SQLite answers")
        if not health.answers(s.db):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        dossiers = GaugeMetricFamily("sportello_dossiers", "Dossiers by status", labels=["status"])
        for status, n in health.by_status(s.db, "dossiers", DOSSIER_STATUSES).items():
            dossiers.add_metric([status], n)
        yield dossiers

        outbox = health.by_status(s.db, "outbox", OUTBOX_STATUSES)
        messages = GaugeMetricFamily(
            "sportello_outbox_messages", "Outbox e-mail messages by status", labels=["status"]
        )
        for status, n in outbox.items():
            messages.add_metric([status], n)
        yield messages
        failures = CounterMetricFamily(
            "sportello_send_failures",
            "Outbox messages that failed or whose fate is uncertain (falls after a requeue)",
        )
        failures.add_metric([], outbox[FAILED] + outbox[UNCERTAIN])
        yield failures

        requests = GaugeMetricFamily(
            "sportello_integration_requests",
            "Requests for more documents sent by the social services, by status",
            labels=["status"],
        )
        for status, n in health.by_status(
            s.db, "integration_requests", INTEGRATION_STATUSES
        ).items():
            requests.add_metric([status], n)
        yield requests


def _registry(request: Request) -> CollectorRegistry:
    """One registry per app, made at the first scrape."""
    state = request.app.state
    registry = getattr(state, "metrics_registry", None)
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(SportelloCollector(state.services))
        try:
            from prometheus_client import ProcessCollector

            ProcessCollector(namespace="sportello", registry=registry)
        except Exception:  # no /proc: the process figures are simply absent
            pass
        state.metrics_registry = registry
    return registry


def ops_router() -> APIRouter:
    router = APIRouter()

    # async: the SQLite connection belongs to the event loop's thread
    @router.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> Response:
        s: Services = request.app.state.services
        now = s.clock()
        if not health.answers(s.db):
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"},
                status_code=503,
                headers=NO_STORE,
            )
        try:
            backlog = outbox_backlog(s.db, now)
        except Exception as exc:
            log.warning("outbox figures failed: %s", type(exc).__name__)
            return JSONResponse(
                {"status": "unavailable", "database": "error"}, status_code=503, headers=NO_STORE
            )
        body: dict[str, Any] = {
            "status": "ok",
            "database": "ok",
            "outbox": backlog,
            "receipts": "on" if s.settings.imap_host else "off",
            "last_receipt_poll": (
                s.last_receipt_poll.astimezone(dt.UTC).isoformat(timespec="seconds")
                if s.last_receipt_poll is not None and s.settings.imap_host
                else None
            ),
            "webhook": s.extra.get("webhook", "off"),
            # an erasure's WAL checkpoint a reader blocked, tried again until it goes
            "erasure_checkpoint_owed_since": erasure.checkpoint_owed(s.db),
            "time": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        }
        return JSONResponse(body, headers=NO_STORE)

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return Response(
            generate_latest(_registry(request)),
            media_type=METRICS_CONTENT_TYPE,
            headers=NO_STORE,
        )

    return router
