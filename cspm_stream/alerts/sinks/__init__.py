"""Alert sinks, one module each, all behind :class:`~cspm_stream.alerts.sinks.base.Sink`."""

from cspm_stream.alerts.sinks.base import Sink
from cspm_stream.alerts.sinks.file import FileSink
from cspm_stream.alerts.sinks.kafka import KafkaSink
from cspm_stream.alerts.sinks.slack import SlackSink
from cspm_stream.alerts.sinks.webhook import WebhookSink

__all__ = ["FileSink", "KafkaSink", "Sink", "SlackSink", "WebhookSink"]
