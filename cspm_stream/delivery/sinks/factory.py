"""Sink construction from settings: one builder per ``alerts.sinks.*.type``, in :data:`SINK_TYPES`.

The AWS and HTTP sinks added later (securityhub, pagerduty, jira, sns, splunk_hec) are
imported by their builders, so a process loads only the sinks it configures.
A new sink type registers its builder here (the name is the ``type`` value in the
config; a contract test holds the settings' choices to this table), and is then built
by the daemon and by ``cspm-stream alerts test`` alike. Builders read secrets and
URLs named by ``*_env`` settings from the environment and fail with a ConfigError
that names the setting and the variable, never the value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from cspm_stream.delivery.sinks.base import Sink
from cspm_stream.delivery.sinks.file import FileSink
from cspm_stream.delivery.sinks.kafka import KafkaSink
from cspm_stream.delivery.sinks.slack import SlackSink
from cspm_stream.delivery.sinks.webhook import WebhookSink
from cspm_stream.errors import ConfigError
from cspm_stream.settings import SinkSettings

Builder = Callable[[str, SinkSettings, Mapping[str, str]], Sink]


def env_value(key: str, setting: str, var: str, env: Mapping[str, str]) -> str:
    """The value of the variable a ``*_env`` setting names; unset or empty is a ConfigError (name only)."""
    value = env.get(var, "")
    if not value:
        raise ConfigError(f"{key}.{setting}", var, "environment variable is unset or empty")
    return value


def sink_url(key: str, conf: SinkSettings, env: Mapping[str, str]) -> str:
    """``url``, or the value of the variable ``url_env`` names (checked to be http(s), never shown)."""
    url = env_value(key, "url_env", conf.url_env, env) if conf.url_env else conf.url
    if not url.startswith(("http://", "https://")):
        where = f"the value of {conf.url_env}" if conf.url_env else "url"
        raise ConfigError(f"{key}.url", None, f"{where} must be an http:// or https:// URL", show_value=False)
    return url


def _kafka(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    return KafkaSink(name, topic=conf.topic, fmt=conf.format)


def _webhook(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    key = f"alerts.sinks.{name}"
    secret = env_value(key, "hmac_secret_env", conf.hmac_secret_env, env).encode() if conf.hmac_secret_env else b""
    return WebhookSink(name, sink_url(key, conf, env), timeout_s=conf.timeout_s, secret=secret)


def _slack(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    return SlackSink(name, sink_url(f"alerts.sinks.{name}", conf, env), timeout_s=conf.timeout_s)


def _file(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    if not conf.path:
        raise ConfigError(f"alerts.sinks.{name}.path", None, "a file sink needs a path")
    return FileSink(name, conf.path)


def _stdout(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    return FileSink(name, stdout=True)


def _securityhub(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    from cspm_stream.delivery.sinks.securityhub import SecurityHubSink

    return SecurityHubSink(name, conf.region, endpoint_url=conf.endpoint_url, timeout_s=conf.timeout_s)


def _sns(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    from cspm_stream.delivery.sinks.checks import sns_region
    from cspm_stream.delivery.sinks.sns import SnsSink

    region = conf.region or sns_region(conf.topic_arn)
    return SnsSink(name, conf.topic_arn, region, endpoint_url=conf.endpoint_url, timeout_s=conf.timeout_s)


def _pagerduty(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    from cspm_stream.delivery.sinks.checks import PAGERDUTY_EVENTS_URL
    from cspm_stream.delivery.sinks.pagerduty import PagerDutySink

    key = f"alerts.sinks.{name}"
    url = sink_url(key, conf, env) if (conf.url or conf.url_env) else PAGERDUTY_EVENTS_URL
    routing_key = env_value(key, "routing_key_env", conf.routing_key_env, env)
    return PagerDutySink(name, url, routing_key, timeout_s=conf.timeout_s)


def _jira(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    from cspm_stream.delivery.sinks.jira import JiraSink

    key = f"alerts.sinks.{name}"
    return JiraSink(
        name,
        sink_url(key, conf, env),
        env_value(key, "token_env", conf.token_env, env),
        project=conf.project,
        issue_type=conf.issue_type,
        resolve_transition=conf.resolve_transition,
        timeout_s=conf.timeout_s,
    )


def _splunk_hec(name: str, conf: SinkSettings, env: Mapping[str, str]) -> Sink:
    from cspm_stream.delivery.sinks.splunk_hec import SplunkHecSink

    key = f"alerts.sinks.{name}"
    token = env_value(key, "token_env", conf.token_env, env)
    return SplunkHecSink(name, sink_url(key, conf, env), token, index=conf.index, timeout_s=conf.timeout_s)


#: sink type (``alerts.sinks.*.type``) → builder
SINK_TYPES: dict[str, Builder] = {
    "kafka": _kafka,
    "webhook": _webhook,
    "slack": _slack,
    "file": _file,
    "stdout": _stdout,
    "securityhub": _securityhub,
    "pagerduty": _pagerduty,
    "jira": _jira,
    "sns": _sns,
    "splunk_hec": _splunk_hec,
}


def build_sink(name: str, conf: SinkSettings, environ: Mapping[str, str] | None = None) -> Sink:
    """The sink ``alerts.sinks.<name>`` describes."""
    builder = SINK_TYPES.get(conf.type)
    if builder is None:
        raise ConfigError(
            f"alerts.sinks.{name}.type", conf.type, f"unknown sink type (one of: {', '.join(SINK_TYPES)})"
        )
    return builder(name, conf, os.environ if environ is None else environ)
