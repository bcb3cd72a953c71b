"""Discrete conservative Q-learning (CQL) from a campaign log alone.

CQL (Kumar, Zhou, Tucker & Levine, 2020) is offline deep Q-learning whose
loss adds the CQL(H) regularizer for discrete actions::

    loss = Huber(Q(s, a) - y) + alpha * (logsumexp_a' Q(s, a') - Q(s, a))

with ``(s, a)`` a logged customer-week and ``y`` the double-DQN target
``r + gamma * Q_target(s', argmax_a' Q(s', a'))``.  The regularizer pushes down
the Q-values of the actions the log rarely took at a state and up those it
took, so the greedy policy stays where the log has evidence; ``alpha = 0``
is plain offline double DQN.

The season is the episode: a customer's last logged week is terminal (a log
cut short is treated as if the season ended there), and the week is in the
observation (``week_fraction``), so one network learns the finite-horizon
Q-function of every week.  Unsubscribed customers (``subscribed = 0``) can only
receive action 0: the other actions are masked in the maximum at ``s'``, in
the logsumexp, and when acting.

Rewards are divided by their standard deviation in the log (Q is learned in
those units and reported in dollars), which keeps the TD errors of weekly
margins, mostly 0 and now and then hundreds of dollars, in a range where one
learning rate works.

Saved policies are directories::

    agent.json      class, name, hyperparameters, action names, reward scale, package version
    q_network.pt    the Q-network's torch state dict
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.torch_layers import create_mlp
from torch import nn
from torch.nn import functional as F

import journeygym
from journeygym.agents.devices import check_device, resolve_device
from journeygym.baselines.base import Policy, check_observations
from journeygym.ope.episodes import LoggedEpisodes, episodes_from_frame

__all__ = ["DiscreteCQLPolicy", "LoggedTransitions", "allowed_actions", "q_network"]


class LoggedTransitions:
    """The customer-weeks of a log as flat tensors for Q-learning, rewards divided by ``reward_scale``.

    Rows are the ``N x H`` (customer, week) cells in order, so the next
    state of row ``k`` is row ``k + 1`` unless row ``k`` is terminal.

    Attributes
    ----------
    observations
        ``(N * H, D)`` float32 observations.
    outcomes
        ``(N * H, 3)`` float32: the logged action, the scaled reward, and 1.0
        where the week is the customer's last logged one (terminal); one
        tensor so that a minibatch is one gather.
    subscribed_column
        Position of the ``subscribed`` column in the observations.
    rows
        Indices of the logged (non-padding) rows, the transitions to sample.
    """

    def __init__(self, episodes: LoggedEpisodes, reward_scale: float) -> None:
        n, horizon, width = episodes.observations.shape
        # np.asarray: the observations may be a compact WeeklyObservations (journeygym.ope.observation_store).
        full = np.asarray(episodes.observations)
        self.observations = torch.from_numpy(np.ascontiguousarray(full.reshape(n * horizon, width)))
        next_logged = np.zeros_like(episodes.mask)
        next_logged[:, :-1] = episodes.mask[:, 1:]
        outcomes = np.stack([episodes.actions, episodes.rewards / reward_scale, ~next_logged], axis=-1)
        self.outcomes = torch.from_numpy(outcomes.reshape(n * horizon, 3).astype(np.float32))
        self.subscribed_column = episodes.observation_names.index("subscribed")
        self.rows = torch.from_numpy(np.flatnonzero(episodes.mask.reshape(-1)))

    def __len__(self) -> int:
        return int(self.rows.numel())

    def to(self, device: torch.device) -> LoggedTransitions:
        """Move the tensors to ``device`` (a no-op on the CPU); returns ``self``."""
        self.observations, self.outcomes, self.rows = (t.to(device) for t in (self.observations, self.outcomes, self.rows))
        return self


def allowed_actions(subscribed: torch.Tensor, n_actions: int) -> torch.Tensor:
    """``(n, A)`` bool: action 0 always, the e-mails only for subscribed customers."""
    allowed = subscribed[:, None].expand(-1, n_actions).clone()
    allowed[:, 0] = True
    return allowed


def q_network(n_inputs: int, n_actions: int, net_arch: Sequence[int]) -> nn.Sequential:
    """A ReLU MLP from observations to one Q-value per action (Stable-Baselines3's ``create_mlp``)."""
    return nn.Sequential(*create_mlp(n_inputs, n_actions, list(net_arch)))


class DiscreteCQLPolicy(Policy):
    """Greedy policy of a Q-network trained offline by discrete CQL on a campaign log.

    Parameters
    ----------
    name
        Label in result tables.
    alpha
        Weight of the CQL(H) regularizer; 0 is offline double DQN.  On a
        randomized log every action is tried everywhere and the regularizer,
        which pulls ``softmax(Q)`` towards the logged action frequencies,
        mostly flattens the small differences between actions: larger values
        lost return in the simulator (0.1 and 1 clearly, 0.01 slightly).  The
        small default keeps a little conservatism for logs whose targeting
        leaves some actions rare.
    gamma
        Discount of the Q-learning targets.  The evaluation reports the
        undiscounted season return, but 0.99 (the default) did as well as 1.0
        or better in the simulator, with less variance between seeds: the
        discount shortens the chain of bootstrapped targets.
    learning_rate
        Adam step size at the start.
    learning_rate_decay
        Decay the step size linearly to 0 over the gradient steps, so the
        network settles instead of stopping at a random point of its last
        fluctuations (the e-mails' effects are small next to the reward noise).
    batch_size
        Transitions per gradient step, sampled uniformly with replacement.
    gradient_steps
        Number of gradient steps of one :meth:`fit`; the default takes one to
        one and a half minutes on one CPU thread, whatever the size of the log
        (15,000 steps lost return in the simulator).
    net_arch
        Hidden layer widths of the Q-network's MLP.
    tau
        Polyak coefficient of the target network's update (1.0: a copy).
    target_update_interval
        Gradient steps between target-network updates.
    max_grad_norm
        Gradient norm clipping.
    huber_delta
        Threshold of the Huber TD loss, in units of the reward scale.  Weekly
        margins are mostly 0 and now and then tens of standard deviations
        (a purchase); below the threshold the loss is squared and fits the
        mean, beyond it linear and pulls towards the median, the zero weeks.
        At 1 (DQN's usual value) the purchases that make the return hardly
        count; 10 keeps most of them in the mean and still damps the rare
        largest ones.
    seed
        Seeds the network initialization and the minibatch sampling.
    device
        Where the gradient steps run: ``"cpu"`` (the default and the tested
        one), ``"auto"`` (a GPU when torch sees one) or ``"cuda"``
        (:mod:`journeygym.agents.devices`).  The minibatches are drawn on the
        CPU either way, so a device changes only the floating-point rounding;
        the trained network acts on the CPU.

    Attributes
    ----------
    reward_scale_
        Standard deviation of the logged rewards (dollars); Q is learned in these units.
    action_names_
        The log's action names.
    training_summary_
        Means of the TD loss, the CQL term and Q(s, a) over the last tenth of training, and the fit time.
    """

    name = "cql"
    trains_on = "logged_data"

    def __init__(
        self,
        name: str = "cql",
        *,
        alpha: float = 0.01,
        gamma: float = 0.99,
        learning_rate: float = 1e-3,
        learning_rate_decay: bool = True,
        batch_size: int = 512,
        gradient_steps: int = 20_000,
        net_arch: Sequence[int] = (64, 64),
        tau: float = 1.0,
        target_update_interval: int = 250,
        max_grad_norm: float = 10.0,
        huber_delta: float = 10.0,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        self.name = name
        self.alpha = _number("alpha", alpha, low=0.0)
        self.gamma = _number("gamma", gamma, low=0.0, high=1.0)
        self.learning_rate = _number("learning_rate", learning_rate, low=0.0, strict=True)
        self.learning_rate_decay = bool(learning_rate_decay)
        self.batch_size = _integer("batch_size", batch_size)
        self.gradient_steps = _integer("gradient_steps", gradient_steps)
        self.net_arch = tuple(_integer("net_arch", width) for width in net_arch)
        self.tau = _number("tau", tau, low=0.0, high=1.0, strict=True)
        self.target_update_interval = _integer("target_update_interval", target_update_interval)
        self.max_grad_norm = _number("max_grad_norm", max_grad_norm, low=0.0, strict=True)
        self.huber_delta = _number("huber_delta", huber_delta, low=0.0, strict=True)
        self.seed = _integer("seed", seed, low=0)
        self.device = check_device(device, name)
        self.q_network: nn.Sequential | None = None
        self.reward_scale_: float | None = None
        self.action_names_: tuple[str, ...] | None = None
        self.observation_names_: tuple[str, ...] | None = None
        self.training_summary_: dict[str, float] = {}

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters (recorded with every result)."""
        return {
            "alpha": self.alpha,
            "gamma": self.gamma,
            "learning_rate": self.learning_rate,
            "learning_rate_decay": self.learning_rate_decay,
            "batch_size": self.batch_size,
            "gradient_steps": self.gradient_steps,
            "net_arch": list(self.net_arch),
            "tau": self.tau,
            "target_update_interval": self.target_update_interval,
            "max_grad_norm": self.max_grad_norm,
            "huber_delta": self.huber_delta,
            "seed": self.seed,
            "device": self.device,
        }

    # ----------------------------------------------------------------- training
    def fit(self, logged_data: Any) -> DiscreteCQLPolicy:
        """Train the Q-network from scratch on a campaign log.

        Parameters
        ----------
        logged_data
            A table in the logged-data schema (``simulate_logged_data``,
            ``read_logged_data`` or a user's own log; propensities are not
            needed), or the log already read as :class:`~journeygym.ope.LoggedEpisodes`.

        Returns
        -------
        DiscreteCQLPolicy
            ``self``, trained.

        Raises
        ------
        OPEInputError
            The log lacks the observation, action or reward columns, or is not
            a log (see :func:`journeygym.ope.episodes_from_frame`).
        """
        started = time.perf_counter()
        episodes = logged_data if isinstance(logged_data, LoggedEpisodes) else episodes_from_frame(logged_data)
        rewards = episodes.rewards[episodes.mask]
        scale = float(rewards.std())
        self.reward_scale_ = scale if scale > 0 else 1.0
        self.action_names_ = episodes.action_names
        self.observation_names_ = episodes.observation_names
        device = torch.device(resolve_device(self.device))
        data = LoggedTransitions(episodes, self.reward_scale_).to(device)

        generator = torch.Generator().manual_seed(self.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            online = q_network(data.observations.shape[1], episodes.n_actions, self.net_arch).to(device)
        target = copy.deepcopy(online).requires_grad_(False)
        optimizer = torch.optim.Adam(online.parameters(), lr=self.learning_rate, foreach=True)
        end_factor = 0.0 if self.learning_rate_decay else 1.0
        schedule = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, end_factor, total_iters=self.gradient_steps)

        tail = max(1, self.gradient_steps // 10)
        history = torch.zeros(tail, 3, device=device)
        for step in range(self.gradient_steps):
            rows = data.rows[torch.randint(len(data), (self.batch_size,), generator=generator).to(device)]
            td_loss, conservative, q_taken = self._losses(online, target, data, rows)
            loss = td_loss + self.alpha * conservative
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(online.parameters(), self.max_grad_norm, foreach=True)
            optimizer.step()
            schedule.step()
            if (step + 1) % self.target_update_interval == 0:
                _polyak_update(online, target, self.tau)
            if step >= self.gradient_steps - tail:
                history[step - (self.gradient_steps - tail)] = torch.stack([td_loss, conservative, q_taken]).detach()
        self.q_network = online.to("cpu").eval().requires_grad_(False)
        means = history.mean(dim=0).tolist()
        self.training_summary_ = {
            "td_loss": means[0],
            "cql_term": means[1],
            "mean_q_logged_dollars": means[2] * self.reward_scale_,
            "n_transitions": float(len(data)),
            "fit_seconds": time.perf_counter() - started,
        }
        return self

    def _losses(
        self, online: nn.Module, target: nn.Module, data: LoggedTransitions, rows: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """TD loss, CQL(H) term and mean Q(s, a) of one minibatch of transition rows."""
        size = rows.numel()
        outcomes = data.outcomes[rows]
        actions, rewards, done = outcomes[:, 0].long(), outcomes[:, 1], outcomes[:, 2]
        next_rows = torch.where(done > 0, rows, rows + 1)  # a terminal row's successor is multiplied by 0
        # s and s' in one forward pass: the network is small, so the calls' overhead is what costs.
        observations = data.observations[torch.cat([rows, next_rows])]
        allowed = allowed_actions(observations[:, data.subscribed_column] > 0.5, len(self.action_names_ or ()))
        q_both = online(observations)
        q_all, allowed_now = q_both[:size], allowed[:size]
        with torch.no_grad():
            next_action = q_both[size:].masked_fill(~allowed[size:], -torch.inf).argmax(dim=1, keepdim=True)
            next_value = target(observations[size:]).gather(1, next_action).squeeze(1)
            targets = rewards + self.gamma * (1.0 - done) * next_value
        q_taken = q_all.gather(1, actions[:, None]).squeeze(1)
        td_loss = F.huber_loss(q_taken, targets, delta=self.huber_delta)
        conservative = (torch.logsumexp(q_all.masked_fill(~allowed_now, -torch.inf), dim=1) - q_taken).mean()
        return td_loss, conservative, q_taken.detach().mean()

    # ----------------------------------------------------------------- acting
    def q_values(self, observations: np.ndarray) -> np.ndarray:
        """``(n, A)`` estimated value (dollars) of each action, ``-inf`` for e-mails to unsubscribed customers."""
        if self.q_network is None or self.action_names_ is None or self.observation_names_ is None or self.reward_scale_ is None:
            raise RuntimeError(f"{self.name}: the policy is not trained; call fit(logged_data) or load(path) first.")
        observations = check_observations(observations)
        width = len(self.observation_names_)
        if observations.shape[1] != width:
            raise ValueError(
                f"{self.name}: observations have {observations.shape[1]} columns, expected {width} (the observation "
                f"of the actions {list(self.action_names_)} the policy was trained on)."
            )
        subscribed_column = self.observation_names_.index("subscribed")
        inputs = torch.as_tensor(observations, dtype=torch.float32)
        with torch.no_grad():
            q = self.q_network(inputs) * self.reward_scale_
            allowed = allowed_actions(inputs[:, subscribed_column] > 0.5, len(self.action_names_))
            q = q.masked_fill(~allowed, -torch.inf)
        return q.numpy().astype(np.float64)

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The action of highest Q among those allowed (action 0 for unsubscribed customers)."""
        return self.q_values(observations).argmax(axis=1).astype(np.int64)

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trained policy to the directory ``path`` (created if needed)."""
        if self.q_network is None:
            raise RuntimeError(f"{self.name}: nothing to save; call fit(logged_data) first.")
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(self.q_network.state_dict(), directory / "q_network.pt")
        settings = {
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "journeygym_version": journeygym.__version__,
            "name": self.name,
            "params": self.get_params(),
            "action_names": list(self.action_names_ or ()),
            "observation_names": list(self.observation_names_ or ()),
            "reward_scale": self.reward_scale_,
            "training_summary": self.training_summary_,
        }
        (directory / "agent.json").write_text(json.dumps(settings, indent=2))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DiscreteCQLPolicy:
        """Read a policy written by :meth:`save`."""
        directory = Path(path)
        settings_file, weights_file = directory / "agent.json", directory / "q_network.pt"
        if not settings_file.is_file() or not weights_file.is_file():
            raise FileNotFoundError(
                f"{cls.__name__}.load: {str(directory)!r} lacks agent.json or q_network.pt; expected a directory "
                "written by save(path)."
            )
        settings = json.loads(settings_file.read_text())
        policy = cls(settings["name"], **settings["params"])
        policy.action_names_ = tuple(settings["action_names"])
        policy.observation_names_ = tuple(settings["observation_names"])
        policy.reward_scale_ = float(settings["reward_scale"])
        policy.training_summary_ = dict(settings.get("training_summary", {}))
        network = q_network(len(policy.observation_names_), len(policy.action_names_), policy.net_arch)
        network.load_state_dict(torch.load(weights_file, weights_only=True))
        policy.q_network = network.eval().requires_grad_(False)
        return policy


def _polyak_update(online: nn.Module, target: nn.Module, tau: float) -> None:
    with torch.no_grad():
        for source, destination in zip(online.parameters(), target.parameters(), strict=True):
            destination.lerp_(source, tau)


def _number(name: str, value: Any, *, low: float, high: float = np.inf, strict: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and np.isfinite(value) and (value > low if strict else value >= low) and value <= high
    if not ok:
        bound = f"{'>' if strict else '>='} {low}" + (f" and <= {high}" if np.isfinite(high) else "")
        raise ValueError(f"DiscreteCQLPolicy: {name} received {value!r}, expected a finite number {bound}.")
    return float(value)


def _integer(name: str, value: Any, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"DiscreteCQLPolicy: {name} received {value!r}, expected an integer >= {low}.")
    return int(value)
