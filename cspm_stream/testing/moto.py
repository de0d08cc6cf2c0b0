"""moto in server mode on 127.0.0.1 (aiobotocore needs a real HTTP endpoint)."""

from __future__ import annotations

import os
import re
import urllib.request
from types import TracebackType
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account

_FAKE_CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoServer:
    """A ThreadedMotoServer on a free loopback port.

    >>> with MotoServer() as moto:               # doctest: +SKIP
    ...     s3 = moto.boto3_client("s3")
    """

    def __init__(self, *, load_managed_policies: bool = True) -> None:
        self._server: Any = None
        self.endpoint_url = ""
        self._load_managed = load_managed_policies

    @classmethod
    def attach(cls, endpoint_url: str) -> MotoServer:
        """A handle on a moto server someone else runs (e.g. compose's); ``stop()`` leaves it running."""
        handle = cls()
        handle.endpoint_url = endpoint_url
        return handle

    def start(self) -> MotoServer:
        if self.endpoint_url:  # attached to an external server: nothing to start
            return self
        if self._load_managed:
            os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        for k, v in _FAKE_CREDS.items():
            os.environ.setdefault(k, v)
        import logging

        from moto.server import ThreadedMotoServer  # imported lazily: heavy

        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # access log + tracebacks of moto gaps

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        req = urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
            resp.read()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def boto3_client(self, service: str, region: str = "us-east-1", **kw: Any) -> Any:
        """A synchronous boto3 client for seeding (tests only)."""
        import boto3

        client = boto3.client(service, region_name=region, endpoint_url=self.endpoint_url, **kw)
        if service == "s3control":
            fix_s3control_host(client)
        return client


_HOST_PREFIX = re.compile(r"^(https?://)\d{12}\.")


def fix_s3control_host(client: Any) -> None:
    """S3 Control puts the account id in the host; moto routes by path, so strip it.

    Works for boto3 and aiobotocore clients (both emit ``before-send``).
    """

    def _rewrite(request: Any, **_: Any) -> None:
        request.url = _HOST_PREFIX.sub(r"\1", request.url)

    client.meta.events.register("before-send.s3-control.*", _rewrite)
