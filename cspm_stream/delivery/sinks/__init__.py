"""Alert sinks, one module each, all behind :class:`~cspm_stream.delivery.sinks.base.Sink`."""

from cspm_stream.delivery.sinks.base import Sink
from cspm_stream.delivery.sinks.file import FileSink
from cspm_stream.delivery.sinks.kafka import KafkaSink
from cspm_stream.delivery.sinks.slack import SlackSink
from cspm_stream.delivery.sinks.webhook import WebhookSink

__all__ = ["FileSink", "KafkaSink", "Sink", "SlackSink", "WebhookSink"]
