"""Observability: Prometheus metrics, the health/metrics web server and pipeline self-monitoring.

* :func:`create_metrics` builds a fresh registry with every metric (nothing at import time).
* :class:`WebServer` serves ``/metrics``, ``/healthz`` and ``/readyz`` on ``web.host`` (127.0.0.1).
* :func:`blind_spots` turns silent accounts/regions into OCSF Detection Findings.
* :func:`cspm_stream.observability.report_metrics.refresh_report_gauges` exposes the report's
  numbers (posture score per framework/account, ...) as gauges (imported on use: it needs Kafka).
"""

from __future__ import annotations

from cspm_stream.observability.blindspots import blind_spots, freshness, note
from cspm_stream.observability.metrics import Metrics, create_metrics, record_report
from cspm_stream.observability.web import WebServer

__all__ = ["Metrics", "WebServer", "blind_spots", "create_metrics", "freshness", "note", "record_report"]
