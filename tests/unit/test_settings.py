"""Config: every bad value fails at start naming the key, the value and why."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cspm_stream import settings
from cspm_stream.errors import ConfigError
from cspm_stream.models import RemediationMode

ROOT = Path(__file__).resolve().parents[2]


def _err(**kw: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        settings.load(**kw)  # type: ignore[arg-type]
    return info.value


def test_defaults_are_safe() -> None:
    s = settings.load(environ={})
    assert s.remediation.default_mode is RemediationMode.OFF
    assert s.web.host == "127.0.0.1"
    assert s.kafka.bootstrap == "127.0.0.1:9092"


def test_unknown_key_is_an_error() -> None:
    e = _err(data={"kafka": {"bootstrapp": "x:1"}}, environ={})
    assert e.key == "kafka.bootstrapp"
    assert "unknown key" in str(e) and "bootstrap" in str(e)


def test_unknown_section_is_an_error() -> None:
    e = _err(data={"kafak": {}}, environ={})
    assert e.key == "kafak"


def test_wrong_type_names_key_value_reason() -> None:
    e = _err(data={"scan": {"interval_s": "hourly"}}, environ={})
    assert (e.key, e.value) == ("scan.interval_s", "hourly")
    assert "expected an integer" in e.reason
    assert str(e) == "config error: scan.interval_s='hourly': expected an integer"


def test_out_of_range_and_choices() -> None:
    assert "must be >= 1" in _err(data={"kafka": {"partitions": 0}}, environ={}).reason
    e = _err(data={"remediation": {"default_mode": "yolo"}}, environ={})
    assert e.key == "remediation.default_mode" and "off, dry-run, approve, auto" in e.reason
    e = _err(data={"kafka": {"bootstrap": "no-port"}}, environ={})
    assert e.key == "kafka.bootstrap" and "host:port" in e.reason


def test_bad_env_value_names_the_key() -> None:
    e = _err(data={}, environ={"CSPM_KAFKA_PARTITIONS": "many"})
    assert e.key == "kafka.partitions" and e.value == "many"


def test_unknown_env_variable_is_an_error() -> None:
    e = _err(data={}, environ={"CSPM_KAFKA_BOOTSTAP": "x:1"})
    assert e.key == "CSPM_KAFKA_BOOTSTAP" and "unknown" in e.reason


def test_env_overrides_yaml_and_parses_lists_and_bools() -> None:
    s = settings.load(
        data={"kafka": {"partitions": 2}, "aws": {"regions": ["us-east-1"]}},
        environ={"CSPM_KAFKA_PARTITIONS": "4", "CSPM_AWS_REGIONS": "eu-west-1, us-west-2", "CSPM_WEB_ENABLED": "false"},
    )
    assert s.kafka.partitions == 4
    assert s.aws.regions == ["eu-west-1", "us-west-2"]
    assert s.web.enabled is False


def test_bad_region_and_account_id() -> None:
    assert _err(data={"aws": {"regions": ["mars-1"]}}, environ={}).key == "aws.regions[0]"
    e = _err(data={"aws": {"accounts": [{"id": "12"}]}}, environ={})
    assert e.key == "aws.accounts[0].id"


def test_route_must_name_an_existing_sink() -> None:
    e = _err(data={"alerts": {"routes": [{"name": "r", "sink": "nope"}]}}, environ={})
    assert e.key == "alerts.routes[0].sink"


def test_secrets_only_from_env_and_hidden(caplog: pytest.LogCaptureFixture) -> None:
    e = _err(data={"kafka": {"sasl_password": "hunter2"}}, environ={})
    assert "hunter2" not in str(e) and "CSPM_KAFKA_SASL_PASSWORD" in str(e)
    s = settings.load(environ={"CSPM_KAFKA_SASL_PASSWORD": "hunter2"})
    assert s.kafka.sasl_password.get() == "hunter2"
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.kafka)
    logging.getLogger("t").warning("settings %s", s)
    assert "hunter2" not in caplog.text


def test_invalid_yaml_file(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("kafka: [unclosed")
    e = _err(path=p, environ={})
    assert "invalid YAML" in e.reason
    e = _err(path=tmp_path / "missing.yaml", environ={})
    assert "cannot read" in e.reason


def test_shipped_config_is_complete_and_loads() -> None:
    from cspm_stream.settings.docs import render
    from cspm_stream.settings.loader import flat_keys

    text = (ROOT / "config" / "cspm.yaml").read_text()
    assert settings.load(ROOT / "config" / "cspm.yaml", environ={}) == settings.load(environ={})
    assert "\n".join(render(settings.Settings)) in text, "config/cspm.yaml is stale: regenerate it"
    for key in flat_keys(settings.Settings):
        assert key.rsplit(".", 1)[-1] in text


def test_severity_accepts_names_and_ids() -> None:
    from cspm_stream.models import Severity

    s = settings.load(data={"alerts": {"routes": [{"name": "r", "sink": "siem", "min_severity": "high"}]}}, environ={})
    assert s.alerts.routes[0].min_severity is Severity.HIGH
    s = settings.load(data={"alerts": {"routes": [{"name": "r", "sink": "siem", "min_severity": 5}]}}, environ={})
    assert s.alerts.routes[0].min_severity is Severity.CRITICAL
    e = _err(data={"alerts": {"routes": [{"name": "r", "sink": "siem", "min_severity": "huge"}]}}, environ={})
    assert e.key == "alerts.routes[0].min_severity"


def test_runtime_choice_keys_are_gone_with_a_clear_error() -> None:
    """One runtime: the keys that chose between faust agents and the batch loop are refused by name."""
    for key in ("batchloop_stages", "stream_buffer"):
        e = _err(data={"app": {key: ["detect"] if key == "batchloop_stages" else 1}}, environ={})
        assert e.key == f"app.{key}" and "unknown key" in str(e)
    with pytest.raises(ConfigError) as exc:
        settings.load(environ={"CSPM_APP_BATCHLOOP_STAGES": "detect"})
    assert "CSPM_APP_BATCHLOOP_STAGES" in str(exc.value)


# --- configuration that cannot surprise (issue 12.5) -------------------------------------------------------


def _file(tmp_path: Path, content: str | bytes, name: str = "cspm.yaml") -> Path:
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_non_finite_numbers_in_the_file_fail(tmp_path: Path, value: str) -> None:
    p = _file(tmp_path, f"app:\n  shutdown_timeout_s: {value}\n")
    e = _err(path=p, environ={})
    assert e.key == "app.shutdown_timeout_s" and "finite" in e.reason
    assert str(p) in str(e) and "\n" not in str(e)


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e999"])
def test_non_finite_numbers_in_the_environment_fail(value: str) -> None:
    e = _err(data={}, environ={"CSPM_APP_SHUTDOWN_TIMEOUT_S": value})
    assert e.key == "app.shutdown_timeout_s" and "finite" in e.reason
    assert "environment variable CSPM_APP_SHUTDOWN_TIMEOUT_S" in str(e)


def test_out_of_range_and_booleans_are_not_numbers() -> None:
    assert "must be <= 65535" in _err(data={"web": {"port": 70000}}, environ={}).reason
    assert "must be >= 0.001" in _err(data={"app": {"batch_within_s": 0}}, environ={}).reason
    e = _err(data={"kafka": {"partitions": True}}, environ={})
    assert e.key == "kafka.partitions" and "not true/false" in e.reason
    assert "expected an integer" in _err(data={"kafka": {"partitions": 2.5}}, environ={}).reason


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        ({"kafka": ["bootstrap"]}, "kafka", "expected a mapping, not a list"),
        ({"kafka": "127.0.0.1:9092"}, "kafka", "expected a mapping, not a string"),
        ({"aws": {"regions": "us-east-1"}}, "aws.regions", "expected a list, not a string"),
        ({"aws": {"accounts": {"id": "123456789012"}}}, "aws.accounts", "expected a list, not a mapping"),
        ({"alerts": {"sinks": [{"type": "kafka"}]}}, "alerts.sinks", "expected a mapping, not a list"),
        ({"alerts": {"routes": [["siem"]]}}, "alerts.routes[0]", "expected a mapping, not a list"),
        ({"detection": {"placeholders": {"ips": [{"a": 1}]}}}, "detection.placeholders.ips[0]", "expected a string"),
        ({"remediation": {"accounts": {123456789012: "auto"}}}, "remediation.accounts", "keys must be strings"),
    ],
)
def test_wrong_shapes_name_the_key(data: dict[str, object], key: str, reason: str) -> None:
    e = _err(data=data, environ={})
    assert e.key == key and reason in e.reason, str(e)


def test_a_wrong_shape_in_the_file_names_file_and_key(tmp_path: Path) -> None:
    e = _err(path=_file(tmp_path, "kafka:\n  - a\n"), environ={})
    assert str(e) == f"config error: {tmp_path / 'cspm.yaml'}: kafka: expected a mapping, not a list"
    e = _err(path=_file(tmp_path, "- kafka\n"), environ={})
    assert "top level must be a mapping, not a list" in str(e)


def test_undecodable_oversize_and_bomb_files_fail_with_one_line(tmp_path: Path) -> None:
    e = _err(path=_file(tmp_path, b"kafka:\n  topic_prefix: '\xff\xfe'\n"), environ={})
    assert "not UTF-8" in e.reason and str(tmp_path) in str(e)
    e = _err(path=_file(tmp_path, b"# " + b"x" * (1024 * 1024 + 10)), environ={})
    assert "larger than" in e.reason
    bomb = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcde", "bcdef", strict=True)
    )
    e = _err(path=_file(tmp_path, bomb), environ={})
    assert "YAML aliases expanded" in e.reason


def test_yaml_errors_never_quote_the_file(tmp_path: Path) -> None:
    p = _file(tmp_path, 'kafka:\n  bootstrap: "x:1"\n  password: "hunter2-planted\n')
    e = _err(path=p, environ={})
    assert "invalid YAML: line" in e.reason and "hunter2" not in str(e)


def test_duplicate_keys_fail(tmp_path: Path) -> None:
    e = _err(path=_file(tmp_path, "kafka:\n  partitions: 3\nweb:\n  port: 1\nkafka:\n  partitions: 4\n"), environ={})
    assert "duplicate key 'kafka'" in e.reason and "line 5" in e.reason


def test_yaml_on_off_yes_no_are_not_booleans(tmp_path: Path) -> None:
    s = settings.load(_file(tmp_path, "remediation:\n  default_mode: off\nweb:\n  enabled: no\n"), environ={})
    assert s.remediation.default_mode is RemediationMode.OFF and s.web.enabled is False


def test_unknown_remediation_actions_are_refused() -> None:
    e = _err(data={"remediation": {"actions": {"s3_blok_public_access": "auto"}}}, environ={})
    assert e.key == "remediation.actions.s3_blok_public_access"
    assert "unknown remediation action" in e.reason and "did you mean s3_block_public_access?" in e.reason
    s = settings.load(data={"remediation": {"actions": {"s3_block_public_access": "auto"}}}, environ={})
    assert s.remediation.actions == {"s3_block_public_access": RemediationMode.AUTO}


def test_every_registered_action_name_is_accepted() -> None:
    from cspm_stream.remediate.base import registry

    names = sorted(registry())
    assert names
    s = settings.load(data={"remediation": {"actions": dict.fromkeys(names, "dry-run")}}, environ={})
    assert sorted(s.remediation.actions) == names


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"remediation": {"accounts": {"12345678901": "auto"}}}, "remediation.accounts.12345678901"),
        ({"remediation": {"accounts": {"1234567890123": "auto"}}}, "remediation.accounts.1234567890123"),
        (
            {"alerts": {"routes": [{"name": "r", "sink": "siem", "accounts": ["12345678901a"]}]}},
            "alerts.routes[0].accounts[0]",
        ),
        ({"aws": {"accounts": [{"id": "１２３４５６７８９０１２"}]}}, "aws.accounts[0].id"),  # full-width digits
        ({"aws": {"accounts": [{"id": "123456789012\n"}]}}, "aws.accounts[0].id"),
    ],
)
def test_malformed_account_ids_are_refused(data: dict[str, object], key: str) -> None:
    e = _err(data=data, environ={})
    assert e.key == key and "12-digit" in e.reason


def test_unquoted_account_id_asks_for_quotes(tmp_path: Path) -> None:
    e = _err(path=_file(tmp_path, "aws:\n  accounts:\n    - id: 123456789012\n"), environ={})
    assert e.key == "aws.accounts[0].id" and "write it in quotes" in e.reason


def test_unknown_cspm_variable_is_refused_by_name_only() -> None:
    e = _err(data={}, environ={"CSPM_KAFKA_SASL_PASSWD": "hunter2-planted"})
    assert e.key == "CSPM_KAFKA_SASL_PASSWD" and "did you mean CSPM_KAFKA_SASL_PASSWORD?" in e.reason
    assert "hunter2" not in str(e) and "hunter2" not in repr(e.args) and e.value is None


def test_unknown_yaml_key_never_shows_its_value() -> None:
    e = _err(data={"kafka": {"sasl_passwd": "hunter2-planted"}}, environ={})
    assert e.key == "kafka.sasl_passwd" and "hunter2" not in str(e)


def test_sensitive_values_are_never_shown() -> None:
    token = "https://hooks.slack.example/services/T0/B0/planted-token-123"
    e = _err(data={"alerts": {"sinks": {"s": {"type": "slack", "url": token[6:]}}}}, environ={})
    assert e.key == "alerts.sinks.s.url" and "planted" not in str(e)
    e = _err(data={"aws": {"endpoint_url": ["http://user:pw-planted@x"]}}, environ={})
    assert "pw-planted" not in str(e)
    e = _err(data={}, environ={"CSPM_KAFKA_SASL_PASSWORD": "x", "CSPM_KAFKA_SECURITY_PROTOCOL": "TLS"})
    assert e.key == "kafka.security_protocol" and "TLS" in str(e)  # a plain setting's value is shown


def test_sink_settings_are_checked_at_start() -> None:
    def sink(**kw: object) -> dict[str, object]:
        return {"alerts": {"sinks": {"x": kw}, "routes": [{"name": "r", "sink": "x"}]}}

    assert "exactly one of url and url_env" in _err(data=sink(type="webhook"), environ={}).reason
    assert "exactly one of" in _err(data=sink(type="slack", url="https://a/b", url_env="U"), environ={}).reason
    assert "reserved" in _err(data=sink(type="slack", url_env="CSPM_SLACK"), environ={}).reason
    assert (
        "not an environment variable name"
        in _err(data=sink(type="webhook", url="http://a", hmac_secret_env="A-B"), environ={}).reason
    )
    assert "needs a path" in _err(data=sink(type="file"), environ={}).reason
    settings.load(data=sink(type="slack", url_env="SLACK_URL"), environ={})


def test_script_variables_are_not_settings() -> None:
    """Every CSPM_ variable the project's scripts read is a setting or on the documented allow-list."""
    import re

    from cspm_stream.settings.loader import NON_SETTING_ENV, env_name, flat_keys

    settings_env = {env_name(k) for k in flat_keys(settings.Settings)}
    used: set[str] = set()
    for script in (ROOT / "scripts").iterdir():
        if script.is_file():
            used |= set(re.findall(r"\bCSPM_[A-Z0-9_]+\b", script.read_text(errors="replace")))
    assert "CSPM_KAFKA_HEAP" in used and "CSPM_KAFKA_DIR" in used
    assert used <= settings_env | set(NON_SETTING_ENV), used - settings_env - set(NON_SETTING_ENV)
    assert not set(NON_SETTING_ENV) & settings_env
    env = {name: "/some/value" for name in NON_SETTING_ENV}
    assert settings.load(data={}, environ=env) == settings.load(data={}, environ={})


def test_list_env_values_and_one_line_errors() -> None:
    s = settings.load(data={}, environ={"CSPM_SCAN_SERVICES": " s3 , ec2,,"})
    assert s.scan.services == ["s3", "ec2"]
    e = _err(data={}, environ={"CSPM_ALERTS_SINKS": "x"})
    assert "environment variable CSPM_ALERTS_SINKS" in str(e) and "expected a mapping" in e.reason


def test_many_problems_are_counted_but_one_line() -> None:
    e = _err(data={"kafka": {"partitions": 0, "replication_factor": 0}}, environ={})
    assert e.key == "kafka.partitions" and "(and 1 more problem)" in e.reason and "\n" not in str(e)
