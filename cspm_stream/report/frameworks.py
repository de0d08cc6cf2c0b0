"""Compliance frameworks as the report loads them: the one model of :mod:`cspm_stream.policy.model`.

A framework file (``cspm_stream/catalog/frameworks/<id>.yaml``, plus any
``policy.framework_dirs``) is parsed and validated by :mod:`cspm_stream.policy.frameworks`;
:func:`load_dirs` only chooses the folders.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cspm_stream.errors import DefinitionError
from cspm_stream.policy.model import Framework, Requirement

__all__ = ["Framework", "Requirement", "cited_framework", "load_dirs"]

#: ``Framework.source`` of a framework the report knows only from findings that cite it
CITED = "(cited by findings)"


def cited_framework(framework_id: str) -> Framework:
    """A framework with no definition file, known only from ``compliance.requirements`` citations."""
    return Framework(id=framework_id, name=framework_id, version="", requirements=(), source=CITED)


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
    return load_frameworks(folders)
