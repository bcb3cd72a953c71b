"""Double deep Q-learning (van Hasselt, Guez & Silver 2016) on Stable-Baselines3's DQN.

DQN's target ``r + gamma * max_a Q_target(s', a)`` takes the maximum of noisy
estimates, so it is biased upwards, and most where the actions' true values are
close.  Here they are close: over a season, one e-mail moves a customer's value by
cents on a value of dollars.  Double DQN picks the next action with the online
network and values it with the target network, which removes that maximum's bias.

Only the target differs from SB3's :class:`~stable_baselines3.DQN`: replay,
exploration, target-network updates, saving and loading are SB3's.
"""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3 import DQN
from torch.nn import functional as F

__all__ = ["DoubleDQN"]


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
