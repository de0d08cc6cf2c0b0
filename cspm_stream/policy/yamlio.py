"""YAML reading for policy/framework/mutelist files: safe, and timestamps stay strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: libyaml's parser when PyYAML was built with it (6x faster on the built-in catalogue: every
#: ``scan`` and daemon start reads some 650 files), the pure-Python one otherwise; same results
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader that keeps ISO timestamps as strings (snapshots carry strings)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise YamlReadError(f"invalid YAML: {exc}") from None
