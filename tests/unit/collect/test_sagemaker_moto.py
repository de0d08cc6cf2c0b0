"""Amazon SageMaker on the wire: moto for notebook instances, models, training jobs, endpoint configurations,
domains and the model registry (each compliant resource beside a non-compliant twin); recorded responses for
Model Monitor schedules (moto does not serve ListMonitoringSchedules, which must then ERROR, never pass)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/SageMakerExecution"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    sm = moto_server.boto3_client("sagemaker")
    sm.create_notebook_instance(
        NotebookInstanceName="locked",
        InstanceType="ml.t3.medium",
        RoleArn=ROLE,
        SubnetId="subnet-0a1b2c3d4e5f60718",
        SecurityGroupIds=["sg-0123456789abcdef0"],
        DirectInternetAccess="Disabled",
        RootAccess="Disabled",
        KmsKeyId=KEY,
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    sm.create_notebook_instance(
        NotebookInstanceName="open", InstanceType="ml.t3.medium", RoleArn=ROLE, RootAccess="Enabled"
    )
    container = {"Image": f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/churn:1"}
    sm.create_model(
        ModelName="in-vpc",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={**container, "Environment": {"SAGEMAKER_PROGRAM": "serve.py"}},
        VpcConfig={"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0a1b2c3d4e5f60718"]},
    )
    sm.create_model(
        ModelName="leaky",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={**container, "Environment": {"DB_PASSWORD": "hunter2-but-longer"}},
    )
    job = {
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://artifacts/out"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    sm.create_training_job(
        TrainingJobName="hardened",
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 10, "VolumeKmsKeyId": KEY},
        VpcConfig={"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0a1b2c3d4e5f60718"]},
        EnableNetworkIsolation=True,
        EnableInterContainerTrafficEncryption=True,
        **job,
    )
    sm.create_training_job(
        TrainingJobName="plain",
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        HyperParameters={"api_token": "not-kept"},
        **job,
    )
    variant = {"VariantName": "primary", "ModelName": "in-vpc", "InstanceType": "ml.m5.large"}
    sm.create_endpoint_config(
        EndpointConfigName="ha", ProductionVariants=[{**variant, "InitialInstanceCount": 2}], KmsKeyId=KEY
    )
    sm.create_endpoint_config(EndpointConfigName="single", ProductionVariants=[{**variant, "InitialInstanceCount": 1}])
    sm.create_domain(
        DomainName="iam-domain",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-0a1b2c3d4e5f60718"],
        VpcId="vpc-0123456789abcdef0",
    )
    sm.create_model_package_group(ModelPackageGroupName="churn")
    return collect_moto(moto_server, ["sagemaker"])


def test_snapshots_keep_no_secret(estate: Estate) -> None:
    nb = estate.one("aws.sagemaker.notebook_instance", "locked")
    assert nb.arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:notebook-instance/locked"
    assert nb.tags == {"team": "ml"}
    leaky = estate.one("aws.sagemaker.model", "leaky").attributes["Model"]["PrimaryContainer"]["Environment"]
    assert leaky == [{"name": "DB_PASSWORD", "type": None, "valueLength": 18, "valueKind": None, "holdsSecret": True}]
    assert "hunter2" not in repr(estate.snaps)
    plain = estate.one("aws.sagemaker.training_job", "plain").attributes["TrainingJob"]
    assert plain["HyperParameters"] == ["api_token"] and "not-kept" not in repr(estate.snaps)


def test_verdicts_beside_their_twins(estate: Estate) -> None:
    pols = {
        "sagemaker_notebook_instance_root_access_disabled": ("locked", "open"),
        "sagemaker_notebook_instance_without_direct_internet_access_configured": ("locked", "open"),
        "sagemaker_notebook_instance_vpc_settings_configured": ("locked", "open"),
        "sagemaker_notebook_instance_encryption_enabled": ("locked", "open"),
        "sagemaker_models_vpc_settings_configured": ("in-vpc", "leaky"),
        "sagemaker_model_container_env_no_plaintext_secrets": ("in-vpc", "leaky"),
        "sagemaker_training_jobs_intercontainer_encryption_enabled": ("hardened", "plain"),
        "sagemaker_training_jobs_network_isolation_enabled": ("hardened", "plain"),
        "sagemaker_training_jobs_volume_and_output_encryption_enabled": ("hardened", "plain"),
        "sagemaker_training_jobs_vpc_settings_configured": ("hardened", "plain"),
        "sagemaker_endpoint_config_kms_encryption_enabled": ("ha", "single"),
        "sagemaker_endpoint_config_prod_variant_instances": ("ha", "single"),
    }
    v = estate.verdicts(list(pols))
    got = {p: (v[(p, good)], v[(p, bad)]) for p, (good, bad) in pols.items()}
    assert got == {p: ("pass", "fail") for p in pols}
    domain = next(iter(estate.ids("aws.sagemaker.domain")))
    assert estate.verdicts(["sagemaker_domain_sso_configured"])[("sagemaker_domain_sso_configured", domain)] == "fail"


def test_region_registry_and_unserved_monitoring(estate: Estate) -> None:
    region = estate.one("aws.sagemaker.region", "us-east-1")
    assert region.attributes["ModelRegistry"] == {"GroupCount": 1, "HasApprovedPackages": False}
    assert "MonitoringSchedules" not in region.attributes  # moto does not serve it: an error, not an empty list
    assert ("aws.sagemaker.region", "MonitoringSchedules") in estate.errors()
    v = estate.verdicts(["sagemaker_models_registry_in_use", "sagemaker_models_monitor_enabled"])
    assert v[("sagemaker_models_registry_in_use", "us-east-1")] == "fail"
    assert v[("sagemaker_models_monitor_enabled", "us-east-1")] == "error"


def test_recorded_monitoring_and_approved_registry() -> None:
    e, aws = collect_fixture("sagemaker", "sagemaker", resource_types=["aws.sagemaker.region"])
    assert aws.unanswered == []
    region = e.one("aws.sagemaker.region", "us-east-1")
    assert region.attributes["ModelRegistry"] == {"GroupCount": 2, "HasApprovedPackages": True}
    v = e.verdicts(["sagemaker_models_registry_in_use", "sagemaker_models_monitor_enabled"])
    assert v[("sagemaker_models_registry_in_use", "us-east-1")] == "pass"
    assert v[("sagemaker_models_monitor_enabled", "us-east-1")] == "pass"  # one of two schedules is Scheduled
