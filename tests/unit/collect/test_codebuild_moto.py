"""AWS CodeBuild on the wire: moto for projects (secrets in variables and source URLs never kept, verdicts beside a
compliant twin, last build); recorded responses for report groups (moto does not serve ListReportGroups)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
APP_PASSWORD = "ATBBxK3Jq9secretpass"


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    cb = moto_server.boto3_client("codebuild")
    env = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL"}
    cb.create_project(
        name="tidy",
        source={"type": "GITHUB", "location": "https://github.com/example-org/api.git"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            **env,
            "privilegedMode": False,
            "environmentVariables": [
                {"name": "STAGE", "value": "prod", "type": "PLAINTEXT"},
                {"name": "NPM_TOKEN", "value": "ci/npm-token", "type": "SECRETS_MANAGER"},
            ],
        },
        serviceRole=f"arn:aws:iam::{ACCOUNT_ID}:role/codebuild",
        logsConfig={"cloudWatchLogs": {"status": "ENABLED"}},
        tags=[{"key": "team", "value": "platform"}],
    )
    cb.start_build(projectName="tidy")
    cb.create_project(
        name="risky",
        source={
            "type": "BITBUCKET",
            "location": f"https://ci-bot:{APP_PASSWORD}@bitbucket.org/example/api.git",
            "buildspec": "buildspec.yml",
        },
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            **env,
            "privilegedMode": True,
            "environmentVariables": [{"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET_KEY, "type": "PLAINTEXT"}],
        },
        serviceRole=f"arn:aws:iam::{ACCOUNT_ID}:role/codebuild",
        logsConfig={
            "cloudWatchLogs": {"status": "DISABLED"},
            "s3Logs": {"status": "DISABLED", "encryptionDisabled": True},
        },
    )
    return collect_moto(moto_server, ["codebuild"])


def test_no_secret_survives_collection(estate: Estate) -> None:
    risky = estate.one("aws.codebuild.project", "risky")
    assert risky.arn == f"arn:aws:codebuild:us-east-1:{ACCOUNT_ID}:project/risky"
    project = risky.attributes["Project"]
    assert project["source"]["location"] == "https://REDACTED:REDACTED@bitbucket.org/example/api.git"
    assert project["environment"]["environmentVariables"] == [
        {
            "name": "AWS_SECRET_ACCESS_KEY",
            "type": "PLAINTEXT",
            "valueLength": 40,
            "valueKind": "aws-secret-key",
            "holdsSecret": True,
        }
    ]
    text = repr(estate.snaps)
    assert SECRET_KEY not in text and APP_PASSWORD not in text and "ci/npm-token" not in text
    assert estate.one("aws.codebuild.project", "tidy").tags == {"team": "platform"}


def test_last_build(estate: Estate) -> None:
    assert estate.one("aws.codebuild.project", "tidy").attributes["LastBuild"]["buildStatus"]
    assert estate.one("aws.codebuild.project", "risky").attributes["LastBuild"] is None


def test_verdicts_beside_the_tidy_twin(estate: Estate) -> None:
    pols = [
        "codebuild_project_source_repo_url_no_sensitive_credentials",
        "codebuild_project_source_url_no_credentials",
        "codebuild_project_env_no_plaintext_credentials",
        "codebuild_project_privileged_mode_disabled",
        "codebuild_project_user_controlled_buildspec",
        "codebuild_project_logging_enabled",
    ]
    v = estate.verdicts(pols)
    assert {p: (v[(p, "tidy")], v[(p, "risky")]) for p in pols} == {p: ("pass", "fail") for p in pols}
    # moto reports no projectVisibility: not PRIVATE, so both fail (an absent setting is never assumed private)
    v = estate.verdicts(["codebuild_project_not_publicly_accessible", "codebuild_project_older_90_days"])
    assert v[("codebuild_project_not_publicly_accessible", "tidy")] == "fail"
    assert v[("codebuild_project_older_90_days", "risky")] == "fail"  # never built


def test_report_groups_unserved_by_moto(estate: Estate) -> None:
    assert ("aws.codebuild.report_group", "*") in estate.errors()


def test_recorded_report_groups() -> None:
    e, aws = collect_fixture("codebuild", "codebuild")
    assert aws.unanswered == []
    assert [c[1] for c in aws.calls].count("BatchGetReportGroups") == 1  # one batch for all groups
    v = e.verdicts(["codebuild_report_group_export_encrypted"])
    got = {
        rid: v[("codebuild_report_group_export_encrypted", rid)] for rid in ("api-tests", "api-coverage", "local-only")
    }
    assert got == {"api-tests": "pass", "api-coverage": "fail", "local-only": "pass"}
