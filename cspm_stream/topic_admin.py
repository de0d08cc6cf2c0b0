"""Topic creation, verification and repair against the topic table (:mod:`cspm_stream.topics`).

Only ``cspm-stream topics create`` creates topics (:func:`ensure`); every other
command and the daemon *require* them (:func:`require`), failing with
:class:`~cspm_stream.errors.TopicError` that says how to create or repair them. Every
client refuses broker-side auto-creation (:func:`cspm_stream.kafka.client_options`),
so a typo'd prefix never leaves topics with the broker's default configuration.

What is checked on an existing topic, and what ``--repair`` can do about it:

==========================  ===========================================  ==========================
check                       requirement                                  repair
==========================  ===========================================  ==========================
``cleanup.policy``          exactly the table's (compact / delete)       set (incrementalAlterConfigs)
``retention.ms``            delete topics: >= the table's, or -1         set
``max.message.bytes``       >= the largest record the stage may emit     set
partitions                  exactly the table's                          grow only (keys re-map)
replication factor          >= ``kafka.replication_factor``              none (a reassignment)
==========================  ===========================================  ==========================

Configs are changed with IncrementalAlterConfigs (Kafka API 44), which touches only
the named configs; aiokafka has no call for it, so its request is declared here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

from cspm_stream.errors import KafkaUnavailable, TopicError
from cspm_stream.kafka import client_options
from cspm_stream.settings import KafkaSettings
from cspm_stream.topics import TOPICS, TopicSpec

_TOPIC_RESOURCE = 2
_OP_SET = 0


class _IncrementalAlterConfigsResponseV0(Response):  # type: ignore[misc]
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "responses",
            Array(
                ("error_code", Int16),
                ("error_message", String("utf-8")),
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
            ),
        ),
    )


class _IncrementalAlterConfigsRequestV0(RequestStruct):  # type: ignore[misc]
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = _IncrementalAlterConfigsResponseV0
    SCHEMA = Schema(
        (
            "resources",
            Array(
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
                ("configs", Array(("name", String("utf-8")), ("config_operation", Int8), ("value", String("utf-8")))),
            ),
        ),
        ("validate_only", Boolean),
    )


class IncrementalAlterConfigs(Request[_IncrementalAlterConfigsRequestV0]):  # type: ignore[misc]
    """Set the named configs of topics, leaving every other config as it is."""

    API_KEY = 44

    def __init__(self, changes: dict[str, dict[str, str]]) -> None:
        self._resources = [
            (_TOPIC_RESOURCE, topic, [(k, _OP_SET, v) for k, v in sorted(configs.items())])
            for topic, configs in sorted(changes.items())
        ]

    def build(self, request_struct_class: type[_IncrementalAlterConfigsRequestV0]) -> _IncrementalAlterConfigsRequestV0:
        return request_struct_class(self._resources, False)


@dataclass
class TopicCheck:
    """What :func:`check` found on one topic, and what would repair it."""

    name: str
    exists: bool = True
    created: bool = False
    problems: list[str] = field(default_factory=list)  # human-readable, one per config
    config_fixes: dict[str, str] = field(default_factory=dict)  # config -> value that repairs it
    grow_to: int | None = None  # partitions to add up to
    unfixable: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exists and not self.problems

    @property
    def status(self) -> str:
        if self.created:
            return "created"
        if not self.exists:
            return "MISSING" + (" (" + "; ".join(self.problems) + ")" if self.problems else "")
        if self.problems:
            return "MISMATCH " + "; ".join(self.problems)
        return "repaired: " + "; ".join(self.repaired) if self.repaired else "ok"


def compare(
    spec: TopicSpec, want_partitions: int, want_rf: int, configs: dict[str, str], partitions: int, rf: int
) -> TopicCheck:
    """Pure: the differences between an existing topic and its spec (``configs`` as the broker describes them)."""
    c = TopicCheck("")
    want = spec.configs()
    policy = configs.get("cleanup.policy", "")
    if policy != want["cleanup.policy"]:
        c.problems.append(f"cleanup.policy={policy or '?'}, expected {want['cleanup.policy']}")
        c.config_fixes["cleanup.policy"] = want["cleanup.policy"]
    if not spec.compacted:
        have = _int(configs.get("retention.ms"))
        if have is None or (have != -1 and have < spec.retention_ms):
            c.problems.append(f"retention.ms={configs.get('retention.ms', '?')}, expected >= {spec.retention_ms}")
            c.config_fixes["retention.ms"] = str(spec.retention_ms)
    have_max = _int(configs.get("max.message.bytes"))
    if have_max is None or have_max < spec.max_message_bytes:
        c.problems.append(
            f"max.message.bytes={configs.get('max.message.bytes', '?')}, expected >= {spec.max_message_bytes}"
            f" ({spec.largest_record})"
        )
        c.config_fixes["max.message.bytes"] = str(spec.max_message_bytes)
    if partitions != want_partitions:
        c.problems.append(f"partitions={partitions}, expected {want_partitions}")
        if partitions < want_partitions:
            c.grow_to = want_partitions
        else:
            c.unfixable.append(f"partitions cannot shrink ({partitions} > {want_partitions}): recreate the topic")
    if rf < want_rf:
        c.problems.append(f"replication factor={rf}, expected >= {want_rf}")
        c.unfixable.append(
            "the replication factor changes only by a partition reassignment (kafka-reassign-partitions)"
        )
    return c


def _int(v: str | None) -> int | None:
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


async def admin_client(kafka: KafkaSettings) -> AIOKafkaAdminClient:
    """A started admin client; KafkaUnavailable (one line, no traceback) when the broker cannot be reached."""
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=int(kafka.request_timeout_s * 1000))
    try:
        await admin.start()
    except (KafkaConnectionError, KafkaError, OSError) as exc:
        await admin.close()
        raise KafkaUnavailable(f"cannot reach Kafka at {kafka.bootstrap}: {type(exc).__name__}") from None
    return admin


async def describe_configs(admin: AIOKafkaAdminClient, names: Sequence[str]) -> dict[str, dict[str, str]]:
    res = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    out: dict[str, dict[str, str]] = {}
    for r in res:
        for resource in r.resources:
            out[resource[3]] = {entry[0]: entry[1] for entry in resource[4]}
    return out


async def check(
    kafka: KafkaSettings,
    wanted: Sequence[tuple[str, TopicSpec]],
    *,
    create: bool = False,
    repair: bool = False,
) -> list[TopicCheck]:
    """Check every ``(full name, spec)``; create the missing ones when ``create``, repair what can be when ``repair``."""
    admin = await admin_client(kafka)
    try:
        existing = set(await admin.list_topics())
        results = {name: TopicCheck(name, exists=name in existing) for name, _ in wanted}
        new = [
            NewTopic(
                name=name,
                num_partitions=s.partitions or kafka.partitions,
                replication_factor=kafka.replication_factor,
                topic_configs=s.configs(),
            )
            for name, s in wanted
            if name not in existing
        ]
        if new and create:
            try:
                answer = await admin.create_topics(new)
            except TopicAlreadyExistsError:  # raced with another creator: verify below
                answer = None
            refused = _create_errors(answer)
            made = [t.name for t in new if t.name not in refused]
            for name in made:
                results[name] = TopicCheck(name, created=True)
            for name, (code, why) in refused.items():
                if code == TopicAlreadyExistsError.errno:  # raced with another creator: verified below
                    results[name].exists = True
                else:  # the broker refused it (an invalid name, a policy): never reported as created
                    results[name].problems.append(f"not created: {why}")
            if answer is None:
                existing = set(await admin.list_topics())
                for t in new:
                    results[t.name].exists = t.name in existing
            await _await_visible(admin, made, kafka.request_timeout_s)
        await _compare_existing(admin, kafka, wanted, results)
        if repair:
            broken = [r for r in results.values() if r.exists and r.problems]
            asked = await _repair(admin, kafka, broken)
            await _await_repaired(admin, kafka, wanted, results, asked)
        return [results[name] for name, _ in wanted]
    finally:
        await admin.close()


def _create_errors(answer: Any) -> dict[str, tuple[int, str]]:
    """Topic -> (error code, reason) of every topic a CreateTopics answer refused (aiokafka returns
    the answer instead of raising: a per-topic error was reported as created)."""
    out: dict[str, tuple[int, str]] = {}
    for entry in getattr(answer, "topic_errors", None) or ():
        name, code = entry[0], entry[1]
        if code:
            message = entry[2] if len(entry) > 2 and isinstance(entry[2], str) else ""
            if len(message) > 200:
                message = message[:200] + "…"
            out[name] = (code, message or f"error code {code}")
    return out


async def _await_visible(admin: AIOKafkaAdminClient, names: Sequence[str], timeout_s: float) -> None:
    """Return once every created topic is in the broker's metadata (a broker answers CreateTopics
    before its metadata cache holds the topic): whoever runs next after ``topics create`` finds them.
    Gives up silently after ``timeout_s`` (the creation itself succeeded)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    delay = 0.05
    while not set(names) <= set(await admin.list_topics()):
        if asyncio.get_running_loop().time() >= deadline:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def _compare_existing(
    admin: AIOKafkaAdminClient, kafka: KafkaSettings, wanted: Sequence[tuple[str, TopicSpec]], results: dict[str, Any]
) -> None:
    names = [n for n, _ in wanted if results[n].exists and not results[n].created]
    if not names:
        return
    described = {d["topic"]: d for d in await admin.describe_topics(names)}
    configs = await describe_configs(admin, names)
    for name, spec in wanted:
        r: TopicCheck = results[name]
        if name not in names:
            continue
        parts = described.get(name, {}).get("partitions") or []
        rf = min((len(p.get("replicas", [])) for p in parts), default=0)
        found = compare(
            spec, spec.partitions or kafka.partitions, kafka.replication_factor, configs.get(name, {}), len(parts), rf
        )
        r.problems, r.config_fixes, r.grow_to, r.unfixable = (
            found.problems,
            found.config_fixes,
            found.grow_to,
            found.unfixable,
        )


