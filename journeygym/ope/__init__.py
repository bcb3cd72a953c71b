"""Off-policy evaluation: what a policy would earn, estimated from a campaign log alone.

A log (the logged-data schema of :mod:`journeygym.baselines.logged_data`) is
read as episodes (:func:`episodes_from_frame`); a target policy's action
probabilities on the logged observations (:func:`target_probabilities`)
reweight it.  The estimators (:mod:`journeygym.ope.estimators`) cover the
direct method by fitted-Q evaluation (:mod:`journeygym.ope.fitted_q`, on
the observation, or also on the calibrated model's belief over the hidden
state, :mod:`journeygym.ope.belief`),
importance sampling in its trajectory-wise, per-decision and self-normalized
forms, the doubly robust estimators (per-decision, weighted, and MAGIC's
blend of truncations), and the marginal importance sampling and doubly robust
estimators on per-week state-distribution ratios learned from the log
(:mod:`journeygym.ope.ratios`), each with a bootstrap interval over
customers and, for the importance-sampling ones, high-confidence lower bounds
(:mod:`journeygym.ope.bounds`).  A simulated log has what no real log has, the
true value of every policy on the same customers (:mod:`journeygym.ope.truth`),
so :mod:`journeygym.ope.assessment` scores the estimators against it, and
:mod:`journeygym.ope.advice` turns those measurements and a log's overlap
into a recommendation: which estimator to trust for ranking, which for a
safe lower bound.
A log exports to a Minari dataset (Farama's offline-RL format) and reads back
(:mod:`journeygym.ope.minari_io`, the ``offline`` extra).

What a user needs, imported on first use::

    from journeygym.ope import episodes_from_frame, evaluate_policies, assess
"""

from typing import TYPE_CHECKING

from journeygym.lazy import lazy_attributes

_EXPORTS: dict[str, str] = {
    "FQE_FEATURES": "journeygym.ope.belief",
    "belief_features": "journeygym.ope.belief",
    "LoggedEpisodes": "journeygym.ope.episodes",
    "OPEInputError": "journeygym.ope.episodes",
    "episodes_from_frame": "journeygym.ope.episodes",
    "target_probabilities": "journeygym.ope.target",
    "check_support": "journeygym.ope.target",
    "ESTIMATORS": "journeygym.ope.estimators",
    "IMPORTANCE_ESTIMATORS": "journeygym.ope.estimators",
    "MARGINAL_ESTIMATORS": "journeygym.ope.estimators",
    "MODEL_ESTIMATORS": "journeygym.ope.estimators",
    "Estimate": "journeygym.ope.estimators",
    "estimate": "journeygym.ope.estimators",
    "estimate_all": "journeygym.ope.estimators",
    "BehaviorModel": "journeygym.ope.behavior",
    "OverlapDiagnostics": "journeygym.ope.behavior",
    "behavior_probabilities": "journeygym.ope.behavior",
    "estimate_behavior_policy": "journeygym.ope.behavior",
    "fit_behavior_model": "journeygym.ope.behavior",
    "overlap_diagnostics": "journeygym.ope.behavior",
    "cumulative_weights": "journeygym.ope.weights",
    "effective_sample_size": "journeygym.ope.weights",
    "importance_ratios": "journeygym.ope.weights",
    "TrueValue": "journeygym.ope.truth",
    "true_values": "journeygym.ope.truth",
    "true_values_of_log": "journeygym.ope.truth",
    "Advice": "journeygym.ope.advice",
    "advise": "journeygym.ope.advice",
    "assess": "journeygym.ope.assessment",
    "assess_over_seeds": "journeygym.ope.assessment",
    "OPEResult": "journeygym.ope.evaluate",
    "PolicyEvaluation": "journeygym.ope.evaluate",
    "evaluate_policies": "journeygym.ope.evaluate",
    "export_minari": "journeygym.ope.minari_io",
    "load_minari": "journeygym.ope.minari_io",
    "RATIO_LEARNERS": "journeygym.ope.ratios",
    "StateRatios": "journeygym.ope.ratios",
    "fit_state_ratios": "journeygym.ope.ratios",
    "FittedQ": "journeygym.ope.fitted_q",
    "fit_q_evaluation": "journeygym.ope.fitted_q",
    "fit_q_iteration": "journeygym.ope.fitted_q",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from journeygym.ope.episodes import LoggedEpisodes, OPEInputError, episodes_from_frame
    from journeygym.ope.belief import FQE_FEATURES, belief_features
    from journeygym.ope.advice import Advice, advise
    from journeygym.ope.assessment import assess, assess_over_seeds
    from journeygym.ope.behavior import (
        BehaviorModel,
        OverlapDiagnostics,
        behavior_probabilities,
        estimate_behavior_policy,
        fit_behavior_model,
        overlap_diagnostics,
    )
    from journeygym.ope.estimators import (
        ESTIMATORS,
        IMPORTANCE_ESTIMATORS,
        MARGINAL_ESTIMATORS,
        MODEL_ESTIMATORS,
        Estimate,
        estimate,
        estimate_all,
    )
    from journeygym.ope.evaluate import OPEResult, PolicyEvaluation, evaluate_policies
    from journeygym.ope.minari_io import export_minari, load_minari
    from journeygym.ope.fitted_q import FittedQ, fit_q_evaluation, fit_q_iteration
    from journeygym.ope.ratios import RATIO_LEARNERS, StateRatios, fit_state_ratios
    from journeygym.ope.target import check_support, target_probabilities
    from journeygym.ope.truth import TrueValue, true_values, true_values_of_log
    from journeygym.ope.weights import cumulative_weights, effective_sample_size, importance_ratios

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
