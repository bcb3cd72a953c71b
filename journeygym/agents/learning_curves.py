"""Learning curves of the simulator agents: the greedy policy's return on fixed validation customers during training.

The episode returns SB3 logs (``rollout/ep_rew_mean``) are those of the training
customers: new customers (and, on ``params="sample"``, a new posterior draw)
every rollout, acted on by the *stochastic* training policy.  A learning curve
here is the *greedy* policy -- the one evaluated -- run at a handful of
checkpoints on the same validation customers every time: ``episodes`` seasons
of ``customers`` customers of the training env, reset with fixed seeds
(common random numbers), so two checkpoints differ only by the policy.  The
seeds depend on :attr:`CurveSettings.seed`, not on the training seed, so every
training seed of a run meets the same validation customers, and on a purpose
key that keeps them apart from the training env's seeds.

Each checkpoint records (:class:`CurvePoint`) the env-steps trained so far,
the training wall seconds so far (evaluation time excluded), the return per
customer and the e-mails delivered per customer-week, as the experiments
measure them (:class:`~journeygym.baselines.rollout.Rollout`).  The curve also
records what sending nothing earns on the same validation customers
(:attr:`LearningCurve.no_action_return`): a few thousand customer-seasons
leave the level of a return uncertain by a few tenths of a dollar (a
customer's season return has a standard deviation of about 23 dollars), while
the gain over sending nothing, paired on the same customers, is much more
precise -- reports compare it with the other policies' gain over ``never``.  The
evaluation draws no random number from the training streams (torch, numpy's
global generator, the training env): training with and without a curve gives
the same agent bit for bit.

The Stable-Baselines3 callback that takes the checkpoints is
:class:`~journeygym.agents.sb3_wrappers.LearningCurveCallback`; this module
holds what does not need torch (the settings, the record the results store,
the checkpoint's policy and its evaluation), so reports read curves without
loading it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from journeygym.agents.features import with_belief
from journeygym.agents.lagrangian import email_preference, greedy_actions
from journeygym.baselines.base import Policy
from journeygym.baselines.rollout import rollout_on
from journeygym.baselines.simple import ConstantPolicy
from journeygym.envs.belief import BeliefTracker
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions

__all__ = [
    "CURVE_KEYS",
    "CheckpointPolicy",
    "CurvePoint",
    "CurveSettings",
    "LearningCurve",
    "curve_record",
    "evaluate_checkpoint",
]

#: Seed purpose of the validation customers (keeps their seeds apart from training seeds).
_VALIDATION_PURPOSE = 0x6C63  # "lc"

#: The keys of a learning curve's record (:meth:`LearningCurve.to_record`): lists, one entry per checkpoint.
CURVE_KEYS: tuple[str, ...] = ("timesteps", "return_per_customer", "contacts_per_customer_week")


@dataclass(frozen=True)
class CurveSettings:
    """Where and how often a learning curve is measured.

    Attributes
    ----------
    checkpoints
        Evaluations spread evenly over training, the untrained policy first (step 0); one
        more comes at the end of training.  PPO evaluates at rollout boundaries, so a
        checkpoint falls at the first rollout at or past its share of the budget.
    customers
        Validation customers per season.
    episodes
        Validation seasons (with ``params="sample"``, one posterior draw each).
    seed
        Chooses the validation customers (and draws); the same for every training seed.

    Notes
    -----
    A checkpoint of the defaults (2,000 customer-seasons) takes about 0.15 s on one core,
    so a curve costs about 1.4 s per training run whatever its budget: about half the
    training time of 500,000 PPO env-steps, a tenth of 3,000,000.
    """

    checkpoints: int = 8
    customers: int = 1000
    episodes: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            lowest = 0 if item.name == "seed" else 1
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lowest:
                raise ValueError(
                    f"learning_curve: {item.name} received {value!r}, expected an integer >= {lowest}."
                )

    @classmethod
    def of(cls, value: CurveSettings | Mapping[str, Any] | None, owner: str) -> CurveSettings | None:
        """Settings from an agent's ``learning_curve`` argument: settings, a mapping of overrides, or None (no curve).

        Raises
        ------
        ValueError
            For an unknown key or a value out of range, naming ``owner``.
        """
        if value is None or isinstance(value, CurveSettings):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(
                f"{owner}: learning_curve received {value!r}, expected None (no curve) or a mapping with keys "
                f"{[f.name for f in fields(cls)]}."
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"{owner}: learning_curve has unknown key(s) {unknown}; expected keys among {sorted(known)}.")
        try:
            return cls(**dict(value))
        except ValueError as exc:
            raise ValueError(f"{owner}: {exc}") from None

    def to_dict(self) -> dict[str, int]:
        """The settings as plain integers (for ``get_params`` and ``agent.json``)."""
        return {key: int(v) for key, v in asdict(self).items()}

    def schedule(self, total_timesteps: int) -> list[int]:
        """Env-step counts at which a checkpoint is due: 0 and every ``total / checkpoints`` (the end comes apart)."""
        return sorted({math.floor(i * total_timesteps / self.checkpoints) for i in range(self.checkpoints)})

    def episode_seed(self, episode: int) -> int:
        """The reset seed of validation season ``episode``."""
        return int(np.random.SeedSequence([self.seed, _VALIDATION_PURPOSE, episode]).generate_state(1)[0])


@dataclass(frozen=True)
class CurvePoint:
    """One checkpoint of a learning curve.

    Attributes
    ----------
    timesteps
        Env-steps (customer-weeks) trained before the evaluation.
    seconds
        Wall seconds of training until then, the curve's evaluations excluded.
    return_per_customer
        The greedy policy's mean return per validation customer over the season (undiscounted).
    contacts_per_customer_week
        E-mails delivered per validation customer-week.
    """

    timesteps: int
    seconds: float
    return_per_customer: float
    contacts_per_customer_week: float


@dataclass
class LearningCurve:
    """The checkpoints of one training run, in order of env-steps."""

    settings: CurveSettings
    points: list[CurvePoint] = field(default_factory=list)
    #: Mean return per customer of sending nothing on the validation customers (None: not measured).
    no_action_return: float | None = None

    def to_record(self) -> dict[str, Any]:
        """What the results store: the settings, ``no_action_return`` and one list per key of :data:`CURVE_KEYS`.

        Deterministic: the same seed gives the same record; the timings are :meth:`seconds`.
        """
        record: dict[str, Any] = {"validation": self.settings.to_dict(), "no_action_return": self.no_action_return}
        for key in CURVE_KEYS:
            record[key] = [getattr(p, key) for p in self.points]
        return record

    @classmethod
    def start(cls, env: Any, settings: CurveSettings) -> LearningCurve:
        """A curve with no checkpoint yet, measuring what sending nothing earns on ``env``'s validation seasons."""
        return cls(settings, no_action_return=evaluate_checkpoint(env, ConstantPolicy(0, "never"), settings)[0])

    def seconds(self) -> list[float]:
        """Training wall seconds at each checkpoint (not reproducible: kept apart from :meth:`to_record`)."""
        return [p.seconds for p in self.points]


