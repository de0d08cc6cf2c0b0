"""YAML as the product reads every catalogue and configuration file: safe, and strict about keys.

PyYAML keeps the last of two equal keys in a mapping without a word, so a second entry for the
same key silently replaces the first (a rescan-map event, a policy's ``condition``, a setting).
Every loader here refuses that with the line of the second key, the key and the line of the
first. YAML merge keys (``<<: *base``) still work: a key given explicitly beside a merge
overrides the merged value, as the YAML merge rule says; only explicit keys given twice fail.

Three variants, one rule for keys:

* :class:`StrictLoader` — YAML 1.1 scalars as PyYAML reads them (detection rules, the rescan map,
  the external mapping);
* :class:`TextLoader` — ISO timestamps stay strings (policies, frameworks, combinations,
  playbooks, mutelists: snapshots and examples carry strings);
* :class:`ConfigLoader` — only ``true``/``false`` are booleans (settings: YAML 1.1 reads
  ``off``/``no``/``on``/``yes`` as booleans, so ``default_mode: off`` would not be 'off').

:func:`problem` describes a YAML error by line, column and problem, never quoting the text
(a configuration file may hold a secret).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ConfigLoader", "DuplicateKeyError", "StrictLoader", "TextLoader", "load", "load_all", "problem"]

#: libyaml's parser when PyYAML was built with it (several times faster on the catalogue), else the
#: pure-Python one; the constructor (where keys are checked) is PyYAML's Python code either way
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAX_KEY_CHARS = 60
#: longest number scalar read as a number: Python refuses int() of 4,300+ digits (ValueError), a
#: long base-60 scalar (``1:1:1:…``) takes quadratic time and overflows a float
MAX_NUMBER_CHARS = 100


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping names the same key twice."""

    def __init__(self, key: str, first: yaml.Mark | None, second: yaml.Mark | None) -> None:
        where = f" (first at line {first.line + 1})" if first is not None else ""
        super().__init__(None, None, f"duplicate key {key!r}{where}", second)
        self.key = key


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
#: scalar tags the fast path builds with the loader's own constructor for the tag
_SCALARS = frozenset(
    {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
)


class _Slow(Exception):
    """The document needs PyYAML's general constructor (merge keys, other tags, a duplicate key...)."""


class StrictLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """Safe YAML that refuses a mapping key given twice.

    Documents made of mappings, sequences and plain scalars (every catalogue file) are built by
    a direct walk of the composed nodes, several times faster than PyYAML's general constructor;
    anything else (merge keys, timestamps and other tags, a duplicate or unhashable key, nesting
    deeper than the walk goes) is built by PyYAML's constructor, so results and errors are
    PyYAML's either way (a test holds them equal over every YAML file of the project).
    """

    def construct_document(self, node: yaml.Node) -> Any:
        try:
            return self._walk(node, {}, set())
        except (_Slow, RecursionError):
            return super().construct_document(node)

    def _walk(self, node: yaml.Node, done: dict[int, Any], open_: set[int]) -> Any:
        nid = id(node)
        if nid in done:  # an alias: the same object, as PyYAML shares it
            if nid in open_:
                raise _Slow  # a structure holding itself
            return done[nid]
        cls, tag = node.__class__, node.tag
        if cls is yaml.ScalarNode:
            if tag == _STR:
                value: Any = node.value
            elif tag in _SCALARS:
                value = self.yaml_constructors[tag](self, node)
            else:
                raise _Slow
            done[nid] = value
            return value
        open_.add(nid)
        if cls is yaml.SequenceNode and tag == _SEQ:
            seq: list[Any] = []
            done[nid] = seq
            for child in node.value:
                seq.append(self._walk(child, done, open_))
            value = seq
        elif cls is yaml.MappingNode and tag == _MAP:
            mapping: dict[Any, Any] = {}
            done[nid] = mapping
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    raise _Slow
                key = self._walk(key_node, done, open_)
                if key.__class__ is dict or key.__class__ is list or key in mapping:
                    raise _Slow  # unhashable or repeated: PyYAML's constructor reports it
                mapping[key] = self._walk(value_node, done, open_)
            value = mapping
        else:
            raise _Slow
        open_.discard(nid)
        return value

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # `<<: *base`: merged keys may be overridden explicitly
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                dup = key in seen
            except TypeError:  # an unhashable key: the base class reports it
                break
            if dup:
                raise DuplicateKeyError(str(key)[:_MAX_KEY_CHARS], seen[key], key_node.start_mark)
            seen[key] = key_node.start_mark
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def _number(self, node: yaml.ScalarNode, build: Any) -> Any:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise yaml.constructor.ConstructorError(
                None, None, f"a number of more than {MAX_NUMBER_CHARS} characters (write it in quotes)", node.start_mark
            )
        try:
            return build(self, node)
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(None, None, "a number out of range", node.start_mark) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        return self._number(node, yaml.constructor.SafeConstructor.construct_yaml_int)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        return self._number(node, yaml.constructor.SafeConstructor.construct_yaml_float)


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)


class TextLoader(StrictLoader):
    """:class:`StrictLoader` with ISO timestamps kept as strings."""


TextLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class ConfigLoader(StrictLoader):
    """:class:`StrictLoader` where only true/false (any case style) are booleans."""


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, _BOOL if tag == "tag:yaml.org,2002:bool" else rx) for tag, rx in resolvers]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str, loader: type[StrictLoader] = StrictLoader) -> Any:
    """One YAML document; raises ``yaml.YAMLError`` (:class:`DuplicateKeyError` for a repeated key)."""
    return yaml.load(text, Loader=loader)  # noqa: S506 - every loader here is a SafeLoader subclass


def load_all(text: str, loader: type[StrictLoader] = StrictLoader) -> list[Any]:
    """Every document of a multi-document stream (``---``), in order."""
    return list(yaml.load_all(text, Loader=loader))


def problem(exc: yaml.YAMLError) -> str:
    """``line L, column C: <problem>`` — where and what, without quoting the file's text."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = exc.problem or exc.context or "syntax error"
        if exc.context and exc.problem and exc.context not in what:
            what = f"{exc.context}: {what}"
        return where + what
    return type(exc).__name__


#: largest catalogue file read (policies, frameworks, rules …; the largest built-in one is ~0.25 MiB)
MAX_FILE_BYTES = 16 * 1024 * 1024
#: most values a document may hold once its YAML aliases are expanded
MAX_NODES = 1_000_000


class ReadError(ValueError):
    """A catalogue file that cannot be read safely; the message says why (never the content)."""


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes; :class:`ReadError` naming why otherwise.

    Only a regular file is read: a FIFO would block and a device such as ``/dev/zero`` never ends."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: opening a FIFO does not wait for a writer
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ReadError("cannot read: not a regular file")
        blob = fh.read(limit + 1)
    if len(blob) > limit:
        raise ReadError(f"larger than {limit} bytes")
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not UTF-8 text (undecodable byte at offset {exc.start})") from None


def too_many_nodes(data: Any, limit: int = MAX_NODES) -> bool:
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