async def _await_repaired(
    admin: AIOKafkaAdminClient,
    kafka: KafkaSettings,
    wanted: Sequence[tuple[str, TopicSpec]],
    results: dict[str, Any],
    asked: dict[str, tuple[int | None, set[str]]],
) -> None:
    """Verify again after a repair, until the broker's answers show what was changed (a broker
    answers CreatePartitions and IncrementalAlterConfigs before its metadata cache holds the change:
    describing at once can still report one partition). Gives up after ``request_timeout_s`` and
    reports what the broker then says."""
    deadline = asyncio.get_running_loop().time() + kafka.request_timeout_s
    delay = 0.05
    while True:
        await _compare_existing(admin, kafka, wanted, results)
        pending = [
            name
            for name, (grow_to, keys) in asked.items()
            if (grow_to and results[name].grow_to) or keys & set(results[name].config_fixes)
        ]
        if not pending or asyncio.get_running_loop().time() >= deadline:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def _repair(
    admin: AIOKafkaAdminClient, kafka: KafkaSettings, broken: list[TopicCheck]
) -> dict[str, tuple[int | None, set[str]]]:
    """Apply each topic's config fixes and partition growth; returns what the broker accepted:
    topic -> (partitions grown to, config keys changed)."""
    done: dict[str, tuple[int | None, set[str]]] = {}
    changes = {r.name: r.config_fixes for r in broken if r.config_fixes}
    if changes:
        client = AIOKafkaClient(**client_options(kafka), request_timeout_ms=int(kafka.request_timeout_s * 1000))
        await client.bootstrap()
        try:
            resp = await client.send(client.get_random_node(), IncrementalAlterConfigs(changes))
        finally:
            await client.close()
        errors = {name: msg or f"error code {code}" for code, msg, _, name in resp.responses if code}
        for r in broken:
            if r.name in changes and r.name not in errors:
                r.repaired += [f"{k}={v}" for k, v in sorted(changes[r.name].items())]
                done[r.name] = (None, set(changes[r.name]))
            elif r.name in errors:
                r.unfixable.append(f"alter configs failed: {errors[r.name]}")
    grow = {r.name: NewPartitions(total_count=r.grow_to) for r in broken if r.grow_to}
    if grow:
        await admin.create_partitions(grow)
        for r in broken:
            if r.grow_to:
                r.repaired.append(f"partitions grown to {r.grow_to} (existing keys now map to other partitions)")
                done[r.name] = (r.grow_to, done.get(r.name, (None, set()))[1])
    return done


