"""CloudTrail sources: files, S3+SQS, EventBridge→SQS, LookupEvents → the activity topic.

Delivery is at-least-once: an SQS message is deleted (a LookupEvents checkpoint
advanced) only after every record from it was acknowledged by Kafka (acks=all).
Duplicates can reach the activity topic after a crash or a redelivery; the detector
removes them by CloudTrail ``eventID``.
"""
