"""KMS, CloudTrail, GuardDuty, ECR and SQS actions."""

from __future__ import annotations

from typing import Any, ClassVar

from cspm_stream.models import RemediationCommand
from cspm_stream.remediate.base import Action, ApiCall, Clients, aws, region_of, register, tag_list


@register
class KmsEnableRotation(Action):
    name = "kms_enable_rotation"
    summary = "Enable yearly automatic rotation of the customer-managed symmetric KMS key."
    resource_types = ("aws.kms.key",)
    read_permissions = ("kms:GetKeyRotationStatus",)
    write_permissions = ("kms:EnableKeyRotation",)
    tag_permissions = ("kms:ListResourceTags",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "kms", region_of(cmd), "get_key_rotation_status", KeyId=cmd.resource_id)
        return {"KeyRotationEnabled": bool(r.get("KeyRotationEnabled"))}

    def compliant(self, state: dict[str, Any]) -> bool:
        return bool(state["KeyRotationEnabled"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        return [ApiCall("kms", "enable_key_rotation", region_of(cmd), {"KeyId": cmd.resource_id})]

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(cx, "kms", region_of(cmd), "list_resource_tags", KeyId=cmd.resource_id)
        return tag_list(r.get("Tags"), "TagKey", "TagValue")


class _Trail(Action):
    resource_types: ClassVar[tuple[str, ...]] = ("aws.cloudtrail.trail",)
    tag_permissions = ("cloudtrail:ListTags",)

    def _trail(self, cmd: RemediationCommand) -> str:
        return cmd.resource_arn if cmd.resource_arn.startswith("arn:") else cmd.resource_id

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(cx, "cloudtrail", region_of(cmd), "list_tags", ResourceIdList=[self._trail(cmd)])
        lists = r.get("ResourceTagList") or [{}]
        return tag_list(lists[0].get("TagsList"))


@register
class CloudTrailStartLogging(_Trail):
    name = "cloudtrail_start_logging"
    summary = (
        "Start logging on the stopped trail; for a region (aws.cloudtrail.region) start the stopped "
        "multi-region trails visible there (none to start → FAILED, never a silent no-op)."
    )
    resource_types = ("aws.cloudtrail.trail", "aws.cloudtrail.region")
    read_permissions = ("cloudtrail:GetTrailStatus", "cloudtrail:DescribeTrails")
    write_permissions = ("cloudtrail:StartLogging",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        if cmd.resource_type == "aws.cloudtrail.region":
            r = await aws(cx, "cloudtrail", region_of(cmd), "describe_trails", includeShadowTrails=True)
            names = [t["TrailARN"] for t in r.get("trailList", []) if t.get("IsMultiRegionTrail")]
            scope = "region"
        else:
            names, scope = [self._trail(cmd)], "trail"
        trails = []
        for n in names:
            st = await aws(cx, "cloudtrail", region_of(cmd), "get_trail_status", Name=n)
            trails.append({"Name": n, "IsLogging": bool(st.get("IsLogging"))})
        return {"Scope": scope, "Trails": trails}

    def compliant(self, state: dict[str, Any]) -> bool:
        return any(t["IsLogging"] for t in state["Trails"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        return [
            ApiCall("cloudtrail", "start_logging", region_of(cmd), {"Name": t["Name"]})
            for t in state["Trails"]
            if not t["IsLogging"]
        ]


@register
class CloudTrailEnableLogValidation(_Trail):
    name = "cloudtrail_enable_log_validation"
    summary = "Enable log file integrity validation on the trail."
    read_permissions = ("cloudtrail:GetTrail",)
    write_permissions = ("cloudtrail:UpdateTrail",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "cloudtrail", region_of(cmd), "get_trail", Name=self._trail(cmd))
        return {"LogFileValidationEnabled": bool(r.get("Trail", {}).get("LogFileValidationEnabled"))}

    def compliant(self, state: dict[str, Any]) -> bool:
        return bool(state["LogFileValidationEnabled"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {"Name": self._trail(cmd), "EnableLogFileValidation": True}
        return [ApiCall("cloudtrail", "update_trail", region_of(cmd), params)]


@register
class GuardDutyEnable(Action):
    name = "guardduty_enable"
    summary = (
        "Enable GuardDuty in the region: re-enable a suspended detector, or create one "
        "(first creation in an account also needs iam:CreateServiceLinkedRole)."
    )
    resource_types = ("aws.guardduty.region",)
    read_permissions = ("guardduty:ListDetectors", "guardduty:GetDetector")
    write_permissions = ("guardduty:CreateDetector", "guardduty:UpdateDetector", "iam:CreateServiceLinkedRole")

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "guardduty", region_of(cmd), "list_detectors")
        detectors = []
        for det_id in r.get("DetectorIds", []):
            d = await aws(cx, "guardduty", region_of(cmd), "get_detector", DetectorId=det_id)
            detectors.append({"DetectorId": det_id, "Status": d.get("Status")})
        return {"Detectors": detectors}

    def compliant(self, state: dict[str, Any]) -> bool:
        return any(d["Status"] == "ENABLED" for d in state["Detectors"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        if state["Detectors"]:
            det = state["Detectors"][0]["DetectorId"]
            return [ApiCall("guardduty", "update_detector", region_of(cmd), {"DetectorId": det, "Enable": True})]
        params = {"Enable": True, "FindingPublishingFrequency": "FIFTEEN_MINUTES"}
        return [ApiCall("guardduty", "create_detector", region_of(cmd), params)]


@register
class EcrEnableScanOnPush(Action):
    name = "ecr_enable_scan_on_push"
    summary = "Turn on image scanning on push for the ECR repository."
    resource_types = ("aws.ecr.repository",)
    read_permissions = ("ecr:DescribeRepositories",)
    write_permissions = ("ecr:PutImageScanningConfiguration",)
    tag_permissions = ("ecr:ListTagsForResource",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "ecr", region_of(cmd), "describe_repositories", repositoryNames=[cmd.resource_id])
        repo = (r.get("repositories") or [{}])[0]
        return {"ScanOnPush": bool(repo.get("imageScanningConfiguration", {}).get("scanOnPush"))}

    def compliant(self, state: dict[str, Any]) -> bool:
        return bool(state["ScanOnPush"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {"repositoryName": cmd.resource_id, "imageScanningConfiguration": {"scanOnPush": True}}
        return [ApiCall("ecr", "put_image_scanning_configuration", region_of(cmd), params)]

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(cx, "ecr", region_of(cmd), "list_tags_for_resource", resourceArn=cmd.resource_arn)
        return tag_list(r.get("tags"))


@register
class SqsEnableEncryption(Action):
    name = "sqs_enable_encryption"
    summary = "Enable SSE-SQS (or SSE-KMS with params.kms_key_id) on the queue."
    resource_types = ("aws.sqs.queue",)
    read_permissions = ("sqs:GetQueueUrl", "sqs:GetQueueAttributes")
    write_permissions = ("sqs:SetQueueAttributes",)
    tag_permissions = ("sqs:ListQueueTags",)

    async def _url(self, cx: Clients, cmd: RemediationCommand) -> str:
        r = await aws(
            cx, "sqs", region_of(cmd), "get_queue_url", QueueName=cmd.resource_id, QueueOwnerAWSAccountId=cmd.account_id
        )
        return str(r["QueueUrl"])

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        url = await self._url(cx, cmd)
        r = await aws(
            cx,
            "sqs",
            region_of(cmd),
            "get_queue_attributes",
            QueueUrl=url,
            AttributeNames=["SqsManagedSseEnabled", "KmsMasterKeyId"],
        )
        attrs = r.get("Attributes", {})
        return {
            "QueueUrl": url,
            "SqsManagedSseEnabled": str(attrs.get("SqsManagedSseEnabled", "false")).lower() == "true",
            "KmsMasterKeyId": attrs.get("KmsMasterKeyId"),
        }

    def compliant(self, state: dict[str, Any]) -> bool:
        return bool(state["SqsManagedSseEnabled"] or state["KmsMasterKeyId"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        key = cmd.params.get("kms_key_id")
        attrs = {"KmsMasterKeyId": str(key)} if key else {"SqsManagedSseEnabled": "true"}
        return [
            ApiCall("sqs", "set_queue_attributes", region_of(cmd), {"QueueUrl": state["QueueUrl"], "Attributes": attrs})
        ]

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(cx, "sqs", region_of(cmd), "list_queue_tags", QueueUrl=await self._url(cx, cmd))
        return {str(k): str(v) for k, v in (r.get("Tags") or {}).items()}
