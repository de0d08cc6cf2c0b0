"""``rules backtest --since`` further back than the Unix epoch, on the real broker.

It asked Kafka for the offsets at a negative time; aiokafka refused with a ValueError and the
command ended in a traceback (exit 70). A window reaching before 1970 now reads everything retained.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cspm_stream.cli import main
from cspm_stream.settings import Settings
from cspm_stream.topic_admin import ensure_topics
from tests.kafka_util import write_config

pytestmark = pytest.mark.integration

RULE = (
    "title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource: {product: aws, service: cloudtrail}\n"
    "detection:\n  sel: {eventName: X}\n  condition: sel\nlevel: high\n"
)


def test_since_before_the_epoch_reads_everything(
    kafka_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(ensure_topics(kafka_settings.kafka))
    cfg = write_config(kafka_settings, tmp_path / "c.yaml")
    rule = tmp_path / "r.yml"
    rule.write_text(RULE)
    code = main(["-c", str(cfg), "rules", "backtest", "--rules", str(rule), "--since", "20000w", "--timeout", "10"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