def curve_record(curve: Any) -> tuple[dict[str, Any] | None, list[float] | None]:
    """``(record, seconds)`` of an agent's ``learning_curve_``: a :class:`LearningCurve`, a mapping, or None.

    A mapping (an agent of one's own) needs the lists of :data:`CURVE_KEYS` of equal length
    and may hold ``seconds`` and ``no_action_return``; anything else is no curve.
    """
    if isinstance(curve, LearningCurve):
        return curve.to_record(), curve.seconds()
    if not isinstance(curve, Mapping) or not all(key in curve for key in CURVE_KEYS):
        return None, None
    record = {key: [float(v) for v in curve[key]] for key in CURVE_KEYS}
    record["timesteps"] = [int(v) for v in record["timesteps"]]
    if len({len(v) for v in record.values()}) != 1:
        return None, None
    no_action = curve.get("no_action_return")
    record["no_action_return"] = None if no_action is None else float(no_action)
    seconds = curve.get("seconds")
    return record, None if seconds is None else [float(v) for v in seconds]


#: Preferences of a network for a batch of feature rows: ``(n, D')`` -> ``(n, A)``.
NetworkPreferences = Callable[[np.ndarray], np.ndarray]


class CheckpointPolicy(Policy):
    """The greedy policy of an agent's network as it is now, with a belief filter of its own.

    Parameters
    ----------
    name
        The agent's name.
    preferences
        The network's action preferences for feature rows (called under ``torch.no_grad``).
    belief
        The filter's model ``(parameters, assumptions)``, or None without belief features.
        A fresh filter starts with every episode, so the training env's filter is never touched.
    """

    def __init__(
        self,
        name: str,
        preferences: NetworkPreferences,
        belief: tuple[DynamicsParameters, ScenarioAssumptions] | None,
    ) -> None:
        self.name = name
        self._network = preferences
        self._belief = belief
        self._tracker: BeliefTracker | None = None
        self._week: tuple[np.ndarray, np.ndarray] | None = None

    def bind_actions(self, action_names: Sequence[str], observation_names: Sequence[str] | None = None) -> Policy:
        """Start an episode: a new belief filter."""
        self._tracker = None if self._belief is None else BeliefTracker(*self._belief)
        self._week = None
        return super().bind_actions(action_names, observation_names)

    def _preferences(self, observations: np.ndarray) -> np.ndarray:
        # act and priority read the same week: the filter advances once.
        if self._week is not None and self._week[0] is observations:
            return self._week[1]
        preferences = self._network(with_belief(observations, self._tracker))
        self._week = (observations, preferences)
        return preferences

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The most preferred action of each row."""
        return greedy_actions(self._preferences(observations), 0.0)

    def priority(self, observations: np.ndarray) -> np.ndarray:
        """The preference for e-mailing (best e-mail arm minus no action), as the trained agent ranks."""
        return email_preference(self._preferences(observations))


def evaluate_checkpoint(env: Any, policy: Policy, settings: CurveSettings) -> tuple[float, float]:
    """``(return per customer, contacts per customer-week)`` of ``policy`` on the validation seasons.

    Parameters
    ----------
    env
        The validation ``CustomerPopulationVectorEnv`` (``settings.customers`` customers), kept
        across checkpoints: each season is reset with :meth:`CurveSettings.episode_seed`.
    policy
        The checkpoint's policy.
    settings
        The curve's settings.
    """
    runs = [rollout_on(env, policy, seed=settings.episode_seed(e)) for e in range(settings.episodes)]
    return float(np.mean([r.mean_return for r in runs])), float(np.mean([r.contact_rate for r in runs]))
