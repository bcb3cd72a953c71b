"""A target policy's action probabilities on the logged observations.

The estimators weigh the log by ``pi(a | s) / mu(a | s)``.  :func:`target_probabilities`
asks the policy for ``pi`` week by week, in order, on all the log's customers
(as the evaluation does, so a policy with per-customer memory sees each
customer's history), through :meth:`~journeygym.baselines.base.Policy.action_probabilities`:
a deterministic policy's is the one-hot of its action.

An unsubscribed customer can only receive action 0 (the simulator delivers
nothing), so the target's probabilities there are one-hot on action 0, as the
behavior's are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from journeygym.baselines.agent_protocol import as_policy
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError

__all__ = ["check_support", "checked_target_array", "named_policies", "target_probabilities"]

_SUM_TOLERANCE = 1e-6


def _checked(policy_name: str, probabilities: Any, n: int, n_actions: int, week: int) -> np.ndarray:
    array = np.asarray(probabilities, dtype=np.float64)
    if array.shape != (n, n_actions):
        raise OPEInputError(
            f"policy {policy_name!r}: action_probabilities returned shape {array.shape} in week {week}, expected "
            f"({n}, {n_actions}): one row per customer, one column per action."
        )
    if not np.isfinite(array).all() or np.any(array < 0) or np.any(np.abs(array.sum(axis=1) - 1.0) > _SUM_TOLERANCE):
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1) | (array < 0).any(axis=1) | (np.abs(array.sum(axis=1) - 1.0) > _SUM_TOLERANCE))[0])
        raise OPEInputError(
            f"policy {policy_name!r}: action_probabilities returned {array[row].tolist()} for customer {row} in week "
            f"{week}; expected finite non-negative probabilities summing to 1."
        )
    return array


def target_probabilities(policy: Any, episodes: LoggedEpisodes) -> np.ndarray:
    """``(N, H, A)`` probability that ``policy`` delivers each action at each logged observation.

    Parameters
    ----------
    policy
        A :class:`~journeygym.baselines.base.Policy` or an agent (wrapped with
        :func:`~journeygym.baselines.agent_protocol.as_policy`); it must act on
        observations (the oracle, which needs the hidden state, cannot be
        evaluated from a log).
    episodes
        The log.

    Raises
    ------
    OPEInputError
        If the policy needs the hidden state, or returns probabilities of the
        wrong shape, non-finite, negative or not summing to one.
    """
    policy = as_policy(policy)
    if policy.uses_hidden_state:
        raise OPEInputError(
            f"policy {policy.name!r} acts on the simulator's hidden state, which a log does not record; off-policy "
            "evaluation needs a policy that acts on observations."
        )
    n, horizon, n_actions = episodes.n_customers, episodes.horizon, episodes.n_actions
    policy.bind_actions(episodes.action_names, episodes.observation_names)
    subscribed = episodes.subscribed
    out = np.empty((n, horizon, n_actions))
    for week in range(horizon):
        out[:, week] = _checked(
            policy.name, policy.action_probabilities(episodes.observations[:, week], n_actions), n, n_actions, week
        )
    out[~subscribed] = 0.0
    out[~subscribed, 0] = 1.0
    return out


def check_support(policy_name: str, target: np.ndarray, episodes: LoggedEpisodes) -> None:
    """Raise when the target gives probability to an action the log never has (no weight can reach it).

    Rows where the behavior gave that action probability 0 while the target
    did not are counted in the overlap diagnostics instead; an action absent
    from the whole log cannot be evaluated at all.
    """
    seen = np.bincount(episodes.actions[episodes.mask], minlength=episodes.n_actions) > 0
    wanted = ((target > 0) & episodes.mask[:, :, None]).any(axis=(0, 1))  # no copy of the logged rows
    missing = np.flatnonzero(wanted & ~seen)
    if missing.size:
        names = [episodes.action_names[a] for a in missing]
        raise OPEInputError(
            f"policy {policy_name!r} chooses the actions {names}, which the log never has (logged actions: "
            f"{[episodes.action_names[a] for a in np.flatnonzero(seen)]}); a log says nothing about an action it "
            "never took. Evaluate it on a log whose behavior policy explores that action."
        )


def checked_target_array(target: Any, episodes: LoggedEpisodes, label: str = "target") -> np.ndarray:
    """``target`` as a float ``(N, H, A)`` array of probabilities, checked on the logged rows.

    Raises
    ------
    OPEInputError
        Naming ``label``: the wrong shape, or logged rows that are not finite,
        non-negative and summing to 1 (or non-finite or negative padding).
    """
    array = np.asarray(target, dtype=np.float64)
    expected = (episodes.n_customers, episodes.horizon, episodes.n_actions)
    if array.shape != expected:
        raise OPEInputError(
            f"{label}: received shape {array.shape}, expected {expected} (N customers, H weeks, A actions); compute "
            "it with journeygym.ope.target_probabilities(policy, episodes)."
        )
    # Two passes, no (N, H, A) temporary: a NaN or an infinity makes its row's sum non-finite.
    sums = array.sum(axis=2)
    if not np.isfinite(sums).all() or (array.size and array.min() < 0):
        raise OPEInputError(
            f"{label}: received non-finite or negative values; expected probabilities in [0, 1] "
            "(journeygym.ope.target_probabilities returns them)."
        )
    sums -= 1.0
    wrong = (np.abs(sums, out=sums) > _SUM_TOLERANCE) & episodes.mask
    if wrong.any():
        raise OPEInputError(
            f"{label}: {int(wrong.sum())} logged weeks have probabilities that do not sum to 1 (first: "
            f"{array[wrong][0].tolist()}); expected the target policy's action probabilities."
        )
    return array


def named_policies(policies: Mapping[str, Any] | Sequence[Any], owner: str) -> dict[str, Any]:
    """Policies by name, each as a :class:`~journeygym.baselines.base.Policy`.

    A mapping keeps its names; a sequence is named by each policy's ``name``, which
    must then be unique.  ``owner`` names the caller in the messages.
    """
    if isinstance(policies, Mapping):
        named = {str(name): as_policy(policy) for name, policy in policies.items()}
    else:
        named = {}
        for policy in policies:
            wrapped = as_policy(policy)
            if wrapped.name in named:
                raise OPEInputError(
                    f"{owner}: two policies are named {wrapped.name!r}; pass a mapping name -> policy to tell them apart."
                )
            named[wrapped.name] = wrapped
    if not named:
        raise OPEInputError(f"{owner}: received no policies; expected a sequence of policies or a mapping name -> policy.")
    return named