def table(kafka: KafkaSettings, specs: Iterable[TopicSpec] = TOPICS) -> list[tuple[str, TopicSpec]]:
    """``(full name, spec)`` of the topic table under ``kafka.topic_prefix``."""
    return [(kafka.topic(s.name), s) for s in specs]


async def ensure(kafka: KafkaSettings, *, repair: bool = False) -> list[TopicCheck]:
    """``cspm-stream topics create [--repair]``: create what is missing, verify (and repair) the rest."""
    return await check(kafka, table(kafka), create=True, repair=repair)


async def ensure_topics(kafka: KafkaSettings, specs: Iterable[TopicSpec] = TOPICS) -> list[tuple[str, str]]:
    """Create missing topics, verify existing ones. Returns (topic, 'created'|'ok'|problem).

    Only ``cspm-stream topics create`` should call this; see :func:`ensure`.
    """
    return await ensure_named_topics(kafka, [(kafka.topic(s.name), s) for s in specs])


async def ensure_named_topics(kafka: KafkaSettings, wanted: list[tuple[str, TopicSpec]]) -> list[tuple[str, str]]:
    """:func:`ensure_topics` for topics named in full (no prefix applied: a stage's changelog)."""
    return [(r.name, r.status) for r in await check(kafka, wanted, create=True)]


async def topic_configs(kafka: KafkaSettings, logical: str) -> dict[str, str]:
    """Describe one topic's configs (used by tests and `topics verify`)."""
    admin = await admin_client(kafka)
    try:
        return (await describe_configs(admin, [kafka.topic(logical)])).get(kafka.topic(logical), {})
    finally:
        await admin.close()


async def require(kafka: KafkaSettings, logical: Iterable[str] | None = None) -> None:
    """Raise :class:`TopicError` unless every topic (or the ``logical`` ones) exists as the table says."""
    specs = [s for s in TOPICS if logical is None or s.name in set(logical)]
    found = await check(kafka, table(kafka, specs))
    raise_unless_ok(found)


def raise_unless_ok(found: Sequence[TopicCheck]) -> None:
    missing = [r.name for r in found if not r.exists]
    wrong = [r for r in found if r.exists and r.problems]
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise TopicError(f"missing topic(s) {shown}: create them with 'cspm-stream topics create'")
    if wrong:
        r = wrong[0]
        more = f" (and {len(wrong) - 1} more topics)" if len(wrong) > 1 else ""
        raise TopicError(
            f"topic {r.name} does not match the topic table: {'; '.join(r.problems)}{more}: "
            "'cspm-stream topics create --repair' fixes what can be fixed"
        )
