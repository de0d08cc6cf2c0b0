"""AWS CodeBuild (regional): build projects and report groups.

``aws.codebuild.project``: ``{name}`` (ListProjects) plus

* ``Project`` — the BatchGetProjects item (read 100 at a time, once per job): ``projectVisibility``,
  ``source`` (``type``, ``location``, ``buildspec``, ``auth.type``), ``secondarySources``, ``environment``
  (``privilegedMode``, ``type``, ``image``, ``environmentVariables``), ``logsConfig`` (``cloudWatchLogs.status``,
  ``s3Logs.status``/``encryptionDisabled``), ``webhook.filterGroups``, ``serviceRole``, ``encryptionKey``.
  Secrets never stay in the snapshot: environment variables lose their values (``{name, type, valueLength,
  valueKind, holdsSecret}``, see ``_redact``), source locations lose the user-information of their URL
  (``https://REDACTED:REDACTED@bitbucket.org/...``), ``source.auth.resource`` and the webhook secret are dropped;
* ``LastBuild`` — the project's most recent build (ListBuildsForProject, newest first, then BatchGetBuilds):
  ``{id, buildStatus, startTime, endTime}`` (``endTime`` absent while it runs); null when the project never ran.

``aws.codebuild.report_group``: ``{arn}`` (ListReportGroups) plus ``ReportGroup`` (the BatchGetReportGroups item:
``name``, ``type``, ``status``, ``exportConfig.exportConfigType``, ``exportConfig.s3Destination.encryptionDisabled``
/ ``encryptionKey``).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services import _redact
from cspm_stream.collect.services._lists import describe_in_batches
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope


def _source(src: Any) -> Any:
    if not isinstance(src, dict):
        return src
    out = dict(src)
    if "location" in out:
        out["location"] = _redact.url(out["location"])
    if isinstance(out.get("auth"), dict):
        out["auth"] = {k: v for k, v in out["auth"].items() if k != "resource"}
    return out


def _project(raw: dict[str, Any]) -> dict[str, Any]:
    p = dict(raw)
    p["source"] = _source(p.get("source"))
    if isinstance(p.get("secondarySources"), list):
        p["secondarySources"] = [_source(s) for s in p["secondarySources"]]
    env = p.get("environment")
    if isinstance(env, dict):
        env = dict(env)
        env["environmentVariables"] = _redact.env_list(env.get("environmentVariables"))
        p["environment"] = env
    if isinstance(p.get("webhook"), dict):
        p["webhook"] = {k: v for k, v in p["webhook"].items() if k != "secret"}
    return p


async def _projects(calls: Calls) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        names = [n for n in await calls.paginate("codebuild", "list_projects", "projects") if isinstance(n, str)]
        found = await describe_in_batches(calls, "codebuild", "batch_get_projects", names, "names", "projects", 100)
        return {str(p.get("name")): _project(p) for p in found if isinstance(p, dict)}

    projects: dict[str, Any] = await calls.cached("codebuild-projects", read)
    return projects


async def _project_detail(calls: Calls, item: Item) -> Any:
    projects = await _projects(calls)
    if item["name"] not in projects:
        raise LookupError(f"BatchGetProjects did not return project {item['name']!r}")
    return projects[item["name"]]


async def _last_build(calls: Calls, item: Item) -> Any:
    resp = await calls.call("codebuild", "list_builds_for_project", projectName=item["name"], sortOrder="DESCENDING")
    ids = resp.get("ids") or []
    if not ids:
        return None
    builds = (await calls.call("codebuild", "batch_get_builds", ids=ids[:1])).get("builds") or []
    if not builds:
        raise LookupError(f"BatchGetBuilds did not return build {ids[0]!r}")
    b = builds[0]
    return {k: b.get(k) for k in ("id", "buildStatus", "startTime", "endTime") if b.get(k) is not None}


async def _report_groups(calls: Calls) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        arns = [
            a for a in await calls.paginate("codebuild", "list_report_groups", "reportGroups") if isinstance(a, str)
        ]
        found = await describe_in_batches(
            calls, "codebuild", "batch_get_report_groups", arns, "reportGroupArns", "reportGroups", 100
        )
        return {str(g.get("arn")): g for g in found if isinstance(g, dict)}

    groups: dict[str, Any] = await calls.cached("codebuild-report-groups", read)
    return groups


async def _report_group_detail(calls: Calls, item: Item) -> Any:
    groups = await _report_groups(calls)
    if item["arn"] not in groups:
        raise LookupError(f"BatchGetReportGroups did not return {item['arn']!r}")
    return groups[item["arn"]]


def _project_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:codebuild:{scope.region}:{scope.account_id}:project/{item['name']}"


def _tags(item: Item) -> dict[str, str]:
    raw = (item.get("Project") or {}).get("tags") or []
    return {str(t.get("key")): str(t.get("value", "")) for t in raw if isinstance(t, dict) and t.get("key") is not None}


SPECS = [
    ResourceSpec(
        resource_type="aws.codebuild.project",
        service="codebuild",
        list_op="list_projects",
        items="projects[].{name: @}",
        id=lambda item, scope: str(item["name"]),
        arn=_project_arn,
        tags=_tags,
        details=(Detail("Project", fn=_project_detail), Detail("LastBuild", fn=_last_build)),
    ),
    ResourceSpec(
        resource_type="aws.codebuild.report_group",
        service="codebuild",
        list_op="list_report_groups",
        items="reportGroups[].{arn: @}",
        id=lambda item, scope: str(item["arn"]).rsplit("/", 1)[-1],
        arn=lambda item, scope: str(item["arn"]),
        details=(Detail("ReportGroup", fn=_report_group_detail),),
    ),
]
