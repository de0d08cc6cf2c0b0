"""YAML reading for policy/framework/mutelist/combination/playbook files: safe, timestamps stay strings,
a key given twice in a mapping is an error (:mod:`cspm_stream.strict_yaml`).

Bounded: only a regular file is read (a FIFO or device such as ``/dev/zero`` would block or
never end), at most :data:`MAX_FILE_BYTES` of it, and a document whose YAML aliases expand
to more than :data:`MAX_NODES` values ("billion laughs") is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from cspm_stream import strict_yaml

#: largest catalogue file read (the largest built-in one is ~0.25 MiB)
MAX_FILE_BYTES = 16 * 1024 * 1024
#: most values a document may hold once its YAML aliases are expanded
MAX_NODES = 1_000_000


class YamlReadError(ValueError):
    pass


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes; YamlReadError naming why otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: opening a FIFO does not wait for a writer
    except OSError as exc:
        raise YamlReadError(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise YamlReadError("cannot read: not a regular file")
        blob = fh.read(limit + 1)
    if len(blob) > limit:
        raise YamlReadError(f"larger than {limit} bytes")
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlReadError(f"not UTF-8 text (undecodable byte at offset {exc.start})") from None


def read_yaml(path: Path) -> Any:
    return loads(read_text(path))


def loads(text: str) -> Any:
    try:
        data = strict_yaml.load(text, strict_yaml.TextLoader)  # timestamps stay strings, duplicate keys fail
    except yaml.YAMLError as exc:
        raise YamlReadError(f"invalid YAML: {strict_yaml.problem(exc)}") from None
    if _too_many_nodes(data, MAX_NODES):
        raise YamlReadError(f"more than {MAX_NODES} values once YAML aliases are expanded")
    return data


def _too_many_nodes(data: Any, limit: int) -> bool:
    """Whether ``data`` holds more than ``limit`` values, counting shared (aliased) parts each time."""
    count, stack = 0, [data]
    while stack:
        x = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(x, dict):
            count += len(x)
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return False
