"""The layout of a log's episodes in Minari: one Minari episode per customer, and back to ``(N, H)`` arrays.

One Minari episode per customer, of its L logged weeks:

* ``observations`` ``(L + 1, D)``: the L logged observations, then the
  observation after the last logged week.  A log never records that one (the
  customer's state after the final week's response), so it repeats the last
  logged observation, and the episode ends with ``truncations[-1] = True``:
  the horizon or the end of the log cut it, no terminal state was reached (the
  journey environment never terminates).  Offline-RL code that bootstraps at a
  truncation reads that repeated row; reading the episodes back drops it.
* ``actions``, ``rewards``, ``terminations`` (all False), ``truncations``: ``(L,)``.
* ``infos``, one entry per observation, as Minari's own collector records them
  (the reset's info, then each step's): ``customer_id`` ``(L + 1,)`` and, when
  the log has behavior probabilities, ``propensity`` ``(L + 1, A)``, row t the
  behavior policy's distribution at observation t, NaN at the final
  observation, where no action was chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from journeygym.ope.episodes import LoggedEpisodes, OPEInputError, action_dtype

__all__ = ["episode_buffers", "episode_lengths", "episodes_from_minari"]


def episode_lengths(episodes: LoggedEpisodes) -> np.ndarray:
    """``(N,)`` the number of logged weeks of each customer.

    Raises
    ------
    OPEInputError
        If a customer's mask is not weeks ``0 .. L-1`` then padding, or has no
        logged week (a Minari episode needs at least one step).
    """
    lengths = episodes.mask.sum(axis=1)
    prefix = np.arange(episodes.horizon)[None, :] < lengths[:, None]
    broken = np.flatnonzero(np.any(prefix != episodes.mask, axis=1) | (lengths == 0))
    if broken.size:
        i = int(broken[0])
        raise OPEInputError(
            f"Minari export: customer_id {episodes.customer_ids[i]} has mask {episodes.mask[i].astype(int).tolist()}; "
            "expected weeks 0 .. L-1 logged (L >= 1), then padding. Drop customers with no logged week."
        )
    return lengths


def episode_buffers(episodes: LoggedEpisodes) -> list[Any]:
    """One Minari ``EpisodeBuffer`` per customer, each a slice of arrays built for all customers at once.

    Raises
    ------
    OPEInputError
        See :func:`episode_lengths`.
    """
    from minari.data_collector import EpisodeBuffer

    lengths = episode_lengths(episodes)
    n, horizon = episodes.n_customers, episodes.horizon
    last = lengths - 1
    final_repeated = np.minimum(np.arange(horizon + 1)[None, :], last[:, None])
    full = np.asarray(episodes.observations)  # a compact WeeklyObservations too (journeygym.ope.observation_store)
    observations = np.take_along_axis(full, final_repeated[:, :, None], axis=1).astype(np.float32)
    actions = episodes.actions.astype(np.int64)
    rewards = episodes.rewards.astype(np.float64)
    terminations = np.zeros((n, horizon), dtype=bool)
    truncations = np.arange(horizon)[None, :] == last[:, None]
    customer_ids = np.repeat(np.asarray(episodes.customer_ids, dtype=np.int64)[:, None], horizon + 1, axis=1)
    propensity = None
    if episodes.behavior_probabilities is not None:
        propensity = np.full((n, horizon + 1, episodes.n_actions), np.nan)
        propensity[:, :horizon] = np.where(episodes.mask[:, :, None], episodes.behavior_probabilities, np.nan)
    buffers = []
    for i, length in enumerate(lengths.tolist()):
        infos = {"customer_id": customer_ids[i, : length + 1]}
        if propensity is not None:
            infos["propensity"] = propensity[i, : length + 1]
        buffers.append(
            EpisodeBuffer(
                observations=observations[i, : length + 1],
                actions=actions[i, :length],
                rewards=rewards[i, :length],
                terminations=terminations[i, :length],
                truncations=truncations[i, :length],
                infos=infos,
            )
        )
    return buffers


def episodes_from_minari(
    read: Sequence[Any],
    action_names: tuple[str, ...],
    observation_names: tuple[str, ...],
    *,
    log_metadata: dict[str, Any],
    propensities_estimated: bool,
    source: str,
) -> LoggedEpisodes:
    """Minari episodes (``EpisodeData``, one per customer) as :class:`LoggedEpisodes`.

    Parameters
    ----------
    read
        The episodes, in the dataset's order.
    action_names
        The dataset's actions; its observations must have the matching columns.
    observation_names
        The observation's column names, in order.
    log_metadata, propensities_estimated
        What the dataset's record says of the log.
    source
        Names the dataset in error messages.

    Returns
    -------
    LoggedEpisodes
        Padded to the longest episode like :func:`~journeygym.ope.episodes.episodes_from_frame`
        (padding repeats the last observation, action 0, reward 0, behavior
        one-hot on action 0); customer ids from ``infos["customer_id"]``, else
        the episode ids.

    Raises
    ------
    OPEInputError
        No episodes, ``infos["propensity"]`` in some episodes only, or
        propensities that do not fit the logged actions.
    """
    if not read:
        raise OPEInputError(f"{source}: holds no episodes; expected one per customer.")
    infos = [episode.infos or {} for episode in read]
    with_propensity = np.array(["propensity" in info for info in infos])
    if with_propensity.any() and not with_propensity.all():
        raise OPEInputError(
            f"{source}: infos['propensity'] in {int(with_propensity.sum())} of {len(read)} episodes; expected all "
            "or none."
        )
    lengths = np.array([len(episode) for episode in read])
    n, horizon = len(read), int(lengths.max())
    episode = np.repeat(np.arange(n), lengths)
    week = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)

    observations = np.empty((n, horizon, read[0].observations.shape[1]), dtype=np.float32)
    observations[episode, week] = np.concatenate([e.observations[:length] for e, length in zip(read, lengths)])
    fill = np.minimum(np.arange(horizon)[None, :], lengths[:, None] - 1)
    observations = np.take_along_axis(observations, fill[:, :, None], axis=1)
    mask = np.zeros((n, horizon), dtype=bool)
    mask[episode, week] = True
    actions = np.zeros((n, horizon), dtype=action_dtype(len(action_names)))
    actions[episode, week] = np.concatenate([e.actions for e in read])
    rewards = np.zeros((n, horizon))
    rewards[episode, week] = np.concatenate([e.rewards for e in read])
    customer_ids = np.array(
        [int(info["customer_id"][0]) if "customer_id" in info else int(e.id) for e, info in zip(read, infos)],
        dtype=np.int64,
    )
    episodes = LoggedEpisodes(
        observations=observations,
        actions=actions,
        rewards=rewards,
        behavior_probabilities=None,
        mask=mask,
        action_names=action_names,
        observation_names=observation_names,
        customer_ids=customer_ids,
        metadata=log_metadata,
    )
    if not with_propensity.all():
        return episodes
    probabilities = np.zeros((n, horizon, len(action_names)))
    probabilities[:, :, 0] = 1.0
    probabilities[episode, week] = np.concatenate([info["propensity"][:length] for info, length in zip(infos, lengths)])
    return episodes.with_behavior(probabilities, estimated=propensities_estimated)
