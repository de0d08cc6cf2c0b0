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


def test_batchloop_stages_name_known_stages() -> None:
    load = settings.load
    assert load(data={}, environ={}).app.batchloop_stages == ["posture", "detect", "alerts"]
    assert load(data={}, environ={"CSPM_APP_BATCHLOOP_STAGES": ""}).app.batchloop_stages == []  # all on faust
    with pytest.raises(ConfigError) as e:
        load(data={"app": {"batchloop_stages": ["detect", "detekt"]}}, environ={})
    assert "app.batchloop_stages[1]" in str(e.value) and "detekt" in str(e.value) and "unknown stage" in str(e.value)
