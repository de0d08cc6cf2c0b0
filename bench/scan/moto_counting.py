"""moto in server mode, counting the AWS requests it serves per service (bench only).

    python -m bench.scan.moto_counting --port 5000

Every signed request is counted under the service and region of its SigV4 credential scope
(``Credential=<key>/<date>/<region>/<service>/aws4_request``), whichever tool sent it, so the
scanners compared by ``bench.scan`` are counted the same way. ``GET /_bench/counts`` answers
``{"total": n, "by_service": {...}, "by_service_region": {...}}``; ``POST /_bench/reset``
zeroes the counters.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


class Counting:
    """WSGI middleware: count, then hand the request to moto."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.by_service: Counter[str] = Counter()
        self.by_service_region: Counter[str] = Counter()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": sum(self.by_service.values()),
                "by_service": dict(sorted(self.by_service.items())),
                "by_service_region": dict(sorted(self.by_service_region.items())),
            }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_bench/"):
            if path == "/_bench/reset" and environ.get("REQUEST_METHOD") == "POST":
                with self.lock:
                    self.by_service.clear()
                    self.by_service_region.clear()
            body = json.dumps(self.snapshot()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if not path.startswith("/moto-api"):
            m = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            service, region = (m.group(2), m.group(1)) if m else ("unsigned", "-")
            with self.lock:
                self.by_service[service] += 1
                self.by_service_region[f"{service}/{region}"] += 1
        return self.app(environ, start_response)


def main() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, Counting(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
