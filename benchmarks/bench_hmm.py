"""Speed and fit of the purchase HMM on the CDNOW log.

(a) Fit K = 5 on all CDNOW customers with the default restarts and print the
    wall time, log-likelihood, and per-state weekly purchase and staying
    probabilities next to the reference fit of the design notes.
(b) On a random subsample of customers, fit hmmlearn's CategoricalHMM and
    PurchaseHMM from the same initial parameters (one restart, the same
    number of EM iterations) and compare log-likelihood and wall time.

Usage: python benchmarks/bench_hmm.py [--data-dir DIR] [--start after_first_purchase]
The data directory defaults to $JOURNEYGYM_DATA_DIR, else ../shared/data
beside the repository.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from _common import default_data_dir
from journeygym.calibration.hmm import PurchaseHMM
from journeygym.datasets.transactions import load_cdnow
from journeygym.calibration.weekly import weekly_observations

REFERENCE_PURCHASE = [0.0017, 0.0382, 0.0737, 0.1835, 0.3902]
REFERENCE_STAYING = [0.9989, 0.9772, 0.9827, 0.9647, 0.9514]
N_STATES = 5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument(
        "--start",
        default="after_first_purchase",
        choices=["after_first_purchase", "first_purchase"],
        help="where each customer's weekly sequence starts (see weekly_observations)",
    )
    parser.add_argument("--subsample", type=int, default=2000, help="customers in part (b)")
    parser.add_argument("--max-iter", type=int, default=50, help="EM iterations in part (b)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-hmmlearn", action="store_true")
    return parser.parse_args()


def fmt(values: np.ndarray | list[float]) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


def full_fit(obs) -> None:
    print(f"(a) K={N_STATES}, default restarts, {obs.obs.shape[0]} customers, "
          f"{int(obs.lengths.sum())} customer-weeks")
    start, cpu_start = time.perf_counter(), time.process_time()
    model = PurchaseHMM(n_states=N_STATES).fit(obs)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"    wall seconds        {wall:.2f}  (target <= 20)")
    print(f"    CPU seconds         {cpu:.2f}  (this process)")
    print(f"    restarts            {model.n_restarts}, best run: {model.n_iter_} iterations, "
          f"converged={model.converged_}")
    print(f"    loglik              {model.loglik_:.4f}")
    print(f"    restart logliks     {', '.join(f'{v:.2f}' for v in model.restart_logliks_)}")
    print(f"    states              {', '.join(model.state_names_)}")
    print(f"    purchase prob       {fmt(model.purchase_prob_)}")
    print(f"    reference           {fmt(REFERENCE_PURCHASE)}")
    print(f"    staying prob        {fmt(np.diag(model.transmat_))}")
    print(f"    reference           {fmt(REFERENCE_STAYING)}")
    print(f"    start prob          {fmt(model.startprob_)}")


def initial_parameters(rng: np.random.Generator, n_symbols: int) -> dict[str, np.ndarray]:
    """Sticky random starting point with purchase probabilities spread out."""
    transmat = 0.9 * np.eye(N_STATES) + 0.1 * rng.dirichlet(np.ones(N_STATES), size=N_STATES)
    purchase = np.sort(rng.uniform(0.005, 0.4, size=N_STATES))
    split = rng.dirichlet(np.ones(n_symbols - 1), size=N_STATES)
    return {
        "startprob": rng.dirichlet(np.ones(N_STATES)),
        "transmat": transmat,
        "emissionprob": np.column_stack([1 - purchase, purchase[:, None] * split]),
    }


def versus_hmmlearn(obs, n_customers: int, max_iter: int, seed: int) -> None:
    from hmmlearn.hmm import CategoricalHMM

    rng = np.random.default_rng(seed)
    n_total = obs.obs.shape[0]
    rows = np.sort(rng.choice(n_total, size=min(n_customers, n_total), replace=False))
    sub = obs.obs[rows]
    init = initial_parameters(rng, obs.n_symbols)
    flat = sub[sub >= 0].astype(np.int64).reshape(-1, 1)
    lengths = (sub >= 0).sum(axis=1)
    print(f"\n(b) {len(rows)} customers, {flat.shape[0]} customer-weeks, same initial parameters, "
          f"one restart, exactly {max_iter} EM iterations each (early stopping off on both sides)")

    ours = PurchaseHMM(
        n_states=N_STATES, n_restarts=1, max_iter=max_iter, tol=0.0, init_params=init
    )
    start = time.perf_counter()
    ours.fit(sub)
    ours_wall = time.perf_counter() - start
    ours_loglik = ours.score(sub)
    print(f"    ours                 loglik {ours_loglik:.6f}   wall {ours_wall:.3f} s   "
          f"iterations {ours.n_iter_}")

    for implementation in ("log", "scaling"):
        theirs = CategoricalHMM(
            n_components=N_STATES,
            n_features=obs.n_symbols,
            n_iter=max_iter,
            tol=-np.inf,
            init_params="",
            params="ste",
            implementation=implementation,
        )
        theirs.startprob_ = init["startprob"].copy()
        theirs.transmat_ = init["transmat"].copy()
        theirs.emissionprob_ = init["emissionprob"].copy()
        start = time.perf_counter()
        theirs.fit(flat, lengths)
        wall = time.perf_counter() - start
        loglik = theirs.score(flat, lengths)
        default = " (hmmlearn default)" if implementation == "log" else ""
        print(f"    hmmlearn {implementation:<8}    loglik {loglik:.6f}   wall {wall:.3f} s   "
              f"iterations {theirs.monitor_.iter}{default}")
        print(f"        ours faster by {wall / ours_wall:.1f}x   "
              f"loglik ours - hmmlearn = {ours_loglik - loglik:.3e} "
              f"({(ours_loglik - loglik) / abs(loglik):.2e} relative)")
    print("    target: ours >= 50x faster than hmmlearn's default, loglik at least as good")


def main() -> None:
    args = parse_args()
    transactions = load_cdnow(args.data_dir)
    obs = weekly_observations(transactions, start=args.start)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CDNOW weekly sequences, start={args.start}, median weekly amount "
          f"${obs.median_amount:.2f}, {os.cpu_count()} CPUs visible, "
          f"1-minute load average {load:.2f}\n")
    full_fit(obs)
    if not args.skip_hmmlearn:
        versus_hmmlearn(obs, args.subsample, args.max_iter, args.seed)


if __name__ == "__main__":
    main()
