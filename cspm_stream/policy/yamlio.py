"""YAML reading for policy/framework/mutelist/combination/playbook files: safe, timestamps stay strings,
a key given twice in a mapping is an error (:mod:`cspm_stream.strict_yaml`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cspm_stream import strict_yaml


class YamlReadError(ValueError):
    pass


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlReadError(f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise YamlReadError(f"not UTF-8 text (undecodable byte at offset {exc.start})") from None
    return loads(text)


def loads(text: str) -> Any:
    try:
        return strict_yaml.load(text, strict_yaml.TextLoader)  # timestamps stay strings, duplicate keys fail
    except yaml.YAMLError as exc:
        raise YamlReadError(f"invalid YAML: {strict_yaml.problem(exc)}") from None
