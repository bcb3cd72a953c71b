"""Categorical hidden Markov model of weekly purchases, fitted by EM.

The hidden state is a customer's engagement; each week emits one symbol
(0 = no purchase, 1..M-1 = purchase classes). Sequences are padded with -1 at
the end, and identical sequences are merged with a weight.

Two vectorized recursions do the work, both looping over steps along the
sequences (weeks, or purchases), never over customers:

* Inference (:meth:`PurchaseHMM.filter`, :meth:`~PurchaseHMM.score`,
  :meth:`~PurchaseHMM.predict`) steps week by week over arrays of shape
  (K, n_sequences); rows are sorted by length so that the sequences still
  observed at week t are a prefix of the arrays.
* EM steps from purchase to purchase. Most weeks have no purchase, and a run
  of r such weeks acts on the state distribution through the same matrix
  power P^r, with P = A diag(P(no purchase | state)). The forward-backward
  pass therefore visits only the weeks with a purchase (and each sequence's
  first week), and the expected counts inside the runs come from sums of
  matrix powers, grouped by run length. These are exactly the counts of the
  week-by-week pass; on CDNOW (1.66 million customer-weeks, 0.6 million after
  merging identical sequences) the pass visits about 45,000 anchors.

Both passes scale their messages at every step (Rabiner 1989), and the matrix
powers are divided by the spectral radius of P, so nothing underflows for
sequences of any length. Viterbi works in log space.

Modules
-------
``sequences``
    Validation and layout of the sequences (merged, sorted, anchors indexed).
``params``
    The parameters' container, random starting points and validation.
``inference``
    The week-by-week forward filter, Viterbi and sampling.
``em``
    The E-step over purchase anchors, the M-step and one EM run.
``estimator``
    :class:`PurchaseHMM`, :func:`select_n_states` and
    :func:`initial_state_given_recency`.
"""

from journeygym.calibration.hmm.estimator import (
    MIN_CUSTOMERS_PER_STATE,
    STATE_NAMES,
    PurchaseHMM,
    check_customers_per_state,
    initial_state_given_recency,
    select_n_states,
)
from journeygym.calibration.hmm.sequences import Sequences

__all__ = [
    "MIN_CUSTOMERS_PER_STATE",
    "STATE_NAMES",
    "PurchaseHMM",
    "Sequences",
    "check_customers_per_state",
    "initial_state_given_recency",
    "select_n_states",
]
