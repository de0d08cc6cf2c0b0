"""Alert fan-out: pure routing core (dedup, routes) and sinks behind one interface.

- :mod:`~cspm_stream.alerts.model` — the Alert decoded from an OCSF finding
- :mod:`~cspm_stream.alerts.router` — dedup by uid+state, route matching (pure)
- :mod:`~cspm_stream.alerts.sinks` — kafka (Emits), webhook (HMAC), slack, file/stdout
- :mod:`~cspm_stream.alerts.runner` — per-sink bounded queues, retries, DLQ, metrics
"""
