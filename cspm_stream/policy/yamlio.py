"""YAML reading for policy/framework/mutelist/combination/playbook files: safe, timestamps stay strings,
a key given twice in a mapping is an error (:mod:`cspm_stream.strict_yaml`).

Bounded: only a regular file is read (a FIFO or device such as ``/dev/zero`` would block or
never end), at most :data:`MAX_FILE_BYTES` of it, and a document whose YAML aliases expand
to more than :data:`MAX_NODES` values ("billion laughs") is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cspm_stream import strict_yaml

MAX_FILE_BYTES = strict_yaml.MAX_FILE_BYTES
MAX_NODES = strict_yaml.MAX_NODES
YamlReadError = strict_yaml.ReadError
read_text = strict_yaml.read_text


def read_yaml(path: Path) -> Any:
    return loads(read_text(path))


def loads(text: str) -> Any:
    try:
        data = strict_yaml.load(text, strict_yaml.TextLoader)  # timestamps stay strings, duplicate keys fail
    except yaml.YAMLError as exc:
        raise YamlReadError(f"invalid YAML: {strict_yaml.problem(exc)}") from None
    if strict_yaml.too_many_nodes(data, MAX_NODES):
        raise YamlReadError(f"more than {MAX_NODES} values once YAML aliases are expanded")
    return data
