"""Security Hub sink: each alert imported as one ASFF finding with ``BatchImportFindings``.

The ASFF document is :func:`cspm_stream.delivery.asff.to_asff` of the alert; its ``Id``
is the finding uid, so every state of one finding (new, failing, resolved, suppressed)
imports onto the **same** Security Hub finding: a resolved finding is re-imported with
``RecordState: ARCHIVED`` and ``Workflow.Status: RESOLVED`` (a passed check as
``Compliance.Status: PASSED``), which is how a finding provider closes its own finding.
``ProductArn`` is the sink account's default product in the sink's region (the
``arn:aws:securityhub:<region>:<account>:product/<account>/default`` a custom
integration imports under); ``AwsAccountId`` stays the account the finding is about.
A finding Security Hub refuses (``FailedFindings``) is a permanent failure with its
error code — dead-lettered, never retried; throttling and 5xx are retried.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.delivery.asff import to_asff
from cspm_stream.delivery.model import Alert
from cspm_stream.delivery.sinks.aws import AwsClient
from cspm_stream.errors import SinkError

_TEST_ACCOUNT = "000000000000"  # the account of `alerts test`'s synthetic finding


class SecurityHubSink:
    inline = False

    def __init__(self, name: str, region: str, *, endpoint_url: str = "", timeout_s: float = 5.0) -> None:
        self.name = name
        self.region = region
        self._aws = AwsClient(name, "securityhub", region, endpoint_url, timeout_s)
        self._sts = AwsClient(name, "sts", region, endpoint_url, timeout_s)
        self.account = ""

    async def start(self) -> None:
        await self._aws.start()
        await self._sts.start()
        ident = await self._sts.call("get_caller_identity")
        self.account = str(ident.get("Account") or "")
        if not self.account:
            raise SinkError(f"sink {self.name}: STS returned no account id", retriable=True)

    def document(self, alert: Alert) -> dict[str, Any]:
        """The ASFF finding this sink imports for ``alert``."""
        doc = to_asff(alert)
        doc["ProductArn"] = f"arn:aws:securityhub:{self.region}:{self.account}:product/{self.account}/default"
        if alert.unmapped.get("test") is True and doc["AwsAccountId"] == _TEST_ACCOUNT:
            doc["AwsAccountId"] = self.account  # `alerts test`: a finding in the sink's own account
        doc["ProductFields"] = {"ProviderName": "cspm-stream", "cspm/state": alert.state}
        return doc

    async def send(self, alert: Alert) -> None:
        r = await self._aws.call("batch_import_findings", Findings=[self.document(alert)])
        failed = r.get("FailedFindings") or []
        if failed or int(r.get("FailedCount") or 0):
            first = failed[0] if failed and isinstance(failed[0], dict) else {}
            code = str(first.get("ErrorCode", "Unknown"))
            msg = " ".join(str(first.get("ErrorMessage", "")).split())[:200]
            raise SinkError(
                f"sink {self.name}: Security Hub refused finding {alert.uid}: {code}: {msg}",
                retriable=code in ("ThrottlingException", "InternalException"),
            )

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        await self._aws.stop()
        await self._sts.stop()
