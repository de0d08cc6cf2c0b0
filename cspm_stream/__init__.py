"""cspm_stream: real-time, Kafka-native Cloud Security Posture Management for AWS.

Importing the package does nothing but define things: no clients, no settings,
no faust App. Build them with :func:`cspm_stream.app.create_app`.
"""

__version__ = "0.1.0"
