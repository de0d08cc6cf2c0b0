"""Load-time rules of the sink types securityhub, pagerduty, jira, sns and splunk_hec.

Called from ``SinkSettings.validate`` so a bad sink fails at start in one line naming
the key and why (never the value of anything sensitive). Pure: reads the settings
object's attributes, imports nothing of the settings package.
"""

from __future__ import annotations

import re
from typing import Any

from cspm_stream.errors import ConfigError

#: PagerDuty's public Events API v2 endpoint (the ``url`` of a pagerduty sink unless set)
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_SNS_ARN = re.compile(r"arn:aws[a-z-]*:sns:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)")
_JIRA_PROJECT = re.compile(r"[A-Z][A-Z0-9_]{0,49}")


def sns_region(topic_arn: str) -> str:
    """The region of an SNS topic ARN ('' when it is not one)."""
    m = _SNS_ARN.fullmatch(topic_arn)
    return m.group(1) if m else ""


def _need(conf: Any, prefix: str, attr: str, why: str) -> None:
    if not getattr(conf, attr):
        raise ConfigError(f"{prefix}.{attr}", None, why)


def _http_url(conf: Any, prefix: str, *, required: bool) -> None:
    if conf.url and conf.url_env:
        raise ConfigError(f"{prefix}.url", None, f"a {conf.type} sink takes url or url_env, not both")
    if required and not (conf.url or conf.url_env):
        raise ConfigError(f"{prefix}.url", None, f"a {conf.type} sink needs url (or url_env)")
    if conf.url and not conf.url.startswith(("http://", "https://")):
        raise ConfigError(f"{prefix}.url", None, "must be an http:// or https:// URL", show_value=False)


def _aws(conf: Any, prefix: str) -> None:
    if conf.region and not _REGION.fullmatch(conf.region):
        raise ConfigError(f"{prefix}.region", conf.region, "not an AWS region name (e.g. eu-west-1)")
    if conf.endpoint_url and not conf.endpoint_url.startswith(("http://", "https://")):
        raise ConfigError(f"{prefix}.endpoint_url", None, "must be an http:// or https:// URL", show_value=False)


def check_sink(conf: Any, prefix: str) -> None:
    """Refuse an incomplete or malformed securityhub/pagerduty/jira/sns/splunk_hec sink."""
    kind = conf.type
    if kind == "securityhub":
        _need(conf, prefix, "region", "a securityhub sink needs the region of the Security Hub to import into")
        _aws(conf, prefix)
    elif kind == "sns":
        _need(conf, prefix, "topic_arn", "an sns sink needs topic_arn")
        if not _SNS_ARN.fullmatch(conf.topic_arn):
            raise ConfigError(
                f"{prefix}.topic_arn", None, "not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", show_value=False
            )
        _aws(conf, prefix)
    elif kind == "pagerduty":
        _need(conf, prefix, "routing_key_env", "a pagerduty sink needs routing_key_env (the key's variable)")
        _http_url(conf, prefix, required=False)
    elif kind == "jira":
        _http_url(conf, prefix, required=True)
        _need(conf, prefix, "project", "a jira sink needs the project key")
        if not _JIRA_PROJECT.fullmatch(conf.project):
            raise ConfigError(f"{prefix}.project", conf.project, "not a Jira project key (e.g. SEC)")
        _need(conf, prefix, "issue_type", "a jira sink needs an issue_type")
        _need(conf, prefix, "token_env", "a jira sink needs token_env (the token's variable)")
    elif kind == "splunk_hec":
        _http_url(conf, prefix, required=True)
        _need(conf, prefix, "token_env", "a splunk_hec sink needs token_env (the HEC token's variable)")
