"""Alert fan-out: pure routing core (dedup, routes) and sinks behind one interface.

- :mod:`~cspm_stream.delivery.model` — the Alert decoded from an OCSF finding
- :mod:`~cspm_stream.delivery.router` — dedup by uid+state, route matching (pure)
- :mod:`~cspm_stream.delivery.sinks` — kafka (Emits), webhook (HMAC), slack, file/stdout
- :mod:`~cspm_stream.delivery.runner` — per-sink bounded queues, retries, DLQ, metrics
"""
