"""The purchase HMM as a scikit-learn estimator, model selection and the belief given recency."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from journeygym.arguments import option_setting
from journeygym.errors import DataValidationError
from journeygym.calibration.hmm.em import run_em
from journeygym.calibration.hmm.inference import forward, sample_paths, viterbi
from journeygym.calibration.hmm.params import HMMParams, params_from_dict, random_params
from journeygym.calibration.hmm.sequences import Sequences, SequenceBatch, anchor_events, padded_array, prepare_batch
from journeygym.calibration.weekly import WeeklySequences

__all__ = [
    "MIN_CUSTOMERS_PER_STATE",
    "STATE_NAMES",
    "PurchaseHMM",
    "check_customers_per_state",
    "initial_state_given_recency",
    "select_n_states",
]

STATE_NAMES = ("Dormant", "Exploring", "Engaged", "HighlyEngaged", "Buyer")

#: Fewest customers per hidden state that a fit on a user's log accepts (``journeygym fit-hmm``).  A
#: state's purchase probability and transitions are estimated from the customers who pass through it:
#: with a handful of customers, EM gives whole states to single customers' weeks -- weekly purchase
#: probabilities of exactly 0 or 1 -- and still "converges".  20 per state keeps every state's estimate
#: resting on several customers; CDNOW (23,570 customers) is far above it for any K tried.
MIN_CUSTOMERS_PER_STATE = 20


def check_customers_per_state(n_customers: int, n_states: int, setting: str | None = None) -> None:
    """Refuse a fit of ``n_states`` hidden states on fewer than ``MIN_CUSTOMERS_PER_STATE * n_states`` customers.

    Parameters
    ----------
    n_customers
        Customers with at least one observed week.
    n_states
        Hidden states K of the fit.
    setting
        How the caller set K, for the message (default: ``n_states=K``, or the command's flag).

    Raises
    ------
    DataValidationError
        Giving the numbers: customers received, customers needed, and the most states the log supports.
    """
    needed = MIN_CUSTOMERS_PER_STATE * n_states
    if n_customers >= needed:
        return
    asked = setting or option_setting("n_states", n_states)
    supported = n_customers // MIN_CUSTOMERS_PER_STATE
    fix = (
        f"Bring a log with at least {needed} customers, or fit at most {supported} state(s) "
        f"({option_setting('n_states', supported)} needs {supported * MIN_CUSTOMERS_PER_STATE} customers)."
        if supported >= 1
        else f"Bring a log with at least {needed} customers ({MIN_CUSTOMERS_PER_STATE} for a single state)."
    )
    raise DataValidationError(
        f"{n_customers} customer(s) with observed weeks, too few for {n_states} hidden states ({asked}): expected at "
        f"least {MIN_CUSTOMERS_PER_STATE} customers per state, {needed} in all. A state's weekly purchase probability "
        "and transitions are estimated from the customers who pass through it; with fewer, EM gives states to single "
        f"customers' weeks (purchase probabilities of 0 or 1) and still reports convergence. {fix}"
    )


class PurchaseHMM(BaseEstimator):
    """Categorical HMM of weekly purchases, fitted by EM over all customers.

    Parameters
    ----------
    n_states
        Number of hidden states K.
    n_restarts
        Number of EM runs from different random initializations; the run
        with the highest log-likelihood is kept.
    max_iter
        Maximum number of EM iterations per run.
    tol
        Convergence tolerance on the relative log-likelihood improvement of
        one iteration: a run stops when
        ``loglik_new - loglik_old < tol * |loglik_new|``.
    seed
        Seed of ``np.random.default_rng`` for the random initializations.
    init_params
        Optional starting point for the first run: a dict with keys
        ``"startprob"`` (K,), ``"transmat"`` (K, K) and ``"emissionprob"``
        (K, M). The remaining ``n_restarts - 1`` runs start at random.

    Attributes
    ----------
    startprob_, transmat_, emissionprob_
        Fitted parameters; states ordered by ``purchase_prob_`` ascending.
    purchase_prob_
        (K,) weekly purchase probability per state, 1 - emissionprob_[:, 0].
    state_names_
        Tuple of K names (:data:`STATE_NAMES` when K = 5).
    loglik_
        Log-likelihood of the training sequences under the fitted parameters.
    n_iter_, converged_
        EM iterations and convergence flag of the kept run.
    restart_logliks_
        (n_restarts,) final log-likelihood of every run.
    loglik_history_
        Log-likelihood before the first and after every iteration of the kept
        run (non-decreasing up to rounding).
    n_symbols_
        Number of observation symbols M.
    """

    def __init__(
        self,
        n_states: int = 5,
        n_restarts: int = 8,
        max_iter: int = 200,
        tol: float = 1e-6,
        seed: int = 0,
        init_params: dict[str, Any] | None = None,
    ) -> None:
        self.n_states = n_states
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.init_params = init_params

    # -- fitting -------------------------------------------------------------

    def fit(self, sequences: Sequences, y: None = None) -> PurchaseHMM:
        """Fit by EM with random restarts.

        Parameters
        ----------
        sequences
            :class:`WeeklySequences`, or an integer array (n_customers, T) of
            symbols 0..M-1 padded at the end with -1.
        y
            Ignored (scikit-learn convention).

        Returns
        -------
        PurchaseHMM
            The fitted estimator.
        """
        self._check_hyperparameters()
        events = anchor_events(sequences)
        n_symbols = self._infer_n_symbols(sequences, events.max_symbol)
        if events.max_symbol >= n_symbols:
            raise DataValidationError(
                f"init_params['emissionprob'] has {n_symbols} symbols, but the "
                f"sequences contain symbol {events.max_symbol}; give one column "
                "per symbol."
            )
        rng = np.random.default_rng(self.seed)
        results = []
        # The matrix products here are tiny; BLAS threads would only spin.
        with threadpool_limits(limits=1, user_api="blas"):
            for restart in range(self.n_restarts):
                # Always drawn, so restarts 1.. start at the same random points
                # whether or not init_params replaces restart 0.
                init = random_params(rng, self.n_states, n_symbols)
                if restart == 0 and self.init_params is not None:
                    init = params_from_dict(self.init_params, self.n_states, n_symbols)
                results.append(run_em(events, init, self.max_iter, self.tol))
        best = max(results, key=lambda r: r.loglik)
        self._set_fitted_params(best.params, n_symbols)
        self.loglik_ = best.loglik
        self.n_iter_ = best.n_iter
        self.converged_ = best.converged
        self.loglik_history_ = best.history
        self.restart_logliks_ = np.array([r.loglik for r in results])
        return self

    @classmethod
    def from_params(
        cls, startprob: np.ndarray, transmat: np.ndarray, emissionprob: np.ndarray
    ) -> PurchaseHMM:
        """A ready-to-use model with given parameters (e.g. a stored fit).

        Parameters
        ----------
        startprob
            (K,) initial state distribution.
        transmat
            (K, K) transition matrix, rows summing to 1.
        emissionprob
            (K, M) emission probabilities, column 0 = no purchase.

        Returns
        -------
        PurchaseHMM
            With the fitted attributes set (states reordered by purchase
            probability, as after :meth:`fit`); ``loglik_`` and the other
            fit diagnostics are not set.
        """
        emissionprob = np.asarray(emissionprob, dtype=np.float64)
        n_states, n_symbols = emissionprob.shape
        params = params_from_dict(
            {"startprob": startprob, "transmat": transmat, "emissionprob": emissionprob},
            n_states,
            n_symbols,
        )
        model = cls(n_states=n_states)
        model._set_fitted_params(params, n_symbols)
        return model

    def _set_fitted_params(self, params: HMMParams, n_symbols: int) -> None:
        order = np.argsort(1.0 - params.emission[:, 0], kind="stable")
        self.startprob_ = params.startprob[order]
        self.transmat_ = params.transmat[np.ix_(order, order)]
        self.emissionprob_ = params.emission[order]
        self.purchase_prob_ = 1.0 - self.emissionprob_[:, 0]
        self.state_names_ = (
            STATE_NAMES if self.n_states == len(STATE_NAMES)
            else tuple(f"state_{k}" for k in range(self.n_states))
        )
        self.n_symbols_ = n_symbols

    def _check_hyperparameters(self) -> None:
        checks = {
            "n_states": isinstance(self.n_states, (int, np.integer)) and self.n_states >= 1,
            "n_restarts": isinstance(self.n_restarts, (int, np.integer)) and self.n_restarts >= 1,
            "max_iter": isinstance(self.max_iter, (int, np.integer)) and self.max_iter >= 0,
            "tol": np.isscalar(self.tol) and self.tol >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = {name: getattr(self, name) for name in bad}
            raise ValueError(
                f"Invalid hyperparameters {values}: n_states and n_restarts "
                "must be positive integers, max_iter a non-negative integer, "
                "tol a non-negative number."
            )

    def _infer_n_symbols(self, sequences: Sequences, max_symbol: int) -> int:
        if self.init_params is not None and "emissionprob" in self.init_params:
            return int(np.shape(self.init_params["emissionprob"])[-1])
        observed = max_symbol + 1
        if isinstance(sequences, WeeklySequences):
            return max(WeeklySequences.n_symbols, observed)
        return max(2, observed)

    # -- inference -----------------------------------------------------------

    def _fitted_params(self) -> HMMParams:
        check_is_fitted(self, ["startprob_", "transmat_", "emissionprob_"])
        return HMMParams(self.startprob_, self.transmat_, self.emissionprob_)

    def _forward_batch(self, seqs: Sequences) -> tuple[SequenceBatch, np.ndarray, np.ndarray]:
        params = self._fitted_params()
        batch = prepare_batch(seqs, self.n_symbols_)
        alpha = np.zeros((batch.n_weeks, self.n_states, batch.n_unique))
        inv_scale = np.ones((batch.n_weeks, batch.n_unique))
        with np.errstate(divide="ignore"):  # an impossible sequence has loglik -inf
            loglik_u = forward(batch, params, alpha, inv_scale)
        return batch, alpha, loglik_u

    def score_samples(self, seqs: Sequences) -> np.ndarray:
        """Log-likelihood of each sequence.

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            (n_customers,) float64; 0 for an empty (all padding) sequence.
        """
        batch, _, loglik_u = self._forward_batch(seqs)
        return loglik_u[batch.row]

    def score(self, seqs: Sequences, y: None = None) -> float:
        """Total log-likelihood of the sequences.

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.
        y
            Ignored.

        Returns
        -------
        float
        """
        batch, _, loglik_u = self._forward_batch(seqs)
        return float(batch.weight @ loglik_u)

    @property
    def n_params_(self) -> int:
        """Free parameters: (K-1) start + K(K-1) transition + K(M-1) emission."""
        check_is_fitted(self, "n_symbols_")
        k, m = self.n_states, self.n_symbols_
        return (k - 1) + k * (k - 1) + k * (m - 1)

    def bic(self, seqs: Sequences) -> float:
        """Bayesian information criterion, ``-2 loglik + n_params log n_obs``.

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.

        Returns
        -------
        float
            Lower is better. ``n_obs`` is the number of observed weeks.
        """
        n_obs = int((padded_array(seqs) >= 0).sum())
        return -2.0 * self.score(seqs) + self.n_params_ * np.log(n_obs)

    def filter(self, seqs: Sequences) -> np.ndarray:
        """Forward-filtered state probabilities P(z_t | obs_0..t).

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            (n_customers, T, K) float64; rows sum to 1 inside each sequence
            and are NaN at padded weeks.
        """
        batch, alpha, _ = self._forward_batch(seqs)
        beliefs = alpha.transpose(2, 0, 1)[batch.row]
        lengths = batch.lengths[batch.row]
        beliefs[np.arange(batch.n_weeks)[None, :] >= lengths[:, None]] = np.nan
        return beliefs

    def predict(self, seqs: Sequences) -> np.ndarray:
        """Most likely state paths (Viterbi), all customers at once.

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            (n_customers, T) int8 state indices, -1 at padded weeks.
        """
        params = self._fitted_params()
        batch = prepare_batch(seqs, self.n_symbols_)
        paths = viterbi(batch, params)
        return np.ascontiguousarray(paths.T[batch.row])

    def sample(
        self, n: int, T: int, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw sequences from the fitted model.

        Parameters
        ----------
        n
            Number of sequences.
        T
            Weeks per sequence.
        rng
            Generator or seed for ``np.random.default_rng``.

        Returns
        -------
        obs, states
            Two (n, T) int8 arrays: observed symbols and hidden states.
        """
        p = self._fitted_params()
        return sample_paths(p, n, T, np.random.default_rng(rng))


def select_n_states(
    seqs: Sequences, ks: tuple[int, ...] = (2, 3, 4, 5, 6), **kw: Any
) -> pd.DataFrame:
    """Fit one model per number of states and report BIC.

    Parameters
    ----------
    seqs
        Sequences as accepted by :meth:`PurchaseHMM.fit`.
    ks
        Numbers of states to try.
    **kw
        Other :class:`PurchaseHMM` arguments (n_restarts, seed, ...).

    Returns
    -------
    pandas.DataFrame
        Columns K, loglik, n_params, BIC; one row per K, in the order of
        ``ks``. The lowest BIC is the preferred K.
    """
    rows = []
    for k in ks:
        model = PurchaseHMM(n_states=k, **kw).fit(seqs)
        rows.append(
            {"K": k, "loglik": model.loglik_, "n_params": model.n_params_, "BIC": model.bic(seqs)}
        )
    return pd.DataFrame(rows, columns=["K", "loglik", "n_params", "BIC"])


def initial_state_given_recency(model: PurchaseHMM, recency_weeks: np.ndarray) -> np.ndarray:
    """Belief over the hidden state of a customer who last bought r weeks ago.

    Forward-filters the observation sequence "a purchase, then r weeks without
    purchase" from ``startprob_``. The purchase week uses the likelihood of
    the event "some purchase, amount unknown", P(obs != 0 | z) =
    ``purchase_prob_`` (the sum of the purchase emission columns 1..M-1): the
    exact likelihood when the amount class is not known, not an average over
    classes. Each following week multiplies by P(obs = 0 | z).

    Parameters
    ----------
    model
        A fitted :class:`PurchaseHMM`.
    recency_weeks
        Weeks since the last purchase, >= 0 (rounded to whole weeks; e.g.
        Hillstrom's recency in months times 4.35).

    Returns
    -------
    numpy.ndarray
        (len(recency_weeks), K) beliefs; each row sums to 1.
    """
    p = model._fitted_params()
    r = np.atleast_1d(np.asarray(recency_weeks, dtype=np.float64))
    if r.ndim != 1 or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise DataValidationError(
            "recency_weeks must be a 1-D array of finite values >= 0; received "
            f"shape {r.shape} with min {np.nanmin(r) if r.size else None}."
        )
    weeks = np.rint(r).astype(np.intp)
    n_rows = int(weeks.max(initial=0)) + 1
    beliefs = np.empty((n_rows, len(p.startprob)))
    belief = p.startprob * model.purchase_prob_
    beliefs[0] = belief / belief.sum()
    for i in range(1, n_rows):
        belief = (beliefs[i - 1] @ p.transmat) * p.emission[:, 0]
        beliefs[i] = belief / belief.sum()
    return beliefs[weeks]
