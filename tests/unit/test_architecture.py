"""The package's shape: every module imports cleanly, no import cycles, documentation cites what exists.

The import graph is read from the source (``ast``), function-level imports included: an import
deferred into a function hides a cycle from Python but not from the design. Imports under
``if TYPE_CHECKING:`` are type-only and do not count.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cspm_stream"

#: cycles that exist today, each to be broken by the package's owner; a NEW cycle fails at once,
#: and a listed one that is gone must be removed from here (the test says so)
KNOWN_CYCLES: tuple[frozenset[str], ...] = (
    frozenset({"cspm_stream.settings.loader", "cspm_stream.settings.schema"}),
    frozenset({"cspm_stream.collect.collector", "cspm_stream.collect.run"}),
    frozenset({"cspm_stream.kafka", "cspm_stream.topic_admin"}),
    frozenset(
        {
            "cspm_stream.policy.checks",
            "cspm_stream.policy.checks.iam",
            "cspm_stream.policy.checks.monitoring",
            "cspm_stream.policy.checks.network",
            "cspm_stream.policy.checks.resource_policy",
        }
    ),
)


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module ``name`` lives in (``a.b.func`` → ``a.b``), if it is one of ours."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
        return
    yield from _imports(node)


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for mod, path in MODULES.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [_resolve(a.name) for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                targets = [_resolve(f"{base}.{a.name}") for a in node.names]
            graph[mod].update(t for t in targets if t is not None and t != mod)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = set()
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        comp.add(top)
                        if top == node:
                            break
                    if len(comp) > 1:
                        out.append(frozenset(comp))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def test_cycle_finder_finds_cycles() -> None:
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert cycles(g) == [frozenset({"a", "b", "c"})]


def test_graph_sees_function_level_imports_and_skips_type_checking() -> None:
    graph = import_graph()
    assert "cspm_stream.stages.detect" in graph["cspm_stream.app"]  # imported inside stage_factories()
    assert "cspm_stream.kafka" not in graph["cspm_stream.stages.base"]  # only under TYPE_CHECKING


def test_no_new_import_cycles() -> None:
    found = cycles(import_graph())
    new = [sorted(c) for c in found if not any(c <= known for known in KNOWN_CYCLES)]
    assert not new, f"import cycles: {new}"
    gone = [sorted(k) for k in KNOWN_CYCLES if not any(c & k for c in found)]
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.endswith("__main__")))  # __main__ runs the CLI
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


#: ``cspm_stream/...`` paths, and dotted ``cspm_stream.x.y`` references, in docstrings, comments and docs
_PATH = re.compile(r"cspm_stream/[A-Za-z0-9_./\-]*[A-Za-z0-9_]")
_DOTTED = re.compile(r"\bcspm_stream(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _texts() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node, clean=False)
                if doc:
                    yield str(path.relative_to(ROOT)), doc
        for line in source.splitlines():
            if "#" in line:
                yield str(path.relative_to(ROOT)), line.split("#", 1)[1]
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        yield str(doc.relative_to(ROOT)), doc.read_text(encoding="utf-8")


def _dotted_exists(ref: str) -> bool:
    parts = ref.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_documentation_cites_only_what_exists() -> None:
    missing: list[str] = []
    for where, text in _texts():
        for ref in _PATH.findall(text):
            if not (ROOT / ref).exists():
                missing.append(f"{where}: {ref}")
        for ref in _DOTTED.findall(text):
            if not _dotted_exists(ref):
                missing.append(f"{where}: {ref}")
    assert not missing, "\n".join(sorted(set(missing)))
