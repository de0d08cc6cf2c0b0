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


def test_no_import_cycles() -> None:
    """No two modules depend on each other, even through a function-level import: a cycle is broken
    by moving the shared piece to where it belongs (or by a protocol the lower module declares)."""
    found = [sorted(c) for c in cycles(import_graph())]
    assert not found, f"import cycles: {found}"


#: documented public APIs whose names start with an underscore
PUBLIC_UNDERSCORE = frozenset({"_exit", "_replace", "_asdict", "_fields", "_make"})

#: private pieces of libraries we use on purpose, each with the reason a public API does not serve
ALLOWED_PRIVATE: dict[tuple[str, str], str] = {
    ("cspm_stream.safe_regex", "re2._re2"): (
        "google-re2's low-level engine, the one its public wrapper calls: a boolean match without "
        "building a match object (2.0 us against 4.9 us per uncached match on this machine; every "
        "rule regex runs through it); the import fails at load if a release moves it"
    ),
}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in PUBLIC_UNDERSCORE


def _owner_of_private(dotted: str) -> str | None:
    """For ``a.b._c.d``: ``a.b`` (the package a private module ``_c`` belongs to); for ``a.b._name``
    where ``a.b`` is a module: ``a.b`` itself (a private name belongs to its module)."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[:i])
    return None


def _inside(module: str, owner: str) -> bool:
    """Whether ``module`` may use what is private to ``owner`` (the same module, or inside that package)."""
    if module == owner or module.startswith(owner + "."):
        return True
    # a package's private module is shared by the package's modules
    return owner in MODULES and MODULES[owner].name == "__init__.py" and module.rpartition(".")[0] == owner


def private_imports() -> list[str]:
    """``from x import _y`` / ``import x._y`` reaching into another module or library."""
    found: list[str] = []
    for mod, path in MODULES.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                targets = [f"{base}.{a.name}" for a in node.names]
            for dotted in targets:
                owner = _owner_of_private(dotted)
                if owner is None or _inside(mod, owner) or (mod, dotted) in ALLOWED_PRIVATE:
                    continue
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {dotted}")
    return found


def _own_private_attributes(tree: ast.AST) -> set[str]:
    """Private attribute names a module defines itself: ``self._x = ...``, and in a class body
    ``def _x``, ``_x: T``, ``_x = ...`` or ``__slots__ = ("_x", ...)``."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _private(node.attr):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                out.add(node.attr)
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                out.add(item.name)
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                out.add(item.target.id)
            elif isinstance(item, ast.Assign):
                names = {t.id for t in item.targets if isinstance(t, ast.Name)}
                out |= names
                if "__slots__" in names:
                    out |= {
                        c.value
                        for c in ast.walk(item.value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    }
    return {n for n in out if _private(n)}


def private_attribute_access() -> list[str]:
    """``obj._x`` (or ``getattr(obj, "_x")``) where ``_x`` is not defined by the same module: reading
    another module's or a library's internals."""
    found: list[str] = []
    for mod, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = _own_private_attributes(tree)
        for node in ast.walk(tree):
            name: str | None = None
            if isinstance(node, ast.Attribute) and _private(node.attr):
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                    continue
                if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
                    continue
                name = node.attr
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and _private(node.args[1].value)
            ):
                name = node.args[1].value
            if name is not None and name not in own:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_private_checks_find_what_they_look_for() -> None:
    tree = ast.parse(
        "class A:\n    def __init__(self):\n        self._x = 1\n    def f(self, o):\n        return o._x\n"
    )
    assert _own_private_attributes(tree) == {"_x"}
    assert _owner_of_private("cspm_stream.collect.services._lists.children") == "cspm_stream.collect.services"
    assert _owner_of_private("cspm_stream.detect.secret_shapes._judge") == "cspm_stream.detect.secret_shapes"
    assert _inside("cspm_stream.collect.services.ecs", "cspm_stream.collect.services")
    assert not _inside("cspm_stream.collect.run", "cspm_stream.collect.collector")
    assert not _inside("cspm_stream.stages.detect", "prometheus_client")


def test_no_private_imports_across_modules() -> None:
    """A module imports only public names of other modules and libraries (a package's private
    modules are its own modules' to share); the exceptions are listed with their reason."""
    found = private_imports()
    assert not found, "private names imported from another module or library:\n" + "\n".join(found)


def test_no_private_attributes_of_other_modules_or_libraries() -> None:
    found = private_attribute_access()
    assert not found, "private attributes of other modules' or libraries' objects:\n" + "\n".join(found)


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
