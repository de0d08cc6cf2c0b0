"""Amazon SageMaker (regional): notebook instances, models, training jobs, endpoint configurations, domains,
and the Region's model monitoring and model registry.

``aws.sagemaker.notebook_instance``: the ListNotebookInstances item plus ``NotebookInstance``
(DescribeNotebookInstance: ``RootAccess``, ``DirectInternetAccess``, ``SubnetId``, ``SecurityGroups``, ``KmsKeyId``,
``PlatformIdentifier``, ``NotebookInstanceLifecycleConfigName``) and ``Tags`` (ListTags).

``aws.sagemaker.model``: the ListModels item plus ``Model`` (DescribeModel: ``EnableNetworkIsolation``,
``VpcConfig``, ``ExecutionRoleArn``; the containers' ``Environment`` without values — see ``_redact``).

``aws.sagemaker.training_job``: the ListTrainingJobs item (every job of the history, as Prowler reads it) plus
``TrainingJob`` (DescribeTrainingJob: ``EnableInterContainerTrafficEncryption``, ``EnableNetworkIsolation``,
``VpcConfig``, ``ResourceConfig.VolumeKmsKeyId``, ``OutputDataConfig.KmsKeyId``; ``Environment`` without values,
``HyperParameters`` reduced to their names).

``aws.sagemaker.endpoint_config``: the ListEndpointConfigs item plus ``EndpointConfig`` (DescribeEndpointConfig:
``KmsKeyId``, ``ProductionVariants`` with ``InitialInstanceCount`` — absent for serverless variants —,
``DataCaptureConfig``).

``aws.sagemaker.domain``: the ListDomains item plus ``Domain`` (DescribeDomain: ``AuthMode``,
``SingleSignOnManagedApplicationInstanceId``, ``SingleSignOnApplicationArn``, ``AppNetworkAccessType``,
``KmsKeyId``).

``aws.sagemaker.region`` (one per account and Region): ``MonitoringSchedules`` (ListMonitoringSchedules summaries:
``MonitoringScheduleName``, ``MonitoringScheduleStatus``) and ``ModelRegistry`` (``{GroupCount,
HasApprovedPackages}``: ListModelPackageGroups, then ListModelPackages with ModelApprovalStatus=Approved per group
until one is found).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services import _redact
from cspm_stream.collect.spec import (
    Calls,
    Detail,
    Item,
    ResourceSpec,
    key,
    region_arn,
    region_id,
    tags_from_list,
)


def _tags(arn_key: str) -> Detail:
    return Detail("Tags", "list_tags", lambda i: {"ResourceArn": i[arn_key]}, paginate_items="Tags")


def _without_env(container: Any) -> Any:
    if not isinstance(container, dict):
        return container
    out = dict(container)
    if "Environment" in out:
        out["Environment"] = _redact.env_map(out["Environment"])
    return out


def _model(resp: dict[str, Any]) -> Any:
    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    if "PrimaryContainer" in body:
        body["PrimaryContainer"] = _without_env(body["PrimaryContainer"])
    if isinstance(body.get("Containers"), list):
        body["Containers"] = [_without_env(c) for c in body["Containers"]]
    return body


def _training_job(resp: dict[str, Any]) -> Any:
    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    if "Environment" in body:
        body["Environment"] = _redact.env_map(body["Environment"])
    if isinstance(body.get("HyperParameters"), dict):
        body["HyperParameters"] = sorted(str(k) for k in body["HyperParameters"])
    body.pop("SecondaryStatusTransitions", None)  # progress messages: noise
    body.pop("FinalMetricDataList", None)
    return body


async def _model_registry(calls: Calls, item: Item) -> Any:
    groups = await calls.paginate("sagemaker", "list_model_package_groups", "ModelPackageGroupSummaryList")
    approved = False
    for group in groups:
        name = group.get("ModelPackageGroupName") if isinstance(group, dict) else None
        if not name:
            continue
        resp = await calls.call(
            "sagemaker",
            "list_model_packages",
            ModelPackageGroupName=name,
            ModelApprovalStatus="Approved",
            MaxResults=1,
        )
        if resp.get("ModelPackageSummaryList"):
            approved = True
            break
    return {"GroupCount": len(groups), "HasApprovedPackages": approved}


SPECS = [
    ResourceSpec(
        resource_type="aws.sagemaker.notebook_instance",
        service="sagemaker",
        list_op="list_notebook_instances",
        items="NotebookInstances",
        id=key("NotebookInstanceName"),
        arn=key("NotebookInstanceArn"),
        tags=tags_from_list(),
        details=(
            Detail(
                "NotebookInstance",
                "describe_notebook_instance",
                lambda i: {"NotebookInstanceName": i["NotebookInstanceName"]},
            ),
            _tags("NotebookInstanceArn"),
        ),
    ),
    ResourceSpec(
        resource_type="aws.sagemaker.model",
        service="sagemaker",
        list_op="list_models",
        items="Models",
        id=key("ModelName"),
        arn=key("ModelArn"),
        tags=tags_from_list(),
        details=(
            Detail("Model", "describe_model", lambda i: {"ModelName": i["ModelName"]}, _model),
            _tags("ModelArn"),
        ),
    ),
    ResourceSpec(
        resource_type="aws.sagemaker.training_job",
        service="sagemaker",
        list_op="list_training_jobs",
        items="TrainingJobSummaries",
        id=key("TrainingJobName"),
        arn=key("TrainingJobArn"),
        details=(
            Detail(
                "TrainingJob",
                "describe_training_job",
                lambda i: {"TrainingJobName": i["TrainingJobName"]},
                _training_job,
            ),
        ),
    ),
    ResourceSpec(
        resource_type="aws.sagemaker.endpoint_config",
        service="sagemaker",
        list_op="list_endpoint_configs",
        items="EndpointConfigs",
        id=key("EndpointConfigName"),
        arn=key("EndpointConfigArn"),
        tags=tags_from_list(),
        details=(
            Detail(
                "EndpointConfig",
                "describe_endpoint_config",
                lambda i: {"EndpointConfigName": i["EndpointConfigName"]},
            ),
            _tags("EndpointConfigArn"),
        ),
    ),
    ResourceSpec(
        resource_type="aws.sagemaker.domain",
        service="sagemaker",
        list_op="list_domains",
        items="Domains",
        id=key("DomainId"),
        arn=key("DomainArn"),
        details=(Detail("Domain", "describe_domain", lambda i: {"DomainId": i["DomainId"]}),),
    ),
    ResourceSpec(
        resource_type="aws.sagemaker.region",
        service="sagemaker",
        list_op=None,
        id=region_id,
        arn=region_arn("sagemaker"),
        details=(
            Detail(
                "MonitoringSchedules",
                "list_monitoring_schedules",
                paginate_items="MonitoringScheduleSummaries[].{MonitoringScheduleName: MonitoringScheduleName, "
                "MonitoringScheduleStatus: MonitoringScheduleStatus}",
            ),
            Detail("ModelRegistry", fn=_model_registry),
        ),
    ),
]
