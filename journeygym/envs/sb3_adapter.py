"""``JourneyVecEnv``: Stable-Baselines3's ``VecEnv`` over the population env.

SB3 algorithms then train on the vectorized kernel directly instead of on N
Python envs behind a ``DummyVecEnv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from journeygym.envs.population_env import CustomerPopulationVectorEnv


class JourneyVecEnv(VecEnv):
    """Stable-Baselines3 ``VecEnv`` whose sub-environments are the customers of one population env.

    Parameters
    ----------
    num_envs
        Number of customers simulated in parallel.
    **env_kwargs
        Passed to :class:`~journeygym.envs.population_env.CustomerPopulationVectorEnv`
        (``params``, ``artifact``, ``scenario``, ``horizon``).

    Notes
    -----
    Finished customers are reset in the same step, as SB3 expects: their last
    observation is in ``infos[i]["terminal_observation"]`` and
    ``infos[i]["TimeLimit.truncated"]`` is True at the horizon.  The
    population env's full info dict of arrays (hidden state, purchase
    probabilities...) of the last step is kept in :attr:`last_info`.
    """

    def __init__(self, num_envs: int, **env_kwargs: Any) -> None:
        if "autoreset_mode" in env_kwargs or "num_envs" in env_kwargs:
            raise ValueError("JourneyVecEnv: pass num_envs positionally and do not set autoreset_mode (it is 'SameStep').")
        self.population = CustomerPopulationVectorEnv(
            num_envs=num_envs, autoreset_mode=AutoresetMode.SAME_STEP, copy=True, **env_kwargs
        )
        self.render_mode = None
        super().__init__(num_envs, self.population.single_observation_space, self.population.single_action_space)
        self._actions: np.ndarray | None = None
        self.last_info: dict[str, Any] = {}

    def reset(self) -> np.ndarray:
        """Reset every customer, using the seed set by :meth:`seed` if any."""
        seed = self._seeds[0]
        options = self._options[0] or None
        observation, self.last_info = self.population.reset(seed=seed, options=options)
        self._reset_seeds()
        self._reset_options()
        return observation

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions for :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step every customer with the stored actions."""
        if self._actions is None:
            raise RuntimeError("JourneyVecEnv: call step_async(actions) before step_wait().")
        actions = np.asarray(self._actions).reshape(self.num_envs)
        self._actions = None
        observation, reward, terminated, truncated, info = self.population.step(actions)
        self.last_info = info
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for index in np.flatnonzero(dones):
            infos[index]["terminal_observation"] = info["final_obs"][index]
            infos[index]["TimeLimit.truncated"] = bool(truncated[index] and not terminated[index])
        return observation, reward.astype(np.float32), dones, infos

    def close(self) -> None:
        """Close the population env."""
        self.population.close()

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The population env's attribute, once per requested customer."""
        value = getattr(self.population, attr_name) if attr_name != "render_mode" else None
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the population env (shared by all customers)."""
        setattr(self.population, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any) -> list[Any]:
        """Call a population env method once and return its result per requested customer."""
        result = getattr(self.population, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        """Customers are never wrapped individually."""
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """No rendering: the simulator has no images."""
        return [None for _ in range(self.num_envs)]

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed the next :meth:`reset` (one generator drives all customers)."""
        if seed is None:
            seed = int(np.random.default_rng().integers(2**32 - 1))
        self._seeds = [seed + index for index in range(self.num_envs)]
        return self._seeds
