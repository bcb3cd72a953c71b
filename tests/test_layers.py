"""The package's layers (docs/architecture.md, "Layers and data flow"): what may import what, no import circles, and what ``import journeygym`` loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

import journeygym

PACKAGE_ROOT = Path(journeygym.__file__).parent
#: Runtime layers: the simulator and what runs on it never need the calibration pipeline or a command.
RUNTIME_LAYERS = ("envs", "baselines", "agents", "ope")
#: Modules shared by the layers (errors, messages, lazy exports, files, provenance, flag parsing, intervals):
#: every layer may import them, and they import no layer.
SHARED = ("arguments", "errors", "files", "intervals", "lazy", "messages", "records", "schemas")
#: Every layer and the layers it may import besides the shared modules and the package itself (``""``: its
#: ``__init__``, which registers the env).  Data flows one way: raw data -> calibration -> the artifact -> envs ->
#: baselines -> ope -> agents -> experiments, with the commands on top; ``datasets`` reads the user's data (and
#: holds the built-in data set's own columns) for calibration, ``testing`` draws synthetic parameters for the
#: simulator.  A new layer, or a new dependency between
#: layers, is a change of this table.
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "": ("envs",),
    **dict.fromkeys(SHARED, ()),
    "envs": (),
    "testing": ("envs", "datasets"),
    "datasets": ("envs",),
    "calibration": ("envs", "datasets"),
    "baselines": ("envs",),
    "ope": ("envs", "baselines"),
    "agents": ("envs", "baselines", "ope"),
    "experiments": ("envs", "baselines", "ope", "agents"),
    "cli": ("envs", "calibration", "datasets", "baselines", "ope", "agents", "experiments"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, imported names, line) of every import in the file, function-level ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((module, [alias.name for alias in node.names], node.lineno))
    return found


def _modules() -> list[tuple[str, Path]]:
    return sorted((_module_name(path), path) for path in PACKAGE_ROOT.rglob("*.py"))


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _offending(modules: list[tuple[str, Path]], layers: tuple[str, ...] | None, forbidden: tuple[str, ...]) -> list[str]:
    """Imports of a ``forbidden`` module prefix by modules of ``layers`` (None: every layer)."""
    return [
        f"{name}:{line} imports {module}"
        for name, path in modules
        if layers is None or _layer(name) in layers
        for module, _, line in _imports(path)
        if module.startswith(forbidden)
    ]


def test_the_walk_sees_every_layer() -> None:
    layers = {_layer(name) for name, _ in _modules()}
    assert {"envs", "baselines", "agents", "ope", "calibration", "experiments", "cli"} <= layers


def test_every_layer_has_its_place_in_the_table() -> None:
    """A module outside every layer of :data:`MAY_IMPORT` (a new package or top-level module) is placed there first."""
    assert sorted({_layer(name) for name, _ in _modules()} - set(MAY_IMPORT)) == []


def test_the_layer_table_is_an_order() -> None:
    """No layer may import, even through others, a layer that may import it: the table leaves no room for a circle."""

    def reachable(layer: str) -> set[str]:
        seen, todo = set(), [layer]
        while todo:
            for below in MAY_IMPORT[todo.pop()]:
                if below not in seen:
                    seen.add(below)
                    todo.append(below)
        return seen

    assert [layer for layer in MAY_IMPORT if layer in reachable(layer)] == []


def _across_layers(modules: list[tuple[str, Path]]) -> list[str]:
    """Imports of a layer of the package that :data:`MAY_IMPORT` does not allow the importing module's layer."""
    allowed = {layer: {layer, "", *SHARED, *below} for layer, below in MAY_IMPORT.items()}
    return [
        f"{name}:{line} imports {module}"
        for name, path in modules
        for module, _, line in _imports(path)
        if module == "journeygym" or module.startswith("journeygym.")
        if _layer(module) not in allowed.get(_layer(name), {_layer(name)})
    ]


def test_every_layer_imports_only_what_the_table_allows() -> None:
    """Every module of every layer, ``ope`` and the shared modules included; function-level imports too."""
    assert _across_layers(_modules()) == []


def test_runtime_layers_never_import_calibration_or_commands() -> None:
    assert _offending(_modules(), RUNTIME_LAYERS, ("journeygym.calibration", "journeygym.cli")) == []


def test_only_commands_import_commands() -> None:
    layers = tuple({_layer(name) for name, _ in _modules()} - {"cli"})
    assert _offending(_modules(), layers, ("journeygym.cli",)) == []


def test_nothing_below_experiments_imports_it() -> None:
    below = ("envs", "baselines", "ope", "agents", "calibration", "datasets", "testing", *SHARED)
    assert _offending(_modules(), below, ("journeygym.experiments",)) == []


def test_off_policy_evaluation_imports_no_agent() -> None:
    """The offline agents build on ``ope`` (its log arrays, fitted-Q), so ``ope`` reads nothing of theirs."""
    assert _offending(_modules(), ("ope",), ("journeygym.agents",)) == []


def _private_imports(modules: list[tuple[str, Path]]) -> list[str]:
    return [
        f"{name}:{line} imports {imported} from {module}"
        for name, path in modules
        for module, names, line in _imports(path)
        if module.startswith("journeygym")
        for imported in names
        if imported.startswith("_") and not imported.startswith("__")
    ]


