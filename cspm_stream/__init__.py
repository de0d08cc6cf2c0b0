"""cspm_stream: real-time, Kafka-native Cloud Security Posture Management for AWS.

Importing the package does nothing but define things: no clients, no settings, no
registries filled, no network. A daemon process is built by :func:`cspm_stream.daemon.run`
from one :class:`~cspm_stream.stages.base.RoleContext` (:func:`cspm_stream.app.role_context`).
"""

__version__ = "0.1.0"
