"""The one exception tree of cspm_stream.

Every error the package raises on purpose derives from :class:`CspmError`.
Retry loops read :attr:`CspmError.retriable` instead of matching types; the CLI
prints the message as one line and exits with :attr:`CspmError.exit_code`
(the table is in :mod:`cspm_stream.cli`)::

    CspmError                       retriable=False unless stated; exit 1
    ├── UsageError                  a command-line argument is invalid (exit 2)
    ├── ConfigError                 a setting is wrong: source, key, reason (exit 2)
    ├── DecodeError                 untrusted bytes are not a valid message
    ├── DefinitionError             a policy/rule/framework/spec file is invalid (exit 2)
    │   ├── PolicyError             (file, path, reason)
    │   └── RuleError               (file, reason)
    ├── CollectionError             an AWS call failed while collecting (exit 3)
    │   ├── AccessDeniedError       the reader lacks permission (not retriable)
    │   ├── ThrottledError          AWS throttled us (retriable)
    │   └── NotImplementedByApi     the endpoint does not implement the call
    ├── KafkaUnavailable            the broker cannot be reached (retriable; exit 3)
    │   └── TopicError              a topic is missing or misconfigured (not retriable; exit 4)
    ├── SinkError                   an alert sink failed to deliver (retriable; exit 3)
    └── RemediationError            an action refused or failed
        └── RemediationBlocked      guard rails said no (tag, stale, blast radius)
"""

from __future__ import annotations

from typing import Any


class CspmError(Exception):
    """Base of every error raised on purpose by cspm_stream."""

    retriable: bool = False
    #: the process exit code when this error ends a command
    exit_code: int = 1

    def __init__(self, message: str, *, retriable: bool | None = None) -> None:
        super().__init__(message)
        if retriable is not None:
            self.retriable = retriable


class UsageError(CspmError):
    """A command-line argument is invalid or unusable (an unwritable ``--output``, a bad ``--now``)."""

    exit_code = 2


class ConfigError(CspmError):
    """A configuration value is invalid: one line naming the source (file or variable), the key and why.

    The value is shown only when it is a short, printable scalar and ``show_value`` is
    not False: callers pass ``show_value=False`` for anything that may be a secret.
    """

    exit_code = 2

    def __init__(self, key: str, value: Any, reason: str, *, source: str = "", show_value: bool | None = None) -> None:
        self.key = key
        self.value = value
        self.reason = reason
        self.source = source
        self.show_value = _showable(value) if show_value is None else (show_value and _showable(value))
        where = f"{source}: " if source else ""
        what = f"{key}={value!r}" if self.show_value else key
        super().__init__(f"config error: {where}{what + ': ' if what else ''}{reason}")

    def with_source(self, source: str) -> ConfigError:
        """The same error, attributed to ``source`` (a file or an environment variable)."""
        return ConfigError(self.key, self.value, self.reason, source=source, show_value=self.show_value)


def _showable(value: Any) -> bool:
    if isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= 100 and value.isprintable()


class DecodeError(CspmError):
    """Bytes from an untrusted source could not be decoded into a message."""

    def __init__(self, reason: str, *, schema: str | None = None) -> None:
        self.reason = reason
        self.schema = schema
        super().__init__(reason)


class DefinitionError(CspmError):
    """A data file (policy, rule, framework, spec) is invalid."""

    exit_code = 2

    def __init__(self, file: str, reason: str, *, path: str = "") -> None:
        self.file = file
        self.path = path
        self.reason = reason
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {reason}")


class PolicyError(DefinitionError):
    """A posture policy file is invalid."""


class RuleError(DefinitionError):
    """A detection rule file is invalid or uses something unsupported."""


class CollectionError(CspmError):
    """An AWS API call failed while collecting inventory."""

    exit_code = 3

    def __init__(self, message: str, *, code: str = "", retriable: bool | None = None) -> None:
        self.code = code
        super().__init__(message, retriable=retriable)


class AccessDeniedError(CollectionError):
    """The reader's credentials may not make this call."""


class ThrottledError(CollectionError):
    """AWS throttled the call; slow down and retry."""

    retriable = True


class NotImplementedByApi(CollectionError):
    """The endpoint answered that it does not implement the call (e.g. moto gaps)."""


class KafkaUnavailable(CspmError):
    """The Kafka cluster cannot be reached."""

    retriable = True
    exit_code = 3


class TopicError(KafkaUnavailable):
    """A topic the command needs is missing or differs from the topic table; the message says what to run."""

    retriable = False
    exit_code = 4


class SinkError(CspmError):
    """An alert sink could not deliver."""

    retriable = True
    exit_code = 3


class RemediationError(CspmError):
    """A remediation action failed."""


class RemediationBlocked(RemediationError):
    """A guard rail refused the action (exclusion tag, stale finding, blast radius)."""
