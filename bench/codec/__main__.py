"""Benchmark: decoding the hot-path values (``activity.v1``, ``inventory.v1``) into the models.

    .venv/bin/python -m bench.codec [--records 20000] [--repeat 5]

Each candidate turns the same JSON bytes into the same dataclass (every field type-checked,
the free-form ``record``/``attributes`` objects kept as parsed):

* ``msgspec``: ``msgspec.json.Decoder(Model)`` (strict: no str→int coercion);
* ``pydantic``: ``TypeAdapter(Model).validate_json`` in strict mode;
* ``orjson + generated builder``: the previous codec (``orjson.loads`` then a per-class builder
  generated with ``exec``), reproduced here for the comparison only;
* ``orjson.loads`` alone: the floor (parsing without building the model);
* ``cspm_stream.models.decode``: the product's codec (the ``schema`` field read first, then msgspec).

Records: the realistic CloudTrail mix of ``bench/detect/mix.py`` wrapped as ``activity.v1``, and
snapshots with a few dozen attributes. Rates are per CPU-second (``time.process_time``), the best
of ``--repeat`` runs. Prints JSON.
"""

from __future__ import annotations

import argparse
import sys
import time
import typing
from collections.abc import Callable
from typing import Any

import orjson

from bench.detect.mix import generate
from cspm_stream.models import ActivityRecord, ActivitySource, ResourceSnapshot, decode, dumps
from cspm_stream.testing import snapshot


def _samples(n: int) -> dict[str, tuple[type[Any], list[bytes]]]:
    acts = [dumps(ActivityRecord.from_cloudtrail(r, ActivitySource.FILE, r["eventTime"])) for r in generate(n, seed=3)]
    snaps = []
    for i in range(n):
        attrs = {f"Attr{j}": {"Enabled": j % 2 == 0, "Value": f"v{i}-{j}", "List": [j, j + 1]} for j in range(30)}
        snaps.append(dumps(snapshot("aws.s3.bucket", attrs, resource_id=f"b{i}", arn=f"arn:aws:s3:::b{i}")))
    return {"activity.v1": (ActivityRecord, acts), "inventory.v1": (ResourceSnapshot, snaps)}


def _msgspec(model: type[Any]) -> Callable[[bytes], Any] | None:
    try:
        import msgspec
    except ImportError:
        return None
    return msgspec.json.Decoder(model).decode


def _pydantic(model: type[Any]) -> Callable[[bytes], Any] | None:
    try:
        from pydantic import TypeAdapter
    except ImportError:
        return None
    validate = TypeAdapter(model).validate_json
    return lambda data: validate(data, strict=True)


def _generated(model: type[Any]) -> Callable[[bytes], Any]:
    """The previous codec's hot path: orjson, then a builder generated from the field types."""
    import dataclasses

    hints = typing.get_type_hints(model)
    lines = ["def build(obj):", "    kw = {}"]
    for f in dataclasses.fields(model):
        tp = hints[f.name]
        fast = {str: "str", int: "int", bool: "bool"}.get(tp, "dict" if typing.get_origin(tp) is dict else None)
        lines += [f"    if {f.name!r} in obj:", f"        v = obj[{f.name!r}]"]
        if fast:
            lines += [f"        if v.__class__ is not {fast}:", "            raise TypeError(v)"]
        lines.append(f"        kw[{f.name!r}] = v")
    lines.append("    return cls(**kw)")
    scope: dict[str, Any] = {"cls": model, "str": str, "int": int, "bool": bool, "dict": dict}
    exec("\n".join(lines), scope)  # the previous codec, reproduced for the comparison only
    build = scope["build"]

    def decode(data: bytes) -> Any:
        obj = orjson.loads(data)
        return build(obj)

    return decode


def _rate(fn: Callable[[bytes], Any], blobs: list[bytes], repeat: int) -> int:
    best = 0.0
    for _ in range(repeat):
        t = time.process_time()
        for b in blobs:
            fn(b)
        best = max(best, len(blobs) / max(time.process_time() - t, 1e-9))
    return round(best)


def run(records: int, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for schema, (model, blobs) in _samples(records).items():
        rates: dict[str, Any] = {"orjson.loads only": _rate(orjson.loads, blobs, repeat)}
        rates["orjson + generated builder (previous)"] = _rate(_generated(model), blobs, repeat)
        rates["cspm_stream.models.decode (schema read first, then msgspec)"] = _rate(
            lambda b, m=model: decode(b, m), blobs, repeat
        )
        for name, make in (("msgspec", _msgspec), ("pydantic (strict)", _pydantic)):
            fn = make(model)
            rates[name] = _rate(fn, blobs, repeat) if fn is not None else "not installed"
        out[schema] = {"avg_bytes": round(sum(map(len, blobs)) / len(blobs)), "records_per_cpu_s": rates}
    return {"benchmark": "codec", "records": records, "python": sys.version.split()[0], "results": out}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    sys.stdout.write(orjson.dumps(run(a.records, a.repeat), option=orjson.OPT_INDENT_2).decode() + "\n")