def test_private_names_stay_in_their_module() -> None:
    assert _private_imports(_modules()) == []


def test_the_checks_catch_lazy_and_relative_violations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A function-level import of calibration, or a relative import of a private name, is found."""
    bad = tmp_path / "journeygym" / "envs" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("def f():\n    from journeygym.calibration.pipeline import calibrate\n    from .kernel import _private\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE_ROOT", tmp_path / "journeygym")
    modules = [("journeygym.envs.bad", bad)]
    assert _offending(modules, RUNTIME_LAYERS, ("journeygym.calibration",)) == [
        "journeygym.envs.bad:2 imports journeygym.calibration.pipeline"
    ]
    assert _private_imports(modules) == ["journeygym.envs.bad:3 imports _private from journeygym.envs.kernel"]


def _import_graph(modules: list[tuple[str, Path]]) -> dict[str, dict[str, int]]:
    """Module -> {module of the package it imports: line of the first such import}.

    Every import counts: top-level, inside functions and under ``TYPE_CHECKING``.
    ``from package import name`` points at the submodule when ``name`` is one,
    else at the package's ``__init__``; the parent packages that Python
    initialises on the way are not counted (every module would import them).
    Lazy exports (:func:`journeygym.lazy.lazy_attributes`) name their modules
    in strings and are not imports.
    """
    known = {name for name, _ in modules}

    def owner(module: str) -> str | None:
        while module and module not in known:
            module = module.rpartition(".")[0]
        return module or None

    graph: dict[str, dict[str, int]] = {}
    for name, path in modules:
        targets: dict[str, int] = {}
        for module, imported, line in _imports(path):
            if not (module == "journeygym" or module.startswith("journeygym.")):
                continue
            submodules = [f"{module}.{alias}" for alias in imported if f"{module}.{alias}" in known]
            candidates = submodules if imported and len(submodules) == len(imported) else [*submodules, module]
            for candidate in candidates:
                target = owner(candidate)
                if target is not None and target != name:
                    targets.setdefault(target, line)
        graph[name] = targets
    return graph


def _strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = lowest[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            step = next(successors, None)
            if step is not None:
                if step not in index:
                    index[step] = lowest[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.get(step, {})))))
                elif step in on_stack:
                    lowest[node] = min(lowest[node], index[step])
                continue
            work.pop()
            if work:
                lowest[work[-1][0]] = min(lowest[work[-1][0]], lowest[node])
            if lowest[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _circles(graph: dict[str, dict[str, int]]) -> list[str]:
    """One shortest circle per group of modules that import each other, as ``a:line -> b:line -> a``."""
    circles = []
    for component in _strongly_connected(graph):
        start, members = component[0], set(component)
        previous: dict[str, str] = {}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if start in graph[node]:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                path.reverse()
                break
            for successor in sorted(graph[node]):
                if successor in members and successor not in previous and successor != start:
                    previous[successor] = node
                    queue.append(successor)
        hops = [f"{module}:{graph[module][following]}" for module, following in zip(path, [*path[1:], start])]
        circles.append(" -> ".join([*hops, start]) + f" ({len(component)} modules import each other)")
    return circles


def test_no_module_imports_itself_through_others() -> None:
    """No import circle between modules, however far round and wherever the imports sit (functions included)."""
    circles = _circles(_import_graph(_modules()))
    assert not circles, "import circles (module:line of the import -> ...):\n" + "\n".join(circles)


def test_the_circle_check_finds_a_function_level_circle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A circle closed by an import inside a function, through a relative import and a package's ``__init__``."""
    package = tmp_path / "journeygym" / "baselines"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from journeygym.baselines.solver import solve\n")
    (package / "solver.py").write_text("import numpy\n\n\ndef solve():\n    from .policy import Policy\n")
    (package / "policy.py").write_text("from journeygym.baselines import solve\n")
    (package / "alone.py").write_text("from journeygym.baselines import solver\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE_ROOT", tmp_path / "journeygym")
    modules = sorted((_module_name(path), path) for path in package.glob("*.py"))
    graph = _import_graph(modules)
    assert graph["journeygym.baselines.alone"] == {"journeygym.baselines.solver": 1}
    assert _circles(graph) == [
        "journeygym.baselines:1 -> journeygym.baselines.solver:5 -> journeygym.baselines.policy:1 -> "
        "journeygym.baselines (3 modules import each other)"
    ]


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}; import sys; print(','.join(m for m in {modules!r} if m in sys.modules))"
    printed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    return [m for m in printed.split(",") if m]


def test_import_journeygym_loads_no_heavy_dependency() -> None:
    code = "import journeygym, gymnasium as gym; assert journeygym.ENV_ID in gym.registry"
    assert _loaded_after(code, ("torch", "stable_baselines3", "pymc", "sklearn", "pandas", "scipy")) == []


def test_checking_a_config_with_agents_loads_no_torch() -> None:
    """The runner's own process validates PPO/DQN settings without torch: only the workers that train load it."""
    code = "from journeygym.experiments.config import load_config; import journeygym.experiments.runner; load_config('quick')"
    assert _loaded_after(code, ("torch", "stable_baselines3")) == []


def test_the_public_names_resolve() -> None:
    import journeygym.baselines as baselines
    import journeygym.envs as envs
    import journeygym.experiments as experiments

    for package in (envs, baselines, experiments):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        envs.nonexistent  # noqa: B018
