"""Read and write framework files in one layout (key order, quoting, one policy id a line),
so a script that changes a file rewrites only what it changed and others can insert a
policy id into a requirement's ``policies:`` list with a one-line edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cspm_stream.policy.yamlio import loads

TOP = ("id", "name", "version", "url", "description", "source", "review", "requirements")
REQ = ("id", "title", "section", "assessment", "automated", "policies", "description", "rationale")


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # lists under a key are indented like the key's value ("- x" under "policies:")
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str)


def _ordered(d: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    out = {k: d[k] for k in order if k in d}
    out.update({k: v for k, v in d.items() if k not in out})
    return out


def read(path: Path) -> dict[str, Any]:
    doc = loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not a framework file")
    return doc


def dumps(doc: dict[str, Any]) -> str:
    doc = _ordered(doc, TOP)
    reqs = []
    for r in doc.get("requirements") or []:
        r = _ordered(r, REQ)
        r["id"] = str(r["id"])
        reqs.append(r)
    doc["requirements"] = reqs
    text: str = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return text


def write(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(dumps(doc), encoding="utf-8")
