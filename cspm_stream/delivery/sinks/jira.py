"""Jira sink: one issue per finding uid — created once, commented on repeat, transitioned on resolve.

Each issue carries the label ``cspm-<uid>``; before creating, the sink searches the
project for that label (JQL ``project = "<KEY>" AND labels = "cspm-<uid>"``), so a
restart, a retried create or a second worker never opens a second issue for one
finding (a per-uid lock and a bounded uid → issue-key memory cover Jira's search
lag within a process). What happens per alert state:

* ``new``/``failing``/``error``/``updated`` — no issue: create one (project, issue type,
  summary, description, labels ``cspm-stream`` and ``cspm-<uid>``); an open issue: add a
  comment; a closed (Done-category) issue: transition it back to an open status and comment;
* ``resolved``/``suppressed``/``passed`` — an open issue: comment, then apply
  ``resolve_transition`` (or the first transition into a Done-category status); no issue
  or already closed: nothing to do.

Endpoints (REST API v2, served by Jira Cloud and Data Center): ``POST /rest/api/2/search/jql``
(falling back to ``/rest/api/2/search`` where that answers 404), ``POST /rest/api/2/issue``,
``POST /rest/api/2/issue/<key>/comment``, ``GET``/``POST /rest/api/2/issue/<key>/transitions``.
The token comes only from the environment: a personal access token is sent as
``Bearer``, an ``email:api_token`` value (Jira Cloud) as HTTP Basic; both are masked in
every error. Every request goes through
:class:`~cspm_stream.delivery.sinks.http.HttpDelivery` below the configured URL.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections import OrderedDict
from typing import Any

import orjson

from cspm_stream.delivery.model import Alert
from cspm_stream.delivery.sinks.http import HttpDelivery, HttpResponse
from cspm_stream.delivery.sinks.pagerduty import RESOLVING
from cspm_stream.errors import SinkError
from cspm_stream.timeutil import ms_to_iso

LABEL = "cspm-stream"
_ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,49}-[0-9]{1,12}")
_SAFE_UID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_MEMORY = 10_000
_STRIPES = 64


def uid_label(uid: str) -> str:
    """The label that ties an issue to a finding uid (Jira labels take no spaces)."""
    return "cspm-" + (uid if _SAFE_UID.fullmatch(uid) else hashlib.sha256(uid.encode()).hexdigest()[:32])


def auth_header(token: str) -> str:
    """``Basic`` for ``email:api_token`` (Jira Cloud), ``Bearer`` for a personal access token."""
    if ":" in token:
        return "Basic " + base64.b64encode(token.encode()).decode()
    return f"Bearer {token}"


def description(a: Alert) -> str:
    """The issue text: what, where, which control, how to fix."""
    lines = [
        a.title or a.control,
        "",
        f"Severity: {a.severity.label}",
        f"State: {a.state}",
        f"Account: {a.account_id or '-'}   Region: {a.region or '-'}",
        f"{'Policy' if a.is_compliance else 'Rule'}: {a.control}",
    ]
    if a.resources:
        lines.append("Resources: " + ", ".join(a.resources[:20]))
    if a.frameworks:
        lines.append("Frameworks: " + ", ".join(a.frameworks[:10]))
    fi = a.finding.get("finding_info")
    if isinstance(fi, dict) and fi.get("desc"):
        lines += ["", str(fi["desc"])[:4000]]
    rem = a.finding.get("remediation")
    if isinstance(rem, dict) and rem.get("desc"):
        lines += ["", "Fix: " + str(rem["desc"])[:4000]]
    runbook = a.unmapped.get("runbook")
    if isinstance(runbook, str) and runbook:
        lines += ["", "Runbook: " + runbook[:2000]]
    lines += ["", f"cspm-stream finding uid: {a.uid}"]
    return "\n".join(lines)[:30000]


def _status_category(issue: dict[str, Any]) -> str:
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    status = fields.get("status") if isinstance(fields, dict) and isinstance(fields.get("status"), dict) else {}
    cat = status.get("statusCategory") if isinstance(status, dict) else None
    return str(cat.get("key", "")) if isinstance(cat, dict) else ""


class JiraSink:
    inline = False

    def __init__(
        self,
        name: str,
        url: str,
        token: str,
        *,
        project: str,
        issue_type: str = "Task",
        resolve_transition: str = "",
        timeout_s: float = 5.0,
    ) -> None:
        self.name = name
        self.project = project
        self.issue_type = issue_type
        self.resolve_transition = resolve_transition
        self._auth = auth_header(token)
        self._http = HttpDelivery(name, url, timeout_s, secrets=[token, self._auth.split(" ", 1)[1]])
        self._known: OrderedDict[str, str] = OrderedDict()  # uid -> issue key (bounded)
        self._locks = [asyncio.Lock() for _ in range(_STRIPES)]
        self._search_path = "/rest/api/2/search/jql"

    def redact(self, text: str) -> str:
        """``text`` with this sink's URL and token masked."""
        return self._http.redact(text)

    async def start(self) -> None:
        await self._http.start()

    async def flush(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.stop()

    # --- HTTP --------------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, accept: tuple[int, ...] = ()
    ) -> HttpResponse:
        headers = {"Authorization": self._auth, "Accept": "application/json"}
        data = b""
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = orjson.dumps(body)
        return await self._http.send(data, headers, method=method, path=path, accept=accept)

    def _json(self, resp: HttpResponse, what: str) -> dict[str, Any]:
        try:
            obj = orjson.loads(resp.body) if resp.body else {}
        except orjson.JSONDecodeError:
            raise SinkError(f"sink {self.name}: {what}: the answer is not JSON", retriable=True) from None
        if not isinstance(obj, dict):
            raise SinkError(f"sink {self.name}: {what}: the answer is not a JSON object", retriable=True)
        return obj

    # --- steps -------------------------------------------------------------------------

    async def find(self, uid: str) -> dict[str, Any] | None:
        """The project's issue labelled for ``uid`` (key and status category), or None."""
        jql = f'project = "{self.project}" AND labels = "{uid_label(uid)}" ORDER BY created ASC'
        query = {"jql": jql, "fields": ["status"], "maxResults": 1}
        resp = await self._call("POST", self._search_path, query, accept=(404,))
        if resp.status == 404 and self._search_path.endswith("/jql"):
            self._search_path = "/rest/api/2/search"  # Jira Data Center: the classic search endpoint
            resp = await self._call("POST", self._search_path, query)
        elif resp.status == 404:
            raise SinkError(f"sink {self.name}: the Jira search endpoint answered 404", retriable=False)
        issues = self._json(resp, "search").get("issues") or []
        for issue in issues if isinstance(issues, list) else []:
            key = str(issue.get("key", "")) if isinstance(issue, dict) else ""
            if _ISSUE_KEY.fullmatch(key):
                return {"key": key, "category": _status_category(issue)}
        return None

    async def create(self, a: Alert) -> str:
        fields = {
            "project": {"key": self.project},
            "issuetype": {"name": self.issue_type},
            "summary": " ".join(f"[{a.severity.label}] {a.title or a.control} ({a.account_id or '-'})".split())[:250],
            "description": description(a),
            "labels": [LABEL, uid_label(a.uid)],
        }
        obj = self._json(await self._call("POST", "/rest/api/2/issue", {"fields": fields}), "create issue")
        key = str(obj.get("key", ""))
        if not _ISSUE_KEY.fullmatch(key):
            raise SinkError(f"sink {self.name}: create issue: no issue key in the answer", retriable=False)
        return key

    async def comment(self, key: str, text: str) -> None:
        await self._call("POST", f"/rest/api/2/issue/{key}/comment", {"body": text[:30000]})

    async def transition(self, key: str, *, to_done: bool) -> bool:
        """Apply the resolve transition (``to_done``) or the first one out of Done; False if none fits."""
        obj = self._json(await self._call("GET", f"/rest/api/2/issue/{key}/transitions"), "transitions")
        found = obj.get("transitions")  # any JSON type may come back: only a list of objects is read
        options = [t for t in found if isinstance(t, dict) and t.get("id")] if isinstance(found, list) else []
        chosen = None
        rank = {"done": 0} if to_done else {"new": 0, "indeterminate": 1}  # re-open: "To Do" before "In Progress"
        best = len(rank)
        for t in options:
            to = t.get("to")
            sc = to.get("statusCategory") if isinstance(to, dict) else None
            cat = sc.get("key", "") if isinstance(sc, dict) else ""
            if to_done and self.resolve_transition:
                if str(t.get("name", "")).lower() == self.resolve_transition.lower():
                    chosen = t
                    break
            elif rank.get(str(cat), best) < best:
                chosen, best = t, rank[str(cat)]
        if chosen is None:
            return False
        await self._call("POST", f"/rest/api/2/issue/{key}/transitions", {"transition": {"id": str(chosen["id"])}})
        return True

    def _remember(self, uid: str, key: str) -> None:
        self._known[uid] = key
        self._known.move_to_end(uid)
        while len(self._known) > _MEMORY:
            self._known.popitem(last=False)

    async def send(self, alert: Alert) -> None:
        lock = self._locks[int(hashlib.sha256(alert.uid.encode()).hexdigest()[:8], 16) % _STRIPES]
        async with lock:
            await self._send(alert)

    async def _send(self, a: Alert) -> None:
        found = await self.find(a.uid)
        if found is None and a.uid in self._known:  # created here moments ago; search not caught up yet
            found = {"key": self._known[a.uid], "category": ""}
        what = f"cspm-stream: {a.state} ({a.severity.label}) at {ms_to_iso(a.time_ms)}"
        if a.state in RESOLVING:
            if found is None or found["category"] == "done":
                return  # nothing open to resolve
            await self.comment(found["key"], f"{what}: resolved by cspm-stream.")
            if not await self.transition(found["key"], to_done=True):
                raise SinkError(
                    f"sink {self.name}: issue {found['key']} has no transition to a Done status "
                    f"(set resolve_transition)",
                    retriable=False,
                )
            return
        if found is None:
            self._remember(a.uid, await self.create(a))
            return
        self._remember(a.uid, found["key"])
        if found["category"] == "done":
            await self.transition(found["key"], to_done=False)  # re-opened: back to an open status
        await self.comment(found["key"], f"{what}: the finding is still active.")
