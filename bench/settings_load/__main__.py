"""``python -m bench.settings_load [--n N]``: what validating the settings costs with pydantic and with msgspec.

Both validators are derived from the same settings dataclasses (the pydantic one is the
loader's own, :mod:`cspm_stream.settings.schema`; the msgspec one is built here the same
way: ``msgspec.defstruct`` with ``Meta(ge, le)``, ``Literal`` choices,
``forbid_unknown_fields``). Measured per library, in fresh processes for the first load
(import + schema build + one validation: what a CLI start pays) and in-process for
repeated validation of two inputs: the shipped ``config/cspm.yaml`` and a larger one
(20 sinks, 50 routes, 30 accounts). Also records which hostile inputs each one refuses.
msgspec is optional (``pip install msgspec``); without it its rows say so. Prints JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import math
import subprocess
import sys
import time
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

ROOT = Path(__file__).resolve().parents[2]


def _big_config() -> dict[str, Any]:
    sinks = {f"s{i}": {"type": "webhook", "url": f"https://h{i}.example/x", "max_attempts": 3} for i in range(20)}
    routes = [
        {"name": f"r{i}", "sink": f"s{i % 20}", "min_severity": 4, "accounts": [f"{100000000000 + i}"]}
        for i in range(50)
    ]
    accounts = [{"id": f"{200000000000 + i}", "role_name": "Reader"} for i in range(30)]
    return {
        "kafka": {"bootstrap": "k1:9092,k2:9092", "partitions": 12},
        "aws": {"regions": ["us-east-1", "eu-west-1"], "accounts": accounts},
        "alerts": {"sinks": sinks, "routes": routes},
        "remediation": {"accounts": {f"{200000000000 + i}": "dry-run" for i in range(30)}},
    }


HOSTILE: dict[str, dict[str, Any]] = {
    "nan": {"app": {"shutdown_timeout_s": math.nan}},
    "inf": {"app": {"shutdown_timeout_s": math.inf}},
    "section_as_list": {"kafka": ["x"]},
    "unknown_key": {"kafka": {"bootstrapp": "x:1"}},
    "bool_as_int": {"kafka": {"partitions": True}},
    "out_of_range": {"web": {"port": 70000}},
}


# ---- msgspec, derived like settings.schema derives pydantic --------------------------------------------


def _msgspec_type(ms: Any, tp: Any, meta: typing.Mapping[str, Any], cache: dict[type, Any]) -> Any:
    from cspm_stream.settings.loader import Secret

    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _msgspec_type(ms, inner, meta, cache) | None
    if origin is list:
        return list[_msgspec_type(ms, typing.get_args(tp)[0], meta, cache)]  # type: ignore[misc]
    if origin is dict:
        return dict[str, _msgspec_type(ms, typing.get_args(tp)[1], meta, cache)]  # type: ignore[misc]
    if tp is Secret:
        return str
    if dataclasses.is_dataclass(tp):
        return _msgspec_struct(ms, tp, cache)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if tp is int or tp is float:
        kw = {k: meta[m] for k, m in (("ge", "min"), ("le", "max")) if meta.get(m) is not None}
        return Annotated[tp, ms.Meta(**kw)] if kw else tp
    if tp is str and meta.get("choices"):
        return Literal[tuple(meta["choices"])]
    return tp


def _msgspec_struct(ms: Any, cls: Any, cache: dict[type, Any]) -> Any:
    if cls not in cache:
        hints = typing.get_type_hints(cls)
        fields = []
        for f in dataclasses.fields(cls):
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            t = _msgspec_type(ms, hints[f.name], f.metadata, cache)
            fields.append((f.name, t) if required else (f.name, t, None))
        cache[cls] = ms.defstruct(cls.__name__, fields, forbid_unknown_fields=True, kw_only=True)
    return cache[cls]


def msgspec_validator() -> Any:
    import msgspec

    from cspm_stream.settings import Settings

    typ = _msgspec_struct(msgspec, Settings, {})
    return lambda data: msgspec.convert(data, type=typ, strict=False)


def pydantic_validator() -> Any:
    from cspm_stream.settings import Settings
    from cspm_stream.settings.schema import model_for

    model = model_for(Settings)
    return model.model_validate


# ---- measurement ----------------------------------------------------------------------------------------

_COLD = """
import time, sys
t = time.perf_counter()
sys.path.insert(0, {root!r})
from bench.settings_load.__main__ import {factory}, _big_config
v = {factory}()
v(_big_config())
print((time.perf_counter() - t) * 1000)
"""


def cold_ms(factory: str, runs: int = 5) -> float:
    """Median ms of import + schema build + one validation, in a fresh interpreter (settings module already
    imported by neither)."""
    out = []
    for _ in range(runs):
        code = _COLD.format(root=str(ROOT), factory=factory)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return sorted(out)[len(out) // 2]


def warm_us(validate: Any, data: dict[str, Any], n: int) -> float:
    validate(data)
    t = time.perf_counter()
    for _ in range(n):
        validate(data)
    return (time.perf_counter() - t) / n * 1e6


def refuses(validate: Any) -> dict[str, bool]:
    out = {}
    for name, data in HOSTILE.items():
        try:
            validate(data)
            out[name] = False
        except Exception:
            out[name] = True
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="validations per warm measurement")
    args = ap.parse_args()
    import yaml

    shipped = yaml.safe_load((ROOT / "config" / "cspm.yaml").read_text()) or {}
    result: dict[str, Any] = {"n": args.n}
    for name, factory in (("pydantic", "pydantic_validator"), ("msgspec", "msgspec_validator")):
        try:
            validate = globals()[factory]()
        except ImportError as exc:
            result[name] = {"error": f"not installed: {exc}"}
            continue
        result[name] = {
            "first_load_ms_fresh_process": round(cold_ms(factory), 1),
            "validate_shipped_config_us": round(warm_us(validate, shipped, args.n), 1),
            "validate_big_config_us": round(warm_us(validate, _big_config(), args.n), 1),
            "refuses": refuses(validate),
        }
    from cspm_stream import settings

    t = time.perf_counter()
    for _ in range(200):
        settings.load(ROOT / "config" / "cspm.yaml", environ={})
    result["settings.load(config/cspm.yaml)_ms"] = round((time.perf_counter() - t) / 200 * 1000, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
