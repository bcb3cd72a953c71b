"""Variants of Stable-Baselines3's DQN: double Q-learning and the dueling network.

**Double Q-learning** (van Hasselt, Guez & Silver 2016, :class:`DoubleDQN`).

DQN's target ``r + gamma * max_a Q_target(s', a)`` takes the maximum of noisy
estimates, so it is biased upwards, and most where the actions' true values are
close.  Here they are close: over a season, one e-mail moves a customer's value by
cents on a value of dollars.  Double DQN picks the next action with the online
network and values it with the target network, which removes that maximum's bias.

Only the target differs from SB3's :class:`~stable_baselines3.DQN`: replay,
exploration, target-network updates, saving and loading are SB3's.

**The dueling network** (Wang et al. 2016, :class:`DuelingDQNPolicy`): the Q-network's
last hidden layer feeds a state value ``V(s)`` and advantages ``A(s, a)``, combined as
``V(s) + A(s, a) - mean_a A(s, a)``.  Where the actions' values differ by little
against the state's value, as here, the advantages are learned on their own scale
instead of as small differences between large outputs.
"""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn
from torch.nn import functional as F

__all__ = ["DoubleDQN", "DuelingDQNPolicy", "DuelingHead"]


class DoubleDQN(DQN):
    """:class:`~stable_baselines3.DQN` with the double-Q target (same arguments)."""

    def _next_state_values(self, next_observations: torch.Tensor) -> torch.Tensor:
        """Q_target(s', argmax_a Q_online(s', a)), shape (batch, 1)."""
        greedy = self.q_net(next_observations).argmax(dim=1, keepdim=True)
        return torch.gather(self.q_net_target(next_observations), dim=1, index=greedy)

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses = []
        for _ in range(gradient_steps):
            batch = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = batch.discounts if batch.discounts is not None else self.gamma
            with torch.no_grad():
                targets = batch.rewards + (1 - batch.dones) * discounts * self._next_state_values(batch.next_observations)
            chosen = torch.gather(self.q_net(batch.observations), dim=1, index=batch.actions.long())
            loss = F.smooth_l1_loss(chosen, targets)
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))


class DuelingHead(nn.Module):
    """``V(h) + A(h, a) - mean_a A(h, a)`` on the hidden layers ``net_arch`` over the features."""

    def __init__(self, features_dim: int, n_actions: int, net_arch: list[int], activation_fn: type[nn.Module]) -> None:
        super().__init__()
        self.trunk = nn.Sequential(*create_mlp(features_dim, -1, net_arch, activation_fn))
        width = net_arch[-1] if net_arch else features_dim
        self.value = nn.Linear(width, 1)
        self.advantage = nn.Linear(width, n_actions)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = self.trunk(features)
        advantages = self.advantage(hidden)
        return self.value(hidden) + advantages - advantages.mean(dim=1, keepdim=True)


class DuelingDQNPolicy(DQNPolicy):
    """SB3's ``MlpPolicy`` for DQN with a :class:`DuelingHead` in the online and the target network."""

    def make_q_net(self) -> QNetwork:
        network = QNetwork(**self._update_features_extractor(self.net_args, features_extractor=None))
        network.q_net = DuelingHead(network.features_dim, int(self.action_space.n), network.net_arch, network.activation_fn)
        return network.to(self.device)
