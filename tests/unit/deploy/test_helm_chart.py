"""The Helm chart, linted and rendered by the real helm binary, and its promises checked on the output."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cspm_stream import settings
from tests.unit.deploy.tools import CHART, tool

ROLES = ("ingest", "process", "alerts", "remediate")


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("helm"), *args], capture_output=True, text=True, timeout=120, check=False)


def render(*sets: str, values: dict[str, Any] | None = None, tmp: Path | None = None) -> list[dict[str, Any]]:
    args = ["template", "rel", str(CHART), "--namespace", "security"]
    for s in sets:
        args += ["--set", s]
    if values is not None:
        assert tmp is not None
        f = tmp / "values.yaml"
        f.write_text(yaml.safe_dump(values))
        args += ["-f", str(f)]
    out = helm(*args)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def kinds(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render()


def test_helm_lint_strict() -> None:
    out = helm("lint", "--strict", str(CHART))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in out.stdout


def test_one_deployment_per_role_with_its_replicas_resources_and_account(docs: list[dict[str, Any]]) -> None:
    deps = kinds(docs, "Deployment")
    assert sorted(deps) == sorted(f"rel-cspm-stream-{r}" for r in ROLES)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for role in ROLES:
        d = deps[f"rel-cspm-stream-{role}"]
        spec = d["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        assert c["args"] == ["run", "--role", role]
        assert d["spec"]["replicas"] == values["roles"][role]["replicas"]
        assert c["resources"]["limits"]["cpu"] and c["resources"]["limits"]["memory"]
        assert c["resources"] == values["roles"][role]["resources"]
        assert spec["serviceAccountName"] == f"rel-cspm-stream-{role}"
        assert spec["automountServiceAccountToken"] is False
    assert deps["rel-cspm-stream-remediate"]["spec"]["strategy"]["type"] == "Recreate"


def test_strict_security_context_everywhere(docs: list[dict[str, Any]]) -> None:
    pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Deployment", "Job")]
    assert len(pods) == 5
    for spec in pods:
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"] == {"drop": ["ALL"]} and sc["privileged"] is False
            assert c["resources"]["limits"]
            # a read-only root: everything the daemon writes is a mounted volume
            assert {m["mountPath"] for m in c["volumeMounts"]} >= {"/var/lib/cspm", "/tmp", "/etc/cspm"}


def test_probes_hit_healthz_and_readyz_on_the_web_port(docs: list[dict[str, Any]]) -> None:
    for d in kinds(docs, "Deployment").values():
        (c,) = d["spec"]["template"]["spec"]["containers"]
        assert c["ports"] == [{"name": "web", "containerPort": 6066, "protocol": "TCP"}]
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "web"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "web"}


def test_config_map_is_a_valid_cspm_config_and_env_names_are_settings(
    docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    (cm,) = kinds(docs, "ConfigMap").values()
    cfg = tmp_path / "cspm.yaml"
    cfg.write_text(cm["data"]["cspm.yaml"])
    d = kinds(docs, "Deployment")["rel-cspm-stream-process"]
    env = {e["name"]: e["value"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"] if "value" in e}
    s = settings.load(cfg, environ={k: v for k, v in env.items() if k != "CSPM_CONFIG"})  # unknown CSPM_ vars fail
    assert s.kafka.bootstrap == "kafka-bootstrap.kafka.svc:9092"
    assert s.web.host == "0.0.0.0" and s.web.port == 6066 and s.app.data_dir == "/var/lib/cspm"
    assert s.remediation.default_mode.value == "off"


def test_no_secret_is_created_and_secrets_are_references(tmp_path: Path) -> None:
    values = {
        "secretEnv": [
            {"name": "CSPM_KAFKA_SASL_PASSWORD", "secretName": "cspm-kafka", "key": "password"},
            {"name": "PD_ROUTING_KEY", "secretName": "cspm-sinks", "key": "pagerduty", "roles": ["alerts"]},
        ]
    }
    docs = render(values=values, tmp=tmp_path)
    assert not [d for d in docs if d["kind"] == "Secret"]
    deps = kinds(docs, "Deployment")
    for role in ROLES:
        env = deps[f"rel-cspm-stream-{role}"]["spec"]["template"]["spec"]["containers"][0]["env"]
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
        assert refs["CSPM_KAFKA_SASL_PASSWORD"] == {"name": "cspm-kafka", "key": "password"}
        assert ("PD_ROUTING_KEY" in refs) == (role == "alerts")
        assert not any("password" in str(e.get("value", "")).lower() for e in env)
    bad = helm("template", "rel", str(CHART), "--set", "secretEnv[0].name=X", "--set", "secretEnv[0].key=k")
    assert bad.returncode != 0 and "an existing Secret" in bad.stderr


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("config.kafka.sasl_password=hunter2", "config: sasl_password"),
        ("config.alerts.sinks.hook.token=hunter2", "config: token"),
        ("config.remediation.approval.hmac_secret=hunter2", "config: hmac_secret"),
    ],
)
def test_a_secret_in_plain_config_values_is_refused_without_echoing_it(setting: str, named: str) -> None:
    out = helm("template", "rel", str(CHART), "--set", setting)
    assert out.returncode != 0 and named in out.stderr and "secretEnv" in out.stderr
    assert "hunter2" not in out.stdout + out.stderr


def test_a_secret_in_extra_env_is_refused_and_env_keys_are_fine() -> None:
    bad = helm(
        "template",
        "rel",
        str(CHART),
        "--set",
        "extraEnv[0].name=CSPM_KAFKA_SASL_PASSWORD",
        "--set",
        "extraEnv[0].value=x",
    )
    assert bad.returncode != 0 and "CSPM_KAFKA_SASL_PASSWORD looks like a secret" in bad.stderr
    ok = helm(
        "template",
        "rel",
        str(CHART),
        "--set",
        "config.alerts.sinks.pd.routing_key_env=PD_KEY",
        "--set",
        "config.alerts.sinks.jira.token_env=JIRA_TOKEN",
        "--set",
        "extraEnv[0].name=CSPM_LOG_LEVEL",
        "--set",
        "extraEnv[0].value=DEBUG",
    )
    assert ok.returncode == 0, ok.stderr


def test_service_accounts_carry_the_irsa_role_per_role() -> None:
    arn = "arn:aws:iam::111122223333:role/cspm-reader"
    sas = kinds(render(f"roles.ingest.serviceAccount.roleArn={arn}"), "ServiceAccount")
    assert sorted(sas) == sorted(f"rel-cspm-stream-{r}" for r in ROLES)
    assert sas["rel-cspm-stream-ingest"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == arn
    assert "eks.amazonaws.com/role-arn" not in (sas["rel-cspm-stream-remediate"]["metadata"].get("annotations") or {})
    assert all(sa["automountServiceAccountToken"] is False for sa in sas.values())


def test_pdb_per_role(docs: list[dict[str, Any]]) -> None:
    pdbs = kinds(docs, "PodDisruptionBudget")
    assert sorted(pdbs) == sorted(f"rel-cspm-stream-{r}" for r in ROLES)
    for role in ROLES:
        p = pdbs[f"rel-cspm-stream-{role}"]["spec"]
        assert p["maxUnavailable"] == 1 and p["selector"]["matchLabels"]["app.kubernetes.io/component"] == role


def test_network_policy_admits_only_kafka_aws_and_dns(docs: list[dict[str, Any]]) -> None:
    (np,) = kinds(docs, "NetworkPolicy").values()
    spec = np["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "rel"
    (ingress,) = spec["ingress"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 6066}] and ingress["from"]
    dns, kafka, aws = spec["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert kafka["ports"] == [{"protocol": "TCP", "port": 9092}]
    assert kafka["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kafka"}
    assert aws["ports"] == [{"protocol": "TCP", "port": 443}]
    (block,) = aws["to"]
    assert block["ipBlock"]["cidr"] == "0.0.0.0/0" and "169.254.0.0/16" in block["ipBlock"]["except"]
    for rule in spec["egress"]:
        assert rule.get("ports"), "an egress rule without ports would open every port"
        assert rule.get("to"), "an egress rule without 'to' would open every destination"
    docs2 = render("networkPolicy.kafka.namespaceSelector=null", "networkPolicy.kafka.cidrs={10.20.0.0/16}")
    (np2,) = kinds(docs2, "NetworkPolicy").values()
    assert np2["spec"]["egress"][1]["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]
    bad = helm("template", "rel", str(CHART), "--set", "networkPolicy.kafka.namespaceSelector=null")
    assert bad.returncode != 0 and "networkPolicy.kafka" in bad.stderr


def test_autoscaling_on_consumer_lag_with_keda() -> None:
    docs = render("autoscaling.enabled=true", "config.app.id=prod-cspm")
    scaled = kinds(docs, "ScaledObject")
    assert sorted(scaled) == ["rel-cspm-stream-ingest", "rel-cspm-stream-process"]
    trig = scaled["rel-cspm-stream-process"]["spec"]["triggers"]
    assert {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in trig} == {
        ("prod-cspm.posture", "cspm.inventory"),
        ("prod-cspm.detect", "cspm.activity"),
    }
    assert all(t["type"] == "kafka" and t["metadata"]["lagThreshold"] == "5000" for t in trig)
    deps = kinds(docs, "Deployment")
    assert "replicas" not in deps["rel-cspm-stream-process"]["spec"]  # KEDA owns it
    assert deps["rel-cspm-stream-alerts"]["spec"]["replicas"] == 1
    bad = helm(
        "template", "rel", str(CHART), "--set", "autoscaling.enabled=true", "--set", "autoscaling.roles={remediate}"
    )
    assert bad.returncode != 0 and "single worker" in bad.stderr


def test_remediator_stays_single_and_roles_can_be_tuned() -> None:
    bad = helm("template", "rel", str(CHART), "--set", "roles.remediate.replicas=2")
    assert bad.returncode != 0 and "must be 1" in bad.stderr
    docs = render("roles.process.replicas=6", "roles.process.resources.limits.cpu=2", "roles.remediate.enabled=false")
    deps = kinds(docs, "Deployment")
    assert "rel-cspm-stream-remediate" not in deps
    p = deps["rel-cspm-stream-process"]
    assert (
        p["spec"]["replicas"] == 6 and p["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] == 2
    )


def test_topics_are_created_by_a_hook_job_running_topics_create(docs: list[dict[str, Any]]) -> None:
    (job,) = kinds(docs, "Job").values()
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["topics", "create"]
