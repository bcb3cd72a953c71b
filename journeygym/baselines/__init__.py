"""Targeting baselines: scoring models and the policies built on them, the simple policies, the oracle.

The oracle's bound under a contact budget is :func:`solve_budgeted_oracle`.

What a user needs, imported on first use::

    from journeygym.baselines import Policy, make_policy, OraclePolicy, LTVUpliftPolicy, ScoringModels
"""

from typing import TYPE_CHECKING

from journeygym.lazy import lazy_attributes

_EXPORTS: dict[str, str] = {
    "Policy": "journeygym.baselines.base",
    "ConstantPolicy": "journeygym.baselines.simple",
    "RandomPolicy": "journeygym.baselines.simple",
    "ScorePolicy": "journeygym.baselines.targeting",
    "LookAlikePolicy": "journeygym.baselines.targeting",
    "ExpectedLTVPolicy": "journeygym.baselines.targeting",
    "LTVUpliftPolicy": "journeygym.baselines.targeting",
    "ScoringModels": "journeygym.baselines.scoring",
    "OraclePolicy": "journeygym.baselines.oracle_policy",
    "solve_oracle": "journeygym.baselines.oracle",
    "BudgetedOracle": "journeygym.baselines.budgeted_oracle",
    "solve_budgeted_oracle": "journeygym.baselines.budgeted_oracle",
    "POLICY_NAMES": "journeygym.baselines.registry",
    "UnknownPolicyError": "journeygym.baselines.registry",
    "make_policy": "journeygym.baselines.registry",
    "register_policy": "journeygym.baselines.registry",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from journeygym.baselines.base import Policy
    from journeygym.baselines.budgeted_oracle import BudgetedOracle, solve_budgeted_oracle
    from journeygym.baselines.oracle import solve_oracle
    from journeygym.baselines.oracle_policy import OraclePolicy
    from journeygym.baselines.registry import POLICY_NAMES, UnknownPolicyError, make_policy, register_policy
    from journeygym.baselines.scoring import ScoringModels
    from journeygym.baselines.simple import ConstantPolicy, RandomPolicy
    from journeygym.baselines.targeting import ExpectedLTVPolicy, LookAlikePolicy, LTVUpliftPolicy, ScorePolicy

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
