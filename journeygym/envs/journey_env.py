"""``CustomerJourneyEnv``: one customer, one week per step.

It runs :func:`journeygym.envs.kernel.step_customer`, the kernel's scalar form,
which gives the same numbers as the population kernel at N = 1 at a fraction
of the per-call overhead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from journeygym.envs.contact_rules import ContactRules
from journeygym.envs.kernel import (
    CustomerOutcome,
    CustomerState,
    PopulationState,
    draw_reset_noise,
    draw_step_noise,
    initial_population,
    step_customer,
)
from journeygym.envs.observation import ObservationBuffer
from journeygym.envs.parameters import ParameterDraws, ParameterError, ScenarioAssumptions
from journeygym.envs.simulation import (
    ActionError,
    ArtifactSource,
    NamedActionsAndObservations,
    ParameterSelector,
    validate_reset_options,
)

RESET_OPTIONS: tuple[str, ...] = ("params",)


class CustomerJourneyEnv(NamedActionsAndObservations, gym.Env[np.ndarray, np.int64]):
    """A marketer's e-mail decisions for one customer over weeks.

    Each step is one week.  The customer has a hidden engagement state (Dormant,
    Exploring, Engaged, HighlyEngaged, Buyer) that moves by a hidden Markov
    chain fitted on real purchase sequences.  An e-mail brings a direct
    response in its week (a lift of the visit and purchase probabilities) and
    a bounded carryover (a tilt of the engagement chain, sized so that a
    single e-mail's year is ``carryover`` times its two weeks), together
    matching the Hillstrom trial's two-week uplift and fading with e-mail
    fatigue, a slowly decaying stock of recent e-mails (docs/fatigue.md).  Each
    e-mail may make the customer unsubscribe.  See :mod:`journeygym.envs.response`
    for the dynamics.

    ## Action Space

    ``Discrete(A)``: action 0 is no action, actions 1 .. A-1 are the artifact's arms
    (``env.unwrapped.action_names``); the shipped artifact's are the built-in trial's two e-mails
    (:mod:`journeygym.datasets.hillstrom_columns`), so A = 3:

    | Num     | Action                 | Cost (default)  |
    |---------|------------------------|-----------------|
    | 0       | no action              | $0              |
    | 1 .. A-1| an arm (an e-mail)     | $0.05           |

    An e-mail to an unsubscribed customer is not delivered: it costs nothing
    and has no effect.

    ## Observation Space

    ``Box(0, 1, (D,), float32)``: first the artifact's static covariate columns (its population
    model's, :mod:`journeygym.envs.population`), then the weekly columns; the column order is
    stable and ``env.unwrapped.observation_names`` names them
    (:func:`journeygym.envs.observation.observation_columns` describes them). On the shipped
    artifact D = 23 for A = 3:

    | Index | Name                    | Range  |
    |-------|-------------------------|--------|
    | 0-11  | the covariates          | [0, 1] (scaled), {0, 1} or one-hot; the built-in trial's are named in :mod:`journeygym.datasets.hillstrom_columns` |
    | 12    | week_fraction           | [0, 1] |
    | 13    | weeks_since_purchase    | [0, 1] |
    | 14    | weeks_since_visit       | [0, 1] |
    | 15    | purchases_last_4_weeks  | [0, 1] |
    | 16    | visits_last_4_weeks     | [0, 1] |
    | 17    | fatigue                 | [0, 1] (the stock of recent e-mails over that of weekly e-mail) |
    | 18    | subscribed              | {0, 1} |
    | 19-21 | last_action_<name>      | one-hot |
    | 22    | log_cumulative_spend    | [0, 1] |

    With a frequency cap in the scenario (``cap_emails``/``cap_weeks``) a 24th column
    follows, ``weeks_until_email_allowed`` (weeks until the cap allows an e-mail,
    divided by ``cap_weeks - 1``; 0 = allowed now), as a CRM system shows it.

    The hidden state is never observed; it is reported in ``info``.

    ## Rewards

    ``margin * spend - cost(action delivered)`` in dollars for the week.

    ## Starting State

    A new customer drawn from the population model fitted on the Hillstrom
    table, with a hidden state drawn given the customer's recency, at the
    trial's starting fatigue (rested by default), subscribed.

    ## Episode End

    Truncation after ``horizon`` weeks (default 52).  ``terminated`` is always
    False (reserved for scenario rules).

    ## Arguments

    | Argument   | Default | Meaning |
    |------------|---------|---------|
    | params     | "mean"  | "mean", "sample" (a new posterior draw at each reset) or a draw index |
    | artifact   | None    | parameter artifact path or ``ParameterDraws``; None = the shipped default |
    | scenario   | None    | ``ScenarioAssumptions`` or a dict of overrides, e.g. ``{"kappa": 0.5, "carryover": 2.5}`` (a carryover must be one the artifact was calibrated at) |
    | horizon    | None    | weeks per episode (overrides the scenario's) |
    | render_mode| None    | "ansi" for a one-line text summary |

    ``reset(options={"params": ...})`` chooses the draw for that episode only.

    ## Info

    ``hidden_state`` (int), ``hidden_state_name``, ``draw`` (index, -1 for the
    mean), ``week``, ``fatigue``, ``subscribed``; after a step also
    ``purchase_prob``, ``visit_prob``, ``purchased``, ``visited``, ``spend``,
    ``delivered``, ``unsubscribed``; with a frequency cap also ``capped``
    (the requested e-mail was blocked by the cap).

    ## Contact rules

    A frequency cap is enforced: an e-mail to a customer who already had
    ``cap_emails`` e-mails in the last ``cap_weeks - 1`` weeks is not sent
    (the step plays "no action").  A weekly budget is a rule over a population
    and is refused here; use ``CustomerPopulationVectorEnv``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        params: str | int = "mean",
        artifact: ArtifactSource = None,
        scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
        horizon: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode: received {render_mode!r}, expected None or one of {self.metadata['render_modes']}."
            )
        self.render_mode = render_mode
        self._selector = ParameterSelector(artifact, params, scenario, horizon)
        self.assumptions: ScenarioAssumptions = self._selector.assumptions
        self.n_actions = len(self._selector.action_names)
        self.action_space = spaces.Discrete(self.n_actions)
        if self.assumptions.has_budget:
            raise ParameterError(
                "scenario: received a weekly contact budget (contact_budget or contact_budget_per_1000) for "
                "CustomerJourneyEnv, which simulates one customer; a budget is shared by a population: use "
                "CustomerPopulationVectorEnv, or remove the budget (a frequency cap works here)."
            )
        self.contact_rules = ContactRules(self.assumptions, self._selector.actions)
        self._observations = ObservationBuffer(
            1, self._selector.draws.mean.population, self._selector.action_names, self.assumptions.horizon, self.assumptions.fatigue_stocks, self.contact_rules
        )
        self.observation_space = self._observations.space
        self._state: CustomerState | None = None
        self._last: CustomerOutcome | None = None
        self._capped = False

    @property
    def parameter_draws(self) -> ParameterDraws:
        """Every posterior draw the env can use, and their mean (the artifact it was built from)."""
        return self._selector.draws

    @property
    def draw_index(self) -> int:
        """Index of the posterior draw in use (-1 for the mean)."""
        return self._selector.draw_index

    @property
    def state(self) -> PopulationState:
        """A copy of the customer's full state (arrays of length 1), hidden state included."""
        if self._state is None:
            raise RuntimeError("CustomerJourneyEnv: call reset() before reading the state.")
        return self._state.to_population()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new customer; see the class docstring for ``options``."""
        super().reset(seed=seed)
        chosen = validate_reset_options(options, RESET_OPTIONS)
        self._selector.choose(chosen.get("params"), self.np_random)
        population = initial_population(self._selector.tables, draw_reset_noise(self.np_random, 1))
        self._observations.write_static(population)
        self._state = CustomerState.from_population(population)
        self._last = None
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Play one week with ``action``."""
        state = self._state
        if state is None:
            raise RuntimeError("CustomerJourneyEnv: call reset() before step().")
        tables = self._selector.tables
        if state.week >= tables.horizon:
            raise RuntimeError(
                f"CustomerJourneyEnv: the episode ended after {tables.horizon} weeks; call reset() to start a new customer."
            )
        noise = draw_step_noise(self.np_random, 1).ravel().tolist()
        action = self._check_action(action)
        self._capped = self.contact_rules.customer_capped(action, state.subscribed, state.recent_emails)
        self._last = step_customer(state, 0 if self._capped else action, tables, noise)
        return self._observe(), self._last.reward, False, state.week >= tables.horizon, self._info()

    def _check_action(self, action: Any) -> int:
        if isinstance(action, (int, np.integer)) and not isinstance(action, bool):
            value = int(action)
        elif isinstance(action, np.ndarray) and action.shape in ((), (1,)) and action.dtype.kind in "iu":
            value = int(action.reshape(()))
        else:
            shape = getattr(action, "shape", None)
            raise ActionError(
                f"action: received {action!r} of type {type(action).__name__}"
                f"{f' with shape {shape}' if shape is not None else ''}, "
                f"expected one integer in [0, {self.n_actions - 1}]."
            )
        if not 0 <= value < self.n_actions:
            raise ActionError(f"action: received {value}, expected an integer in [0, {self.n_actions - 1}].")
        return value

    def _observe(self) -> np.ndarray:
        return self._observations.write_customer(self._state).copy()

    def _info(self) -> dict[str, Any]:
        state = self._state
        info: dict[str, Any] = {
            "hidden_state": state.hidden_state,
            "hidden_state_name": self._selector.parameters.state_names[state.hidden_state],
            "draw": self._selector.draw_index,
            "week": state.week,
            "fatigue": state.fatigue,
            "subscribed": state.subscribed,
        }
        last = self._last
        if last is not None:
            info.update(
                purchase_prob=last.purchase_prob,
                visit_prob=last.visit_prob,
                purchased=last.purchased,
                visited=last.visited,
                spend=last.spend,
                delivered=last.delivered,
                unsubscribed=last.unsubscribed,
            )
            if self.contact_rules.has_cap:
                info["capped"] = self._capped
        return info

    def render(self) -> str | None:
        """With ``render_mode="ansi"``, a one-line summary of the customer's week."""
        if self.render_mode != "ansi" or self._state is None:
            return None
        info = self._info()
        return (
            f"week {info['week']:>3}  state {info['hidden_state_name']:<13} fatigue {info['fatigue']}  "
            f"subscribed {info['subscribed']}  spend ${info.get('spend', 0.0):.2f}"
        )
