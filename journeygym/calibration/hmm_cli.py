"""``journeygym fit-hmm``: fit the hidden-state model on any transaction log a user brings."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import numpy as np

from journeygym.calibration.hmm import PurchaseHMM, select_n_states
from journeygym.calibration.transactions import load_transactions, weekly_observations


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``fit-hmm`` arguments to ``parser``."""
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
    parser.add_argument("--states", type=int, default=5, help="number of hidden states K (default 5)")
    parser.add_argument("--select", default=None, help="also report BIC for these K, e.g. 2,3,4,5,6")
    parser.add_argument("--restarts", type=int, default=8, help="EM restarts (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def fit_hmm_command(args: argparse.Namespace) -> int:
    """Run ``journeygym fit-hmm``; returns the exit status."""
    transactions = load_transactions(
        args.log,
        customer_col=args.customer_col,
        time_col=args.time_col,
        amount_col=args.amount_col,
        time_format=args.time_format,
        sep=args.sep,
        nonpositive=args.nonpositive,
    )
    sequences = weekly_observations(transactions, start="after_first_purchase")
    model = PurchaseHMM(n_states=args.states, n_restarts=args.restarts, seed=args.seed).fit(sequences)
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
    }
    if args.select:
        ks = _parse_ks(args.select)
        table = select_n_states(sequences, ks=ks, n_restarts=args.restarts, seed=args.seed)
        result["state_selection"] = table.to_dict(orient="records")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
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
    return 0


def _parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(","))
    except ValueError:
        raise ValueError(f"--select: received {text!r}, expected comma-separated integers such as 2,3,4,5,6.") from None
    if any(k < 1 for k in ks):
        raise ValueError(f"--select: received {text!r}, expected numbers of states >= 1.")
    return ks
