"""The package's layers (DESIGN 1): what may import what, and what ``import journeygym`` loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import journeygym

PACKAGE_ROOT = Path(journeygym.__file__).parent
#: Runtime layers: the simulator and what runs on it never need the calibration pipeline or a command.
RUNTIME_LAYERS = ("envs", "baselines", "agents", "ope")


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
    assert {"envs", "baselines", "agents", "calibration", "experiments", "cli"} <= layers


def test_runtime_layers_never_import_calibration_or_commands() -> None:
    assert _offending(_modules(), RUNTIME_LAYERS, ("journeygym.calibration", "journeygym.cli")) == []


def test_only_commands_import_commands() -> None:
    layers = tuple({_layer(name) for name, _ in _modules()} - {"cli"})
    assert _offending(_modules(), layers, ("journeygym.cli",)) == []


def test_nothing_below_experiments_imports_it() -> None:
    assert _offending(_modules(), ("envs", "baselines", "agents", "calibration"), ("journeygym.experiments",)) == []


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
