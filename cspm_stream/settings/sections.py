"""Every setting, by section. ``config/cspm.yaml`` documents the same keys.

One dataclass per top-level section; the field metadata carries the doc string
and constraints the loader enforces.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cspm_stream.errors import ConfigError
from cspm_stream.models.enums import RemediationMode, Severity
from cspm_stream.settings.loader import Secret, setting

_HOSTPORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: sink types whose settings are checked by cspm_stream.delivery.sinks.checks
_SINK_NEEDS = ("securityhub", "pagerduty", "jira", "sns", "splunk_hec")


def check_account_ids(key: str, ids: Iterable[str]) -> None:
    """Every id must be a 12-digit AWS account id (a typo would silently match nothing)."""
    for i, a in enumerate(ids):
        if not _ACCOUNT_ID.fullmatch(a):
            raise ConfigError(key.format(i=i, id=a), a, "must be a 12-digit AWS account id (in quotes)")


#: longest kafka.topic_prefix and app.id: Kafka topic names are at most 249 characters, and the
#: longest name made of them adds ~30 ('<app.id>-context-router-state-changelog')
MAX_NAME_PREFIX = 200


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap: str = setting("127.0.0.1:9092", doc="Comma-separated host:port list of Kafka brokers.")
    topic_prefix: str = setting("cspm.", doc="Prefix of every topic name (e.g. 'cspm.' gives 'cspm.inventory').")
    partitions: int = setting(6, doc="Partitions for topics created by 'topics create'.", min=1, max=1000)
    replication_factor: int = setting(1, doc="Replication factor for created topics.", min=1, max=10)
    security_protocol: str = setting(
        "PLAINTEXT",
        doc="Kafka security protocol.",
        choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
    )
    sasl_mechanism: str = setting("PLAIN", doc="SASL mechanism.", choices=("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"))
    sasl_username: str = setting("", doc="SASL user name.")
    sasl_password: Secret = setting(Secret(""), doc="SASL password (environment only).", env_only=True)
    request_timeout_s: float = setting(30.0, doc="Producer/consumer request timeout in seconds.", min=1)

    def validate(self, prefix: str) -> None:
        for part in self.bootstrap.split(","):
            if not _HOSTPORT.match(part.strip()):
                if "@" in self.bootstrap or "://" in self.bootstrap:  # 'user:password@host': never echoed
                    raise ConfigError(
                        f"{prefix}.bootstrap",
                        None,
                        "must be host:port entries (no scheme, no user or password: SASL credentials go in "
                        "kafka.sasl_username and CSPM_KAFKA_SASL_PASSWORD)",
                        show_value=False,
                    )
                raise ConfigError(f"{prefix}.bootstrap", self.bootstrap, f"{part!r} is not host:port")
        if not re.fullmatch(r"[A-Za-z0-9._-]*", self.topic_prefix):
            raise ConfigError(f"{prefix}.topic_prefix", self.topic_prefix, "only letters, digits, . _ - allowed")
        if len(self.topic_prefix) > MAX_NAME_PREFIX:  # Kafka refuses topic names over 249 characters
            raise ConfigError(
                f"{prefix}.topic_prefix", None, f"at most {MAX_NAME_PREFIX} characters (Kafka topic names: 249)"
            )

    def topic(self, name: str) -> str:
        return self.topic_prefix + name


@dataclass(frozen=True)
class AccountSettings:
    id: str = setting(doc="12-digit AWS account id.")
    role_name: str = setting("", doc="Role to assume in this account (default: aws.role_name).")
    external_id: str = setting("", doc="sts:ExternalId for the assume-role (not a secret by AWS's design).")

    def validate(self, prefix: str) -> None:
        check_account_ids(f"{prefix}.id", [self.id])


@dataclass(frozen=True)
class AwsSettings:
    endpoint_url: str | None = setting(None, doc="Override every AWS endpoint (moto in tests/demo).", sensitive=True)
    regions: list[str] = setting(doc="Regions to scan; empty = every enabled region (discovered).", factory=list)
    exclude_regions: list[str] = setting(doc="Regions never scanned.", factory=list)
    accounts: list[AccountSettings] = setting(
        doc="Accounts to scan through assume-role; empty = the running credentials' account.", factory=list
    )
    role_name: str = setting("CspmStreamReader", doc="Default reader role name in member accounts.")
    external_id: str = setting("", doc="Default sts:ExternalId.")
    organization_discovery: bool = setting(False, doc="Discover every account of the AWS Organization.")
    max_concurrency_per_account: int = setting(16, doc="Concurrent AWS calls per account.", min=1, max=256)
    max_concurrency_per_region: int = setting(8, doc="Concurrent AWS calls per (account, region).", min=1)
    max_concurrency_per_service: int = setting(4, doc="Concurrent calls per (account, region, service).", min=1)
    rate_per_second: float = setting(
        0.0,
        doc=(
            "Fixed client-side call budget per (account, region, service); 0 = adaptive: start from the "
            "service's published rate, halve on throttling, recover additively (collect/ratelimit.py)."
        ),
        min=0.0,
    )
    max_attempts: int = setting(
        8, doc="botocore retry attempts (standard mode; every throttled attempt also slows the budget).", min=1, max=30
    )
    call_timeout_s: float = setting(30.0, doc="Read timeout of one AWS call.", min=1)
    global_region: str = setting(
        "us-east-1", doc="API region of global services (IAM, S3 bucket listing, CloudFront, Organizations)."
    )
    throttle_retries: int = setting(
        8, doc="Extra retries of a throttled call on top of botocore's, with capped exponential backoff.", min=0
    )

    def validate(self, prefix: str) -> None:
        for i, r in enumerate(self.regions):
            if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", r):
                raise ConfigError(f"{prefix}.regions[{i}]", r, "not an AWS region name")
        if self.endpoint_url and not re.fullmatch(r"https?://[^\s/?#@]+(/\S*)?", self.endpoint_url):
            # checked at start: 'ftp://x' or 'not a url' failed only once the scan had started (exit 3)
            raise ConfigError(
                f"{prefix}.endpoint_url", None, "must be an http:// or https:// URL with a host", show_value=False
            )


@dataclass(frozen=True)
class ScanSettings:
    interval_s: int = setting(3600, doc="Seconds between scheduled full scans.", min=10)
    services: list[str] = setting(doc="Services to collect; empty = all supported.", factory=list)
    rescan_dedup_s: float = setting(5.0, doc="Window in which repeated rescan requests are merged.", min=0)
    rescan_retry_s: list[float] = setting(
        doc=(
            "An event-triggered rescan that finds the resource missing or unchanged looks again this many "
            "seconds after its first look (AWS APIs are eventually consistent) before concluding deleted or "
            "unchanged; empty = no retries."
        ),
        factory=lambda: [5.0, 30.0, 120.0],
    )
    scheduler: bool = setting(True, doc="Run the scheduler in this ingestor (one per cluster is enough).")
    max_duration_s: float = setting(
        1800.0,
        doc=(
            "One-shot 'scan': stop collecting after this long (e.g. under sustained throttling); "
            "what was not read is reported as ERROR findings."
        ),
        min=1,
    )

    def validate(self, prefix: str) -> None:
        r = self.rescan_retry_s
        if len(r) > 10 or any(not 0 < x <= 3600 for x in r) or any(a >= b for a, b in itertools.pairwise(r)):
            raise ConfigError(
                f"{prefix}.rescan_retry_s",
                None,
                "at most 10 increasing delays, each in (0, 3600] seconds",
                show_value=False,
            )


@dataclass(frozen=True)
class CloudTrailSettings:
    sqs_queue_urls: list[str] = setting(
        doc="SQS queues with S3/SNS notifications of CloudTrail log files.", factory=list
    )
    eventbridge_queue_urls: list[str] = setting(doc="SQS queues fed by EventBridge CloudTrail rules.", factory=list)
    lookup_events: bool = setting(False, doc="Poll cloudtrail:LookupEvents per account and region.")
    lookup_interval_s: float = setting(60.0, doc="Seconds between LookupEvents polls.", min=1)
    sqs_wait_time_s: int = setting(20, doc="SQS long-poll wait (seconds).", min=0, max=20)
    sqs_visibility_timeout_s: int = setting(
        300, doc="SQS visibility timeout: a message not deleted by then is redelivered.", min=1, max=43200
    )
    sqs_max_messages: int = setting(10, doc="Messages received per SQS poll.", min=1, max=10)
    max_concurrent_downloads: int = setting(8, doc="Concurrent S3 log-object downloads per queue.", min=1, max=256)
    lookup_checkpoint_file: str = setting(
        "", doc="JSON checkpoint file of the LookupEvents poller (default: <app.data_dir>/lookup-checkpoint.json)."
    )
    lookup_lookback_s: int = setting(
        900, doc="LookupEvents re-reads this far behind its checkpoint (CloudTrail delivers late).", min=0
    )
    lookup_rate_per_s: float = setting(
        2.0, doc="LookupEvents calls per second per account and region (AWS limit: 2).", min=0.1, max=2.0
    )
    lookup_max_window_s: int = setting(
        3600,
        doc="Longest LookupEvents window per poll; after an outage the poller catches up window by window.",
        min=60,
    )
    max_file_bytes: int = setting(
        512 * 1024**2,
        doc="Most bytes one CloudTrail file or S3 object may decompress to (more, e.g. a gzip bomb: refused).",
        min=1024,
        max=2**40,  # above the default ceiling: a byte count
    )
    max_line_bytes: int = setting(
        64 * 1024**2,
        doc="Longest JSON line or document read whole (a CloudTrail log file is one line); longer ones are refused.",
        min=1024,
        max=2**40,  # above the default ceiling: a byte count
    )


@dataclass(frozen=True)
class ExternalSettings:
    securityhub: bool = setting(
        False, doc="Poll Security Hub findings (its control checks, Inspector, Macie, partners) per account and region."
    )
    guardduty: bool = setting(False, doc="Poll GuardDuty findings of every detector per account and region.")
    accessanalyzer: bool = setting(False, doc="Poll IAM Access Analyzer findings of every active analyzer.")
    regions: list[str] = setting(
        doc="Regions polled; empty = aws.regions, else the enabled regions (a Security Hub aggregation region: list it alone).",
        factory=list,
    )
    interval_s: float = setting(300.0, doc="Seconds between polls of one account and region.", min=10)
    lookback_s: int = setting(
        86400, doc="A poll without a checkpoint reads findings updated this far back.", min=0, max=90 * 86400
    )
    overlap_s: int = setting(
        300, doc="Each poll re-reads this far behind its checkpoint (findings become visible late).", min=0
    )
    eventbridge_queue_urls: list[str] = setting(
        doc=(
            "SQS queues fed by EventBridge rules for 'GuardDuty Finding', 'Security Hub Findings - Imported' "
            "and 'Access Analyzer Finding' events (seconds instead of a poll interval)."
        ),
        factory=list,
    )
    join_window_s: int = setting(
        3600,
        doc="An external threat finding and our detection of the same actor this close in time are one problem.",
        min=0,
    )
    hold_s: float = setting(
        300.0,
        doc=(
            "A GuardDuty finding that one of our rules also detects waits this long for our detection before "
            "it alerts alone (0 = never waits)."
        ),
        min=0,
        max=86400,
    )
    retention_s: int = setting(86400, doc="How long the join remembers findings and detections.", min=60)
    mapping_file: str = setting("", doc="The same-issue mapping file (default: the built-in one).")

    def validate(self, prefix: str) -> None:
        for i, r in enumerate(self.regions):
            if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", r):
                raise ConfigError(f"{prefix}.regions[{i}]", r, "not an AWS region name")

    @property
    def polling(self) -> bool:
        return self.securityhub or self.guardduty or self.accessanalyzer

    @property
    def enabled(self) -> bool:
        return self.polling or bool(self.eventbridge_queue_urls)


@dataclass(frozen=True)
class DetectionSettings:
    rules_dirs: list[str] = setting(
        doc="Extra Sigma rule folders (SigmaHQ CloudTrail rules load unchanged).", factory=list
    )
    builtin_rules: bool = setting(True, doc="Load the built-in rule pack.")
    placeholders: dict[str, list[str]] = setting(
        doc="Values for Sigma %placeholders% (e.g. Legitimate_IP_Ranges).", factory=dict
    )
    allowed_lateness_s: int = setting(900, doc="How late (event time) a record may arrive and still count.", min=0)
    dedup_window_s: int = setting(3600, doc="Repeats within this window update one detection.", min=0)
    event_dedup_window_s: int = setting(
        3600, doc="Remember eventIDs this long (event time) to drop at-least-once duplicates.", min=0
    )
    max_evidence: int = setting(
        256, doc="Most evidences (eventIDs) kept in one detection; the rest are counted as truncated.", min=1
    )
    extra_fields: list[str] = setting(
        doc="Extra top-level record fields rules may use (records enriched beyond CloudTrail).", factory=list
    )
    rescan_map: str | None = setting(
        None, doc="eventName -> resource rescan table (YAML); default: the built-in table."
    )
    update_interval_s: int = setting(
        60, doc="Publish a repeating detection's update at most this often (event time); 0 = every repeat.", min=0
    )
    deployer_principals: list[str] = setting(
        doc="ARN globs of deployer identities (CI roles, pipeline users): cspm.deployer is true for them.",
        factory=list,
    )
    deployer_session_patterns: list[str] = setting(
        doc="Role session name globs of deployers (e.g. 'gh-actions-*'): cspm.deployer is true for them.",
        factory=list,
    )
    trusted_accounts: list[str] = setting(
        doc="Account ids of your organisation: never counted in cspm.foreign_accounts.", factory=list
    )
    approved_regions: list[str] = setting(
        doc=(
            "Regions your accounts use: activity elsewhere sets cspm.unused_region; "
            "empty = only opt-in regions (launched since 2019) count as unused."
        ),
        factory=list,
    )
    eval_budget_ms: float = setting(
        50.0,
        doc="Most CPU time (ms) evaluating one record may take; a record over it is dead-lettered (0 = no limit).",
        min=0,
    )
    max_field_chars: int = setting(
        65536,
        doc="Characters of one field value rules look at; longer values are cut (listed in the detection).",
        min=256,
    )
    max_text_chars: int = setting(
        2048,
        doc=(
            "Longest text copied from a CloudTrail record into a detection (evidence, actor, user agent, "
            "resources, group key); longer text is cut and ends with '…[+N chars truncated]'."
        ),
        min=256,
        max=65536,
    )
    shadow_rules: list[str] = setting(
        doc="Rule ids (or names) evaluated and counted in metrics but never alerted (like Sigma status: shadow).",
        factory=list,
    )

    def validate(self, prefix: str) -> None:
        for i, acct in enumerate(self.trusted_accounts):
            if not isinstance(acct, str) or not re.fullmatch(r"\d{12}", acct):
                raise ConfigError(f"{prefix}.trusted_accounts[{i}]", acct, "must be a 12-digit account id")
        for i, r in enumerate(self.approved_regions):
            if not isinstance(r, str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", r):
                raise ConfigError(f"{prefix}.approved_regions[{i}]", r, "not an AWS region name")
        for key in ("deployer_principals", "deployer_session_patterns"):
            for i, pat in enumerate(getattr(self, key)):
                if not isinstance(pat, str) or not pat.strip():
                    raise ConfigError(f"{prefix}.{key}[{i}]", pat, "must be a non-empty glob")


@dataclass(frozen=True)
class PolicySettings:
    policy_dirs: list[str] = setting(doc="Extra policy folders.", factory=list)
    framework_dirs: list[str] = setting(doc="Extra compliance framework folders.", factory=list)
    builtin_policies: bool = setting(True, doc="Load the built-in policies.")
    mutelist_file: str | None = setting(None, doc="Mutelist YAML (hot-reloaded).")
    mutelist_reload_s: float = setting(10.0, doc="Seconds between mutelist reload checks.", min=1)


@dataclass(frozen=True)
class RouteSettings:
    name: str = setting(doc="Route name.")
    sink: str = setting(doc="Sink name (a key of alerts.sinks).")
    min_severity: Severity = setting(Severity.LOW, doc="Lowest severity sent on this route.")
    classes: list[int] = setting(doc="OCSF classes (2003, 2004); empty = both.", factory=list)
    accounts: list[str] = setting(doc="Accounts; empty = all.", factory=list)
    frameworks: list[str] = setting(doc="Frameworks (compliance findings only); empty = all.", factory=list)
    tags: dict[str, str] = setting(doc="Resource tags that must match.", factory=dict)
    states: list[str] = setting(
        doc=(
            "Finding states sent on this route ('updated' = a detection repeated in its window; "
            "'passed' = a check's first passing evaluation, never sent unless listed)."
        ),
        factory=lambda: ["new", "resolved", "error", "updated"],
        choices=("new", "failing", "resolved", "suppressed", "error", "updated", "passed"),
    )
    exclude: list[str] = setting(
        doc="Route-level mute: glob patterns on policy/rule id or resource ARN never sent here.", factory=list
    )


@dataclass(frozen=True)
class SinkSettings:
    type: str = setting(
        doc="Sink type.",
        choices=(
            "kafka",
            "webhook",
            "slack",
            "file",
            "stdout",
            "securityhub",
            "pagerduty",
            "jira",
            "sns",
            "splunk_hec",
        ),
    )
    url: str = setting(
        "",
        doc=(
            "Webhook/Slack URL; pagerduty: Events API v2 endpoint (default https://events.pagerduty.com/v2/enqueue); "
            "jira: base URL of the site; splunk_hec: the HEC event endpoint (…/services/collector/event)."
        ),
        sensitive=True,
    )
    path: str = setting("", doc="File path for the file sink.")
    topic: str = setting("", doc="Extra topic for the kafka sink (default: alerts).")
    format: str = setting("ocsf", doc="Payload format.", choices=("ocsf", "asff"))
    timeout_s: float = setting(5.0, doc="Per-request timeout.", min=0.1)
    max_attempts: int = setting(5, doc="Attempts before the alert goes to the DLQ.", min=1)
    hmac_secret_env: str = setting("", doc="Name of the environment variable holding the HMAC secret.")
    url_env: str = setting(
        "", doc="Name of the environment variable holding the URL instead of 'url' (Slack URLs embed a token)."
    )
    backoff_s: float = setting(0.5, doc="First retry delay; doubles per attempt (with jitter).", min=0)
    backoff_max_s: float = setting(30.0, doc="Longest retry delay.", min=0)
    queue_size: int = setting(10000, doc="Bounded queue per sink; when full the alert goes to the DLQ.", min=1)
    concurrency: int = setting(
        4, doc="Deliveries in flight per HTTP sink (file sinks write one at a time).", min=1, max=64
    )
    region: str = setting("", doc="AWS region (securityhub: required; sns: default the topic ARN's region).")
    endpoint_url: str = setting(
        "", doc="AWS endpoint override (securityhub, sns), e.g. a local test endpoint.", sensitive=True
    )
    topic_arn: str = setting("", doc="SNS topic ARN (sns).")
    routing_key_env: str = setting("", doc="Name of the environment variable holding the PagerDuty routing key.")
    token_env: str = setting(
        "",
        doc=(
            "Name of the environment variable holding the API token (jira: a personal access token, or "
            "'email:api_token' for Jira Cloud basic auth; splunk_hec: the HEC token)."
        ),
    )
    project: str = setting("", doc="Jira project key (jira).")
    issue_type: str = setting("Task", doc="Jira issue type of new issues (jira).")
    resolve_transition: str = setting(
        "", doc="Jira transition applied on resolve (default: the first one into a Done-category status)."
    )
    index: str = setting("", doc="Splunk index (splunk_hec; default: the token's default index).")

    def validate(self, prefix: str) -> None:
        for attr in ("url_env", "hmac_secret_env", "routing_key_env", "token_env"):
            name = getattr(self, attr)
            if name and not _ENV_NAME.fullmatch(name):
                raise ConfigError(f"{prefix}.{attr}", name, "not an environment variable name")
            if name.startswith("CSPM_"):
                raise ConfigError(
                    f"{prefix}.{attr}", name, "CSPM_ names are reserved for settings: choose another variable name"
                )
        if self.type in ("webhook", "slack"):
            if bool(self.url) == bool(self.url_env):
                raise ConfigError(f"{prefix}.url", None, f"a {self.type} sink needs exactly one of url and url_env")
            if self.url and not self.url.startswith(("http://", "https://")):
                raise ConfigError(f"{prefix}.url", None, "must be an http:// or https:// URL", show_value=False)
        if self.type == "file" and not self.path:
            raise ConfigError(f"{prefix}.path", None, "a file sink needs a path")
        if self.type in _SINK_NEEDS:
            from cspm_stream.delivery.sinks.checks import check_sink  # the new sink types' own rules

            check_sink(self, prefix)


@dataclass(frozen=True)
class AlertSettings:
    dedup_window_s: int = setting(
        86400,
        doc="An alert with the same uid+state is sent once per window (a change of state in between resets it).",
        min=0,
    )
    sinks: dict[str, SinkSettings] = setting(doc="Named sinks.", factory=lambda: {"siem": SinkSettings(type="kafka")})
    routes: list[RouteSettings] = setting(
        doc="Routing rules; an alert goes to every matching route.",
        factory=lambda: [RouteSettings(name="siem", sink="siem")],
    )

    def validate(self, prefix: str) -> None:
        from cspm_stream.models.ocsf import SCHEMA_BY_CLASS  # the finding classes the product emits

        for i, r in enumerate(self.routes):
            check_account_ids(f"{prefix}.routes[{i}].accounts[{{i}}]", r.accounts)
            for j, cls in enumerate(r.classes):
                if cls not in SCHEMA_BY_CLASS:  # a typo would make the route match nothing, silently
                    known = ", ".join(str(c) for c in sorted(SCHEMA_BY_CLASS))
                    raise ConfigError(f"{prefix}.routes[{i}].classes[{j}]", cls, f"not an OCSF class ({known})")
            if r.sink not in self.sinks:
                raise ConfigError(f"{prefix}.routes[{i}].sink", r.sink, f"no such sink (have: {', '.join(self.sinks)})")


@dataclass(frozen=True)
class RemediationSettings:
    default_mode: RemediationMode = setting(RemediationMode.OFF, doc="Mode of every action unless overridden.")
    actions: dict[str, RemediationMode] = setting(doc="Mode per action name.", factory=dict)
    accounts: dict[str, RemediationMode] = setting(doc="Mode cap per account id.", factory=dict)
    role_name: str = setting("CspmStreamRemediator", doc="Remediation role (never the reader's).")
    role_arn: str = setting("", doc="Explicit remediation role ARN (single account).")
    exclusion_tag: str = setting("cspm:remediation=skip", doc="Resources with this tag are never touched.")
    blast_radius_max: int = setting(10, doc="Actions per account per window before pausing.", min=1)
    blast_radius_window_s: int = setting(3600, doc="Blast-radius window.", min=1)
    approval_ttl_s: int = setting(86400, doc="How long a command waits for approval.", min=1)
    approval_hmac_secret: Secret = setting(
        Secret(""), doc="Signing key of approval messages (environment only).", env_only=True
    )

    def validate(self, prefix: str) -> None:
        from cspm_stream.remediate.base import registry  # the action names policies and rules use

        known = sorted(registry())
        for name in self.actions:
            if name not in known:
                near = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {near[0]}? " if near else ""
                raise ConfigError(
                    f"{prefix}.actions.{name}",
                    None,
                    f"unknown remediation action ({hint}'cspm-stream remediation list-actions' lists them)",
                    show_value=False,
                )
        check_account_ids(f"{prefix}.accounts.{{id}}", self.accounts)


@dataclass(frozen=True)
class WebSettings:
    enabled: bool = setting(True, doc="Serve /metrics, /healthz, /readyz.")
    host: str = setting("127.0.0.1", doc="Bind address (loopback by default).")
    port: int = setting(6066, doc="Port.", min=0, max=65535)


@dataclass(frozen=True)
class ContextSettings:
    tick_s: float = setting(
        5.0,
        doc="How often the context stage's ticker writes a tick record to every partition of 'context' "
        "(accounts whose IAM state settled are analysed on a tick).",
        min=0.5,
        max=300,
    )
    settle_s: float = setting(
        5.0, doc="An account's IAM state is analysed once it had no IAM change for this long.", min=0, max=3600
    )
    max_wait_s: float = setting(
        900.0,
        doc="Longest wait for the full IAM scan an account's change belongs to before analysing it anyway.",
        min=0,
        max=86400,
    )

    def validate(self, prefix: str) -> None:
        if self.max_wait_s < self.settle_s:
            raise ConfigError(
                f"{prefix}.max_wait_s", self.max_wait_s, f"must be >= {prefix}.settle_s ({self.settle_s})"
            )


@dataclass(frozen=True)
class MonitorSettings:
    max_activity_silence_s: int = setting(
        3600, doc="Alert when an account/region sends no CloudTrail for this long.", min=60
    )
    max_scan_age_s: int = setting(7200, doc="Alert when an account/region has no completed scan for this long.", min=60)


@dataclass(frozen=True)
class AppSettings:
    id: str = setting("cspm-stream", doc="Prefix of the stages' consumer groups and changelog topics.")
    data_dir: str = setting(".data", doc="Local state folder (the LookupEvents checkpoint).")
    shutdown_timeout_s: float = setting(20.0, doc="Bound on graceful shutdown before a hard stop.", min=1)
    log_level: str = setting("INFO", doc="Log level.", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    log_format: str = setting(
        "auto", doc="auto (console on a TTY, JSON otherwise), json or console.", choices=("auto", "json", "console")
    )
    batch_max: int = setting(500, doc="Records processed per batch (outputs acknowledged once per batch).", min=1)
    batch_within_s: float = setting(
        0.01, doc="Longest wait to fill a batch: the latency a quiet stream pays.", min=0.001, max=5
    )
    commit_interval_s: float = setting(
        0.2,
        doc=(
            "Batch loop: how often processed records are made durable (state changelog written once per "
            "changed key, offsets committed). Outputs are sent at once regardless. A crash re-processes at "
            "most this much; outputs of re-processed records repeat with the same ids (at-least-once)."
        ),
        min=0.0,
        max=60,
    )

    def validate(self, prefix: str) -> None:
        # the stages' consumer groups and changelog topics ('<id>-<stage>-state-changelog') carry it
        if not re.fullmatch(rf"[A-Za-z0-9._-]{{1,{MAX_NAME_PREFIX}}}", self.id):
            raise ConfigError(
                f"{prefix}.id",
                self.id,
                f"1 to {MAX_NAME_PREFIX} letters, digits, . _ - (it names Kafka topics and consumer groups)",
            )
