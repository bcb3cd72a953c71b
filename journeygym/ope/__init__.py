"""Off-policy evaluation: what a policy would earn, estimated from a campaign log alone.

A log (the logged-data schema of :mod:`journeygym.baselines.logged_data`) is
read as episodes (:func:`episodes_from_frame`); a target policy's action
probabilities on the logged observations (:func:`target_probabilities`)
reweight it.  The estimators (:mod:`journeygym.ope.estimators`) cover the
direct method by fitted-Q evaluation (:mod:`journeygym.ope.fitted_q`),
importance sampling in its trajectory-wise, per-decision and self-normalized
forms, and the doubly robust estimators, each with a bootstrap interval over
customers and, for the importance-sampling ones, high-confidence lower bounds
(:mod:`journeygym.ope.bounds`).  A simulated log has what no real log has, the
true value of every policy on the same customers (:mod:`journeygym.ope.truth`),
so :mod:`journeygym.ope.assessment` scores the estimators against it.

What a user needs, imported on first use::

    from journeygym.ope import episodes_from_frame, evaluate_policies, assess
"""

from typing import TYPE_CHECKING

from journeygym.lazy import lazy_attributes

_EXPORTS: dict[str, str] = {
    "LoggedEpisodes": "journeygym.ope.episodes",
    "OPEInputError": "journeygym.ope.episodes",
    "episodes_from_frame": "journeygym.ope.episodes",
    "target_probabilities": "journeygym.ope.target",
    "check_support": "journeygym.ope.target",
    "FittedQ": "journeygym.ope.fitted_q",
    "fit_q_evaluation": "journeygym.ope.fitted_q",
    "fit_q_iteration": "journeygym.ope.fitted_q",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from journeygym.ope.episodes import LoggedEpisodes, OPEInputError, episodes_from_frame
    from journeygym.ope.fitted_q import FittedQ, fit_q_evaluation, fit_q_iteration
    from journeygym.ope.target import check_support, target_probabilities

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
