"""Compliance framework definitions as the report sees them.

A framework file (``cspm_stream/catalog/frameworks/<id>.yaml``, plus any
``policy.framework_dirs``) is ``{id, name, version, requirements: [{id, title,
policies: [policy ids], automated}]}``. The policy pack's loader validates the
files; :func:`load_dirs` turns them into the plain :class:`Framework` values
the pure core builds from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cspm_stream.errors import DefinitionError


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    title: str = ""
    policies: tuple[str, ...] = ()
    automated: bool = True


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    name: str = ""
    version: str = ""
    requirements: tuple[Requirement, ...] = field(default_factory=tuple)


def from_definition(fw: Any) -> Framework:
    """The report's view of a framework loaded by :mod:`cspm_stream.policy.frameworks`."""
    return Framework(
        id=str(fw.id),
        name=str(fw.name),
        version=str(fw.version),
        requirements=tuple(
            Requirement(str(r.id), str(r.title), tuple(r.policies), bool(r.automated)) for r in fw.requirements
        ),
    )


def load_dirs(dirs: Iterable[str | Path], *, builtin: bool = True) -> list[Framework]:
    """Frameworks from the built-in folder and ``dirs``, validated by the policy pack's loader.

    Raises DefinitionError (file, path, reason) on an invalid file or a folder that does not exist.
    """
    from cspm_stream.policy.frameworks import builtin_framework_dir, load_frameworks

    extra = [Path(d) for d in dirs]
    for d in extra:
        if not d.exists():
            raise DefinitionError(str(d), "framework folder does not exist")
    folders = ([builtin_framework_dir()] if builtin else []) + extra
    return [from_definition(fw) for fw in load_frameworks(folders)]
