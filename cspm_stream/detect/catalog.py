"""Which rules a process loads: the built-in pack, ``detection.rules_dirs`` and explicit paths."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cspm_stream import catalog
from cspm_stream.detect.derived import DerivedConfig, Deriver
from cspm_stream.detect.fields import MAX_FIELD_CHARS, Vocabulary
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.rules import RuleSet
from cspm_stream.settings import DetectionSettings


def builtin_rules_dir() -> Path:
    """Folder of the built-in rule pack (``cspm_stream/catalog/rules``)."""
    return catalog.rules_dir()


def rule_paths(
    settings: DetectionSettings, extra: Iterable[str | Path] = (), *, builtin: bool | None = None
) -> list[Path]:
    """Paths to load: built-ins (if enabled and present), configured folders, then ``extra``."""
    paths: list[Path] = []
    use_builtin = settings.builtin_rules if builtin is None else builtin
    if use_builtin and builtin_rules_dir().is_dir():
        paths.append(builtin_rules_dir())
    paths.extend(Path(p) for p in settings.rules_dirs)
    paths.extend(Path(p) for p in extra)
    return paths


def vocabulary(settings: DetectionSettings) -> Vocabulary:
    """The field vocabulary of the settings: extra fields, derived-field config, value bound."""
    return Vocabulary(
        extra=frozenset(settings.extra_fields),
        deriver=Deriver(DerivedConfig.from_settings(settings)),
        max_chars=int(getattr(settings, "max_field_chars", MAX_FIELD_CHARS)),
    )


def load_rules(
    settings: DetectionSettings, extra: Iterable[str | Path] = (), *, builtin: bool | None = None
) -> RuleSet:
    """Load every rule the settings name (plus ``extra`` paths); errors are in ``RuleSet.errors``."""
    return load_paths(
        rule_paths(settings, extra, builtin=builtin),
        placeholders=settings.placeholders,
        vocab=vocabulary(settings),
    )
