"""``journeygym fit-hmm``: fit the hidden-state model on any transaction log a user brings.

Exit codes: 0 the model was fitted and EM converged; 2 the input was unusable
(the message says why); 3 EM did not converge within ``--max-iter``
iterations (the estimates are printed but should not be used).

Unusable input includes a log with fewer than
:data:`~journeygym.calibration.hmm.MIN_CUSTOMERS_PER_STATE` (20) customers
per hidden state (for ``--states`` and every K of ``--select``).  Rows equal
in every column to an earlier row are dropped with a warning that counts them
(``--keep-duplicates`` keeps them); times with different UTC offsets are read
on their own local clocks, with a warning (see
:mod:`journeygym.datasets.transactions`).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any

import numpy as np

from journeygym.arguments import command_options, positive_int
from journeygym.errors import DataWarning
from journeygym.calibration.hmm import MIN_CUSTOMERS_PER_STATE, PurchaseHMM, check_customers_per_state, select_n_states
from journeygym.datasets.transactions import load_transactions
from journeygym.calibration.weekly import weekly_observations

EXIT_OK = 0
EXIT_NOT_CONVERGED = 3  # bad input: the ValueError reaches journeygym.cli.app, which exits with 2

#: Keyword arguments of the loader -> the flags that set them (messages name the flags).
FLAGS = {
    "customer_col": "--customer-col",
    "time_col": "--time-col",
    "amount_col": "--amount-col",
    "time_format": "--time-format",
    "sep": "--sep",
    "nonpositive": "--nonpositive",
    "outlying_dates=drop": "--drop-outlying-dates",
    "outlying_dates=keep": "--keep-outlying-dates",
    "duplicates=keep": "--keep-duplicates",
    "n_states": "--states",
}


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``fit-hmm`` arguments (and the exit codes, in the help) to ``parser``."""
    parser.description = "Fit the hidden-state purchase model (HMM) on a transaction log, one row per purchase."
    parser.epilog = (
        "exit status: 0 fitted and converged; 2 unusable input (the message says why); 3 EM did not converge "
        "within --max-iter iterations (estimates printed, not to be used: raise --max-iter)"
    )
    parser.add_argument("log", help="transaction log (delimited text with a header row)")
    parser.add_argument("--customer-col", required=True, help="customer identifier column")
    parser.add_argument("--time-col", required=True, help="purchase date or time column")
    parser.add_argument("--amount-col", required=True, help="purchase amount column")
    parser.add_argument("--time-format", default=None, help="strftime format of the time column (default: inferred)")
    parser.add_argument("--sep", default=None, help="column separator (default: detected)")
    parser.add_argument(
        "--nonpositive",
        choices=("error", "drop", "keep"),
        default="error",
        help="zero or negative amounts (refunds, cancellations): fail, drop them, or keep them as purchase events",
    )
    outlying = parser.add_mutually_exclusive_group()
    outlying.add_argument(
        "--drop-outlying-dates",
        dest="outlying_dates",
        action="store_const",
        const="drop",
        default="error",
        help="drop rows dated far outside the bulk of the log (mistyped years) with a warning, instead of failing; "
        "outlying: before q01 - 3w or after q99 + 3w, where q01, q99 are the 1st and 99th percentiles of the dates "
        "and w = max(q99 - q01, 30 days)",
    )
    outlying.add_argument(
        "--keep-outlying-dates", dest="outlying_dates", action="store_const", const="keep",
        help="keep rows dated far outside the bulk of the log (when they are genuine)",
    )
    parser.add_argument(
        "--keep-duplicates", dest="duplicates", action="store_const", const="keep", default="drop",
        help="keep rows equal in every column to an earlier row (default: drop them, with a warning that counts them)",
    )
    parser.add_argument(
        "--states", type=positive_int, default=5,
        help=f"number of hidden states K (default 5); the log needs {MIN_CUSTOMERS_PER_STATE} customers per state",
    )
    parser.add_argument("--select", default=None, help="also report BIC for these K, e.g. 2,3,4,5,6")
    parser.add_argument("--restarts", type=positive_int, default=8, help="EM restarts (default 8)")
    parser.add_argument("--max-iter", type=positive_int, default=200, help="EM iterations per restart (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _load(args: argparse.Namespace) -> tuple[Any, list[str]]:
    """The weekly sequences of the log, and the data warnings (printed at once)."""
    with command_options("journeygym fit-hmm", FLAGS), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        transactions = load_transactions(
            args.log,
            customer_col=args.customer_col,
            time_col=args.time_col,
            amount_col=args.amount_col,
            time_format=args.time_format,
            sep=args.sep,
            nonpositive=args.nonpositive,
            outlying_dates=args.outlying_dates,
            duplicates=args.duplicates,
        )
        sequences = weekly_observations(transactions, start="after_first_purchase")
    notes = []
    for warning in caught:
        if issubclass(warning.category, DataWarning):
            notes.append(str(warning.message))
            print(f"journeygym fit-hmm: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    observed = int((sequences.lengths > 0).sum())  # after the warnings: a refusal may follow from rows dropped
    with command_options("journeygym fit-hmm", FLAGS):
        check_customers_per_state(observed, args.states)
        if args.select:
            check_customers_per_state(observed, max(_parse_ks(args.select)), f"--select {args.select}")
    return sequences, notes


def fit_hmm_command(args: argparse.Namespace) -> int:
    """Run ``journeygym fit-hmm``; returns the exit status (0 converged, 3 not converged; bad input raises)."""
    sequences, notes = _load(args)
    model = PurchaseHMM(n_states=args.states, n_restarts=args.restarts, seed=args.seed, max_iter=args.max_iter).fit(sequences)
    if not model.converged_:
        notes.append(
            f"EM did not converge within --max-iter {args.max_iter} iterations (best of {args.restarts} restart(s)); "
            "these estimates are not a fit: rerun with a larger --max-iter."
        )
    result = {
        "customers": int(sequences.obs.shape[0]),
        "observed_weeks": int(sequences.lengths.sum()),
        "median_weekly_amount": float(sequences.median_amount),
        "states": [
            {
                "name": name,
                "weekly_purchase_prob": float(model.purchase_prob_[k]),
                "staying_prob": float(model.transmat_[k, k]),
                "start_prob": float(model.startprob_[k]),
            }
            for k, name in enumerate(model.state_names_)
        ],
        "transition": np.round(model.transmat_, 6).tolist(),
        "emission": np.round(model.emissionprob_, 6).tolist(),
        "loglik": float(model.loglik_),
        "bic": float(model.bic(sequences)),
        "converged": bool(model.converged_),
        "warnings": notes,
    }
    if args.select:
        ks = _parse_ks(args.select)
        table = select_n_states(sequences, ks=ks, n_restarts=args.restarts, seed=args.seed)
        result["state_selection"] = table.to_dict(orient="records")
    status = EXIT_OK if model.converged_ else EXIT_NOT_CONVERGED
    if not model.converged_:
        print(f"journeygym fit-hmm: warning: {notes[-1]}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
        return status
    print(f"{result['customers']} customers, {result['observed_weeks']} observed weeks; "
          f"weekly purchase above ${result['median_weekly_amount']:.2f} counts as large")
    print(f"{'state':<15}{'weekly purchase':>16}{'staying':>10}{'start':>8}")
    for state in result["states"]:
        print(f"{state['name']:<15}{state['weekly_purchase_prob']:>16.4f}{state['staying_prob']:>10.4f}{state['start_prob']:>8.3f}")
    print(f"log-likelihood {result['loglik']:.1f}, BIC {result['bic']:.1f}, converged {result['converged']}")
    if args.select:
        print("\nstate selection (lower BIC is better):")
        for row in result["state_selection"]:
            print(f"  K={row['K']}: loglik {row['loglik']:.1f}, parameters {row['n_params']}, BIC {row['BIC']:.1f}")
    return status


def _parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(","))
    except ValueError:
        raise ValueError(f"--select: received {text!r}, expected comma-separated integers such as 2,3,4,5,6.") from None
    if any(k < 1 for k in ks):
        raise ValueError(f"--select: received {text!r}, expected numbers of states >= 1.")
    return ks
