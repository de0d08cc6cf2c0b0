"""Local stand-ins for PagerDuty Events API v2, Jira REST v2 and Splunk HEC on 127.0.0.1.

Each one checks the request shapes the services document (and answers the way they
do: 202 for a PagerDuty event, 201 for a Jira create, HEC's ``{"text", "code"}``), keeps
what it accepted, and refuses what the real service refuses (a bad routing key, a
missing field, a wrong token) — so a sink test fails when the request is wrong, not
only when the sink crashes. They run on their own thread and event loop, so async
tests and the synchronous CLI (``alerts test``) can both talk to them.
"""

from __future__ import annotations

import asyncio
import base64
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


class StandIn:
    """An aiohttp app on a free loopback port, on a background thread (``with`` or start/stop)."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []  # method, path, headers, body
        self.errors: list[str] = []  # shape violations seen (a test asserts it stays empty)
        self.fail_with: int | None = None  # answer every request with this status
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def start(self) -> StandIn:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application(middlewares=[self._record])
            self.routes(app)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append((request.method, request.path_qs, dict(request.headers), body))
        if self.fail_with is not None:
            return web.Response(status=self.fail_with, text="stand-in failure")
        resp: web.StreamResponse = await handler(request)
        return resp

    def bad(self, why: str, status: int = 400, **extra: Any) -> web.Response:
        self.errors.append(why)
        return web.json_response({"error": why, **extra}, status=status)


# --- PagerDuty Events API v2 -----------------------------------------------------------------

PD_SEVERITIES = {"critical", "error", "warning", "info"}


@dataclass
class PdAlert:
    status: str  # triggered | resolved
    events: list[dict[str, Any]] = field(default_factory=list)


class PagerDutyStandIn(StandIn):
    """``POST /v2/enqueue``: checks the Events API v2 shape; alerts kept by dedup_key."""

    def __init__(self, routing_key: str) -> None:
        super().__init__()
        self.routing_key = routing_key
        self.alerts: dict[str, PdAlert] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/enqueue", self._enqueue)

    async def _enqueue(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return self.bad("content type must be application/json")
        try:
            ev = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return self.bad("body is not JSON")
        if not isinstance(ev, dict):
            return self.bad("body is not an object")
        if ev.get("routing_key") != self.routing_key:  # PagerDuty's answer quotes what it got
            return web.json_response(
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": [f"Invalid routing key: {ev.get('routing_key')}"],
                },
                status=400,
            )
        action = ev.get("event_action")
        key = ev.get("dedup_key")
        if action not in ("trigger", "acknowledge", "resolve"):
            return self.bad(f"event_action {action!r}")
        if not isinstance(key, str) or not 0 < len(key) <= 255:
            return self.bad("dedup_key must be a string of 1..255 characters")
        if action == "trigger":
            p = ev.get("payload")
            if not isinstance(p, dict):
                return self.bad("trigger without payload")
            for name in ("summary", "source", "severity"):
                if not isinstance(p.get(name), str) or not p[name]:
                    return self.bad(f"payload.{name} missing")
            if len(p["summary"]) > 1024:
                return self.bad("payload.summary over 1024 characters")
            if p["severity"] not in PD_SEVERITIES:
                return self.bad(f"payload.severity {p['severity']!r}")
            alert = self.alerts.setdefault(key, PdAlert("triggered"))
            alert.status = "triggered"
            alert.events.append(ev)
        elif action == "resolve":
            if "payload" in ev:
                return self.bad("resolve carries no payload")
            alert = self.alerts.get(key) or self.alerts.setdefault(key, PdAlert("resolved"))
            alert.status = "resolved"
            alert.events.append(ev)
        return web.json_response({"status": "success", "message": "Event processed", "dedup_key": key}, status=202)


# --- Jira REST v2 ---------------------------------------------------------------------------

_JQL = re.compile(r'project = "([A-Z][A-Z0-9_]*)" AND labels = "([A-Za-z0-9_-]+)"(?: ORDER BY created ASC)?')
_STATUSES = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}
_TRANSITIONS = [("11", "Start", "In Progress"), ("21", "Done", "Done"), ("31", "Reopen", "To Do")]


@dataclass
class JiraIssue:
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    comments: list[str] = field(default_factory=list)


class JiraStandIn(StandIn):
    """A tiny Jira: create, JQL search by project + label, comments, a To Do → Done workflow.

    ``data_center=True`` answers 404 on ``/rest/api/2/search/jql`` (only the classic search),
    ``search_lag`` hides the newest N issues from search (Jira's index lag).
    """

    def __init__(self, token: str, project: str = "SEC", *, data_center: bool = False, search_lag: int = 0) -> None:
        super().__init__()
        self.token = token
        self.project = project
        self.data_center = data_center
        self.search_lag = search_lag
        self.issues: dict[str, JiraIssue] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/rest/api/2/search/jql", self._search_jql)
        app.router.add_post("/rest/api/2/search", self._search)
        app.router.add_post("/rest/api/2/issue", self._create)
        app.router.add_post("/rest/api/2/issue/{key}/comment", self._comment)
        app.router.add_get("/rest/api/2/issue/{key}/transitions", self._transitions)
        app.router.add_post("/rest/api/2/issue/{key}/transitions", self._transition)

    def _authorized(self, request: web.Request) -> bool:
        got = request.headers.get("Authorization", "")
        if ":" in self.token:
            return got == "Basic " + base64.b64encode(self.token.encode()).decode()
        return got == f"Bearer {self.token}"

    async def _json(self, request: web.Request) -> Any:
        if request.content_type != "application/json":
            raise web.HTTPBadRequest(text="content type")
        return orjson.loads(await request.read())

    async def _search_jql(self, request: web.Request) -> web.Response:
        if self.data_center:
            return web.json_response({"errorMessages": ["not found"]}, status=404)
        return await self._search(request)

    async def _search(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"errorMessages": ["unauthorized"]}, status=401)
        q = await self._json(request)
        m = _JQL.fullmatch(str(q.get("jql", "")))
        if not m or m.group(1) != self.project:
            return self.bad(f"unexpected JQL {q.get('jql')!r}")
        visible = list(self.issues.values())[: max(0, len(self.issues) - self.search_lag)]
        hits = [i for i in visible if m.group(2) in i.fields["labels"]]
        issues = [
            {"key": i.key, "fields": {"status": {"name": i.status, "statusCategory": {"key": _STATUSES[i.status]}}}}
            for i in hits[: int(q.get("maxResults", 50))]
        ]
        return web.json_response({"issues": issues})

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"errorMessages": ["unauthorized"]}, status=401)
        body = await self._json(request)
        f = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(f, dict):
            return self.bad("no fields")
        if f.get("project") != {"key": self.project}:
            return self.bad("project")
        if not isinstance(f.get("issuetype"), dict) or not f["issuetype"].get("name"):
            return self.bad("issuetype")
        summary = f.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 255 or "\n" in summary:
            return self.bad("summary must be one line of 1..255 characters")
        labels = f.get("labels")
        if not isinstance(labels, list) or any(not isinstance(x, str) or " " in x for x in labels):
            return self.bad("labels must be strings without spaces")
        key = f"{self.project}-{len(self.issues) + 1}"
        self.issues[key] = JiraIssue(key, f)
        return web.json_response({"id": str(10000 + len(self.issues)), "key": key, "self": "x"}, status=201)

    def _issue(self, request: web.Request) -> JiraIssue:
        issue = self.issues.get(request.match_info["key"])
        if issue is None:
            raise web.HTTPNotFound(text="no such issue")
        return issue

    async def _comment(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        body = await self._json(request)
        if not isinstance(body.get("body"), str) or not body["body"]:
            return self.bad("comment body")
        issue.comments.append(body["body"])
        return web.json_response({"id": str(len(issue.comments))}, status=201)

    async def _transitions(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        out = [
            {"id": tid, "name": name, "to": {"name": to, "statusCategory": {"key": _STATUSES[to]}}}
            for tid, name, to in _TRANSITIONS
            if to != issue.status
        ]
        return web.json_response({"transitions": out})

    async def _transition(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        body = await self._json(request)
        tid = body.get("transition", {}).get("id") if isinstance(body.get("transition"), dict) else None
        target = {t[0]: t[2] for t in _TRANSITIONS}.get(str(tid))
        if target is None or target == issue.status:
            return self.bad(f"transition {tid!r} not available")
        issue.status = target
        return web.Response(status=204)


# --- Splunk HEC -----------------------------------------------------------------------------


class SplunkHecStandIn(StandIn):
    """``POST /services/collector/event`` with ``Authorization: Splunk <token>``; HEC's answers."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.events: list[dict[str, Any]] = []
        self.busy = False

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/services/collector/event", self._event)

    async def _event(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Splunk {self.token}":
            return web.json_response({"text": "Invalid token", "code": 4}, status=403)
        if self.busy:
            return web.json_response({"text": "Server is busy", "code": 9}, status=503)
        try:
            ev = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return web.json_response({"text": "Invalid data format", "code": 6}, status=400)
        if not isinstance(ev, dict) or "event" not in ev:
            return web.json_response({"text": "Event field is required", "code": 12}, status=400)
        if not isinstance(ev.get("time", 0), int | float) or ev.get("sourcetype") != "ocsf:finding":
            return self.bad("time must be epoch seconds and sourcetype ocsf:finding")
        self.events.append(ev)
        return web.json_response({"text": "Success", "code": 0})
