"""Settings: one YAML file (``config/cspm.yaml``) plus ``CSPM_*`` environment overrides.

>>> s = load(environ={})
>>> s.kafka.topic("inventory")
'cspm.inventory'
>>> load(data={"kafka": {"partitions": 0}}, environ={})
Traceback (most recent call last):
...
cspm_stream.errors.ConfigError: config error: kafka.partitions=0: must be >= 1
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cspm_stream.settings.loader import Secret, apply_env, read_yaml, reject_yaml_secrets, setting
from cspm_stream.settings.schema import validate
from cspm_stream.settings.sections import (
    AccountSettings,
    AlertSettings,
    AppSettings,
    AwsSettings,
    CloudTrailSettings,
    ContextSettings,
    DetectionSettings,
    ExternalSettings,
    KafkaSettings,
    MonitorSettings,
    PolicySettings,
    RemediationSettings,
    RouteSettings,
    ScanSettings,
    SinkSettings,
    WebSettings,
)


@dataclass(frozen=True)
class Settings:
    app: AppSettings = setting(doc="Process settings.", factory=AppSettings)
    kafka: KafkaSettings = setting(doc="Kafka connection and topics.", factory=KafkaSettings)
    aws: AwsSettings = setting(doc="AWS accounts, regions and call budgets (reader).", factory=AwsSettings)
    scan: ScanSettings = setting(doc="Inventory scheduling.", factory=ScanSettings)
    cloudtrail: CloudTrailSettings = setting(doc="CloudTrail sources.", factory=CloudTrailSettings)
    external: ExternalSettings = setting(
        doc="External findings (GuardDuty, Security Hub, Access Analyzer): one problem, one alert.",
        factory=ExternalSettings,
    )
    detection: DetectionSettings = setting(doc="Threat detection.", factory=DetectionSettings)
    policy: PolicySettings = setting(doc="Posture policies and mutelist.", factory=PolicySettings)
    context: ContextSettings = setting(
        doc="Context stage: when IAM is analysed (escalation paths, effective admins).", factory=ContextSettings
    )
    alerts: AlertSettings = setting(doc="Alert routing and sinks.", factory=AlertSettings)
    remediation: RemediationSettings = setting(doc="Remediation (off unless configured).", factory=RemediationSettings)
    web: WebSettings = setting(doc="Metrics and health endpoints.", factory=WebSettings)
    monitor: MonitorSettings = setting(doc="Pipeline self-monitoring.", factory=MonitorSettings)


def load(
    path: str | Path | None = None,
    *,
    data: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read, overlay the environment, validate.

    Raises one ConfigError naming the file (or environment variable), the key and why.
    """
    env = os.environ if environ is None else environ
    if path is None and data is None:
        path = env.get("CSPM_CONFIG") or None  # set but empty: no config file, as when unset
    raw: dict[str, Any] = copy.deepcopy(dict(data)) if data is not None else {}
    source = ""
    if path is not None:
        source = str(path)
        raw = read_yaml(Path(path))
    reject_yaml_secrets(Settings, raw, source)
    origin = apply_env(Settings, raw, env)
    return validate(Settings, raw, source=source, env=origin)


__all__ = [
    "AccountSettings",
    "AlertSettings",
    "AppSettings",
    "AwsSettings",
    "CloudTrailSettings",
    "ContextSettings",
    "DetectionSettings",
    "ExternalSettings",
    "KafkaSettings",
    "MonitorSettings",
    "PolicySettings",
    "RemediationSettings",
    "RouteSettings",
    "ScanSettings",
    "Secret",
    "Settings",
    "SinkSettings",
    "WebSettings",
    "load",
]
