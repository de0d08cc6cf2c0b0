"""AWS Config per region: ``ConfigurationRecorders``, ``ConfigurationRecorderStatus``, ``DeliveryChannels``."""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, member, region_arn, region_id

SPECS = [
    ResourceSpec(
        resource_type="aws.config.region",
        service="config",
        list_op=None,
        id=region_id,
        arn=region_arn("config"),
        details=(
            Detail(
                "ConfigurationRecorders", "describe_configuration_recorders", extract=member("ConfigurationRecorders")
            ),
            Detail(
                "ConfigurationRecorderStatus",
                "describe_configuration_recorder_status",
                extract=member("ConfigurationRecordersStatus"),
            ),
            Detail("DeliveryChannels", "describe_delivery_channels", extract=member("DeliveryChannels")),
        ),
    ),
]
