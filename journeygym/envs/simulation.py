"""What the single and the population env share: resolving parameters and validating input.

Both envs are thin faces of the one kernel (:mod:`journeygym.envs.kernel`);
this module holds the glue they have in common so neither repeats it.
"""

from __future__ import annotations

import os
from functools import cached_property
from collections.abc import Mapping
from typing import Any

import numpy as np

from journeygym.envs.actions import ActionTable, action_table
from journeygym.envs.artifact import load_parameters
from journeygym.envs.kernel import KernelTables, compile_tables
from journeygym.envs.parameters import (
    DynamicsParameters,
    ParameterDraws,
    ParameterError,
    ScenarioAssumptions,
    assumptions_with_overrides,
)
from journeygym.messages import did_you_mean

ParamsChoice = str | int
ArtifactSource = str | os.PathLike[str] | ParameterDraws | None


class ActionError(ValueError):
    """An action passed to ``step`` is invalid; the message says what was expected."""


def validate_params_choice(params: Any, n_draws: int) -> ParamsChoice:
    """Check ``params`` is ``"mean"``, ``"sample"`` or a draw index in range."""
    if isinstance(params, str) and params in ("mean", "sample"):
        return params
    if isinstance(params, (int, np.integer)) and not isinstance(params, bool) and 0 <= params < n_draws:
        return int(params)
    raise ParameterError(
        f"params: received {params!r}, expected 'mean', 'sample' or a draw index in [0, {n_draws - 1}] "
        f"(the artifact holds {n_draws} draws)."
    )


def validate_reset_options(options: Mapping[str, Any] | None, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Reject unknown reset options with the list of valid ones."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ValueError(f"reset options: received {type(options).__name__}, expected a dict or None.")
    for key in options:
        if key not in allowed:
            raise ValueError(
                f"reset options: unknown option {key!r}{did_you_mean(key, allowed)}; valid options: {list(allowed)}."
            )
    return dict(options)


class ParameterSelector:
    """Holds an env's parameter draws and scenario; compiles and caches kernel tables per draw."""

    def __init__(
        self,
        artifact: ArtifactSource,
        params: Any,
        scenario: ScenarioAssumptions | Mapping[str, Any] | None,
        horizon: int | None,
    ) -> None:
        self.draws: ParameterDraws = load_parameters(artifact)
        self.default_params: ParamsChoice = validate_params_choice(params, len(self.draws))
        if isinstance(scenario, ScenarioAssumptions):
            assumptions = scenario
        else:
            assumptions = assumptions_with_overrides(self.draws.assumptions, scenario)
        if horizon is not None:
            assumptions = assumptions_with_overrides(assumptions, {"horizon": horizon})
        if len(assumptions.action_costs) != self.draws.mean.n_actions:
            raise ParameterError(
                f"scenario.action_costs: received {len(assumptions.action_costs)} costs, expected one per action "
                f"({self.draws.mean.n_actions}: {self.draws.mean.action_names})."
            )
        self.assumptions = assumptions
        self._tables: dict[int, KernelTables] = {}
        self.draw_index = -1
        self.parameters: DynamicsParameters = self.draws.mean
        self.tables = self._compiled(-1)

    @cached_property
    def actions(self) -> ActionTable:
        """The action table: the artifact's action names with the scenario's costs."""
        return action_table(self.draws.mean.action_names, self.assumptions.action_costs, self.draws.metadata.get("actions"))

    @property
    def action_names(self) -> tuple[str, ...]:
        """Names of the actions of the loaded parameters."""
        return self.draws.mean.action_names

    def _compiled(self, index: int) -> KernelTables:
        if index not in self._tables:
            parameters = self.draws.mean if index < 0 else self.draws.draws[index]
            self._tables[index] = compile_tables(parameters, self.assumptions)
        return self._tables[index]

    def choose(self, params: Any, rng: np.random.Generator) -> None:
        """Select the draw for the next episode (``None`` means the env's default choice)."""
        choice = self.default_params if params is None else validate_params_choice(params, len(self.draws))
        self.draw_index, self.parameters = self.draws.select(choice, rng)
        self.tables = self._compiled(self.draw_index)


def validate_actions(actions: Any, n_actions: int, n_customers: int) -> np.ndarray:
    """Convert a batch of actions to an int64 array of shape ``(n_customers,)`` or raise :class:`ActionError`."""
    array = np.asarray(actions)
    if array.shape != (n_customers,):
        raise ActionError(
            f"actions: received shape {array.shape}, expected ({n_customers},), one action per customer."
        )
    if array.dtype.kind not in "iu":
        if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise ActionError(
                f"actions: received dtype {array.dtype}, expected integers in [0, {n_actions - 1}]."
            )
    array = array.astype(np.int64, copy=False)
    if array.size and (array.min() < 0 or array.max() >= n_actions):
        bad = array[(array < 0) | (array >= n_actions)][0]
        raise ActionError(f"actions: received {int(bad)}, expected integers in [0, {n_actions - 1}].")
    return array


class NamedActionsAndObservations:
    """The names of an env's actions and observation columns (both env faces share this)."""

    _selector: ParameterSelector
    _observations: Any

    @property
    def actions(self) -> ActionTable:
        """The action table (:class:`~journeygym.envs.actions.ActionTable`): name, kind and cost of each action."""
        return self._selector.actions

    @property
    def action_names(self) -> tuple[str, ...]:
        """The actions' names; action 0 is always no action."""
        return self._selector.action_names

    @property
    def observation_names(self) -> tuple[str, ...]:
        """The observation's column names, in order (:func:`~journeygym.envs.observation.observation_columns`)."""
        return self._observations.names
