"""The calibration pipeline: real data in, a validated parameter artifact out (DESIGN 2.5).

Steps, in order (each prints a progress line):

1. load the Hillstrom trial and the CDNOW log (SHA-256 of each file recorded);
2. fit the hidden-state model on CDNOW (point fit, see below);
3. initial hidden state given recency through the HMM filter;
4. Bayesian hierarchical uplift models for visit and conversion on the full trial;
5. per posterior draw: the visit level and purchase offset ``delta_0`` so the
   simulated two-week control rates equal the observed ones; per segment, logit
   offsets so the segment's simulated control rates equal a draw from the
   posterior of that segment's observed control rate;
   then ``eta`` and ``tau`` per segment x arm so the simulated two-week uplifts
   equal the draw's;
6. spend and population models;
7. validation of the result by simulation; the artifact is written (atomically)
   with a Markdown report and plots beside it.

HMM uncertainty: the HMM is a point fit shared by all draws (a bootstrap of
the EM fit per draw would cost minutes per draw); the draws carry the uplift,
covariate-effect and spend uncertainty.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeygym.calibration.artifact import load_artifact, save_artifact
from journeygym.calibration.hillstrom import load_hillstrom, sha256_of_file
from journeygym.calibration.hmm import PurchaseHMM, initial_state_given_recency
from journeygym.calibration.matching import match_level, match_uplift
from journeygym.calibration.population import fit_population_model
from journeygym.calibration.spend import fit_spend_model
from journeygym.calibration.transactions import DATA_DIR_ENV, load_cdnow, weekly_observations
from journeygym.calibration.uplift import BayesianUpliftModel, trial_from_hillstrom
from journeygym.calibration.validation import (
    REQUIRED_COVERAGE,
    coverage,
    observed_trial_rates,
    simulate_trial_rates,
    validation_table,
)
from journeygym.envs.covariates import COVARIATE_NAMES, HISTORY_SEGMENTS, WEEKS_PER_MONTH, design_matrix
from journeygym.envs.kernel import logit
from journeygym.envs.parameters import DynamicsParameters, ParameterDraws, ScenarioAssumptions
from journeygym.records import provenance, to_jsonable

#: Customers per segment used when matching uplifts (a fixed random subsample keeps it fast).
MATCHING_CUSTOMERS_PER_SEGMENT = 1000
#: Customers used when matching the overall control levels.
MATCHING_CUSTOMERS_OVERALL = 6000
ASSUMPTION_LABELS: dict[str, str] = {
    "kappa": "ASSUMPTION: fatigue decay of the e-mail effect; no public benchmark; swept in reports",
    "u0": "ASSUMPTION: sigmoid(u0) = 0.3% unsubscribes per delivered e-mail (published benchmarks 0.1%-0.5%, retail 0.2%-0.4%)",
    "u1": "ASSUMPTION: logit increase of unsubscribing per fatigue level",
    "margin": "ASSUMPTION: profit share of spend",
    "action_costs": "ASSUMPTION: cost per delivered e-mail",
    "horizon": "scenario choice",
    "discount": "scenario choice",
    "max_fatigue": "ASSUMPTION: cap of the fatigue counter",
}


@dataclass(frozen=True)
class CalibrationResult:
    """The draws and the diagnostics that go into the report."""

    draws: ParameterDraws
    hmm: PurchaseHMM
    validation: pd.DataFrame
    coverage: float
    uplift_models: dict[str, BayesianUpliftModel]
    matching_clipped: dict[str, int]
    timings: dict[str, float]


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """The data directory from the argument or ``$JOURNEYGYM_DATA_DIR``, with a clear error if neither is usable."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    if chosen is None:
        raise FileNotFoundError(
            f"no data directory: pass --data-dir DIR or set {DATA_DIR_ENV}; it must hold hillstrom.csv and cdnow_master.txt."
        )
    path = Path(chosen)
    if not path.is_dir():
        raise FileNotFoundError(f"data directory {str(path)!r} does not exist; pass --data-dir DIR or set {DATA_DIR_ENV}.")
    return path




def _thin(n_available: int, n_draws: int) -> np.ndarray:
    if n_draws > n_available:
        raise ValueError(f"--draws: received {n_draws}, but the posterior holds {n_available} samples.")
    return np.linspace(0, n_available - 1, n_draws).round().astype(int)


def calibrate(
    data_dir: str | os.PathLike[str] | None,
    n_draws: int = 200,
    seed: int = 0,
    progress: Callable[[str], None] = print,
    sampler_kwargs: dict[str, Any] | None = None,
) -> CalibrationResult:
    """Run the whole calibration and return the parameter draws with diagnostics."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def step(message: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        progress(f"[{sum(timings.values()) + now - clock:6.1f} s] {message}")

    def done(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    directory = resolve_data_dir(data_dir)
    step("loading the Hillstrom trial and the CDNOW log")
    trial = load_hillstrom(directory)
    transactions = load_cdnow(directory)
    checksums = {name: sha256_of_file(directory / name) for name in ("hillstrom.csv", "cdnow_master.txt")}
    done("load")

    step("fitting the hidden-state model on CDNOW (K = 5, EM)")
    sequences = weekly_observations(transactions, start="after_first_purchase")
    hmm = PurchaseHMM(n_states=5, seed=seed).fit(sequences)
    recency_weeks = np.rint(np.arange(1, 13) * WEEKS_PER_MONTH).astype(int)
    initial_by_recency = initial_state_given_recency(hmm, recency_weeks)
    done("hmm")

    models: dict[str, BayesianUpliftModel] = {}
    for outcome in ("visit", "conversion"):
        step(f"sampling the hierarchical uplift model for {outcome} (64,000 rows)")
        models[outcome] = BayesianUpliftModel(kind="hierarchical", seed=seed, **(sampler_kwargs or {})).fit(
            trial_from_hillstrom(trial, outcome=outcome)
        )
        done(f"uplift_{outcome}")

    step(f"matching {n_draws} parameter draws to the trial (levels, eta, tau per segment x arm)")
    rng = np.random.default_rng(seed)
    covariates = design_matrix(
        trial["recency"], trial["history"], trial["mens"], trial["womens"], trial["newbie"], trial["zip_idx"], trial["channel_idx"]
    )
    covariate_means = covariates.mean(axis=0)
    centred = covariates - covariate_means
    belief = initial_by_recency[trial["recency"].to_numpy() - 1]
    segment = trial["segment_idx"].to_numpy()
    control = trial["arm"].to_numpy() == 0
    picks = {outcome: _thin(models[outcome].uplift_draws_.shape[0], n_draws) for outcome in models}
    purchase_gamma = _without_recency(models["conversion"].covariate_effects_draws_[picks["conversion"]])
    visit_gamma = _without_recency(models["visit"].covariate_effects_draws_[picks["visit"]])
    purchase_logit = logit(hmm.purchase_prob_)
    transition = hmm.transmat_

    overall = rng.choice(np.flatnonzero(control), size=min(MATCHING_CUSTOMERS_OVERALL, control.sum()), replace=False)

    def event_logits(rows: np.ndarray, gamma: np.ndarray, level: np.ndarray) -> np.ndarray:
        return level[:, None, None] + purchase_logit[None, None, :] + (centred[rows] @ gamma.T).T[:, :, None]

    zeros = np.zeros(n_draws)
    purchase_offset = match_level(
        belief[overall], transition, event_logits(overall, purchase_gamma, zeros), np.full(n_draws, trial.loc[control, "conversion"].mean())
    )
    visit_level = match_level(
        belief[overall], transition, event_logits(overall, visit_gamma, zeros), np.full(n_draws, trial.loc[control, "visit"].mean())
    )
    n_actions, n_segments = 3, len(HISTORY_SEGMENTS)
    control_rates = {outcome: segment_control_rate_draws(trial, outcome, n_draws, rng) for outcome in ("visit", "conversion")}
    tilt = np.zeros((n_draws, n_actions, n_segments))
    effect = np.zeros_like(tilt)
    segment_offsets = {"visit": np.zeros((n_draws, n_segments)), "conversion": np.zeros((n_draws, n_segments))}
    clipped = {"delta_0": int(purchase_offset.clipped.sum()), "visit_level": int(visit_level.clipped.sum()),
               "segment_offsets": 0, "eta": 0, "tau": 0}
    for g in range(n_segments):
        members = np.flatnonzero(segment == g)
        rows = rng.choice(members, size=min(MATCHING_CUSTOMERS_PER_SEGMENT, members.size), replace=False)
        logits = {
            "visit": event_logits(rows, visit_gamma, visit_level.values),
            "conversion": event_logits(rows, purchase_gamma, purchase_offset.values),
        }
        # Segment baselines: a draw from the posterior of the segment's control rate.
        for outcome in ("visit", "conversion"):
            level = match_level(belief[rows], transition, logits[outcome], control_rates[outcome][:, g])
            segment_offsets[outcome][:, g] = level.values
            logits[outcome] = logits[outcome] + level.values[:, None, None]
            clipped["segment_offsets"] += int(level.clipped.sum())
        for arm in (1, 2):
            eta = match_uplift(
                belief[rows], transition, logits["visit"], models["visit"].uplift_draws_[picks["visit"], g, arm - 1],
                solve_for="tilt",
            )
            tau = match_uplift(
                belief[rows],
                transition,
                logits["conversion"],
                models["conversion"].uplift_draws_[picks["conversion"], g, arm - 1],
                solve_for="effect",
                tilt=eta.values,
            )
            tilt[:, arm, g], effect[:, arm, g] = eta.values, tau.values
            clipped["eta"] += int(eta.clipped.sum())
            clipped["tau"] += int(tau.clipped.sum())
    done("matching")

    step("fitting the spend and population models")
    spend = fit_spend_model(trial)
    spend_log_means = spend.sample_log_means(rng, n_draws)
    population = fit_population_model(trial)
    visit_prob = 1.0 / (1.0 + np.exp(-(purchase_logit[None, :] + visit_level.values[:, None])))

    def parameters(index: int | None) -> DynamicsParameters:
        pick = (lambda a: a[index]) if index is not None else (lambda a: a.mean(axis=0))
        return DynamicsParameters(
            transition=transition,
            initial_state_by_recency=initial_by_recency,
            purchase_prob=hmm.purchase_prob_,
            visit_prob=pick(visit_prob),
            purchase_offset=float(pick(purchase_offset.values)),
            purchase_covariate_effects=pick(purchase_gamma),
            visit_covariate_effects=pick(visit_gamma),
            covariate_means=covariate_means,
            purchase_uplift=pick(effect),
            engagement_tilt=pick(tilt),
            spend_log_mean=pick(spend_log_means),
            spend_log_sd=spend.log_sd,
            population=population,
            state_names=tuple(hmm.state_names_),
            purchase_segment_offset=pick(segment_offsets["conversion"]),
            visit_segment_offset=pick(segment_offsets["visit"]),
        )

    assumptions = ScenarioAssumptions()
    # The effective sampler settings (defaults included), so that a change of a default changes the hash.
    sampler = models["conversion"]
    sampler_settings = {
        "draws": sampler.draws,
        "tune": sampler.tune,
        "chains": sampler.chains,
        "target_accept": sampler.target_accept,
        "mass_matrix": sampler.mass_matrix,
        "priors": asdict(sampler.priors),
    }
    config = {"n_draws": n_draws, "seed": seed, "data_sha256": checksums, "sampler": sampler_settings}
    metadata = {
        **provenance(config, seed),
        "label": f"calibrated on Hillstrom + CDNOW, {n_draws} posterior draws",
        "calibrated": True,
        "data_sha256": checksums,
        "assumption_labels": ASSUMPTION_LABELS,
        "hmm": {
            "loglik": float(hmm.loglik_),
            "purchase_prob": hmm.purchase_prob_.tolist(),
            "staying_prob": np.diag(transition).tolist(),
            "uncertainty": "point fit shared by all draws",
        },
        "uplift_diagnostics": {k: to_jsonable(m.diagnostics_) for k, m in models.items()},
        "matching_clipped": clipped,
        "libraries": _library_versions(),
    }
    draws = ParameterDraws(
        draws=tuple(parameters(i) for i in range(n_draws)),
        mean=parameters(None),
        assumptions=assumptions,
        metadata=metadata,
    )
    done("assembly")

    step("validating: the simulator replays the two-week trial once per draw")
    arm_sizes = trial["arm"].value_counts().sort_index().to_numpy()
    table = validation_table(observed_trial_rates(trial), simulate_trial_rates(draws, arm_sizes, seed), ("No E-Mail", "Mens E-Mail", "Womens E-Mail"))
    share = coverage(table)
    done("validation")
    draws = ParameterDraws(
        draws=draws.draws,
        mean=draws.mean,
        assumptions=assumptions,
        metadata={**metadata, "validation_coverage": share, "timings_s": timings},
    )
    return CalibrationResult(
        draws=draws,
        hmm=hmm,
        validation=table,
        coverage=share,
        uplift_models=models,
        matching_clipped=clipped,
        timings=timings,
    )


def segment_control_rate_draws(trial: pd.DataFrame, outcome: str, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_draws, G)`` draws of each segment's two-week control rate from its Beta(1 + k, 1 + n - k) posterior.

    The uplift models share one intercept across segments (their covariate
    effects describe a smooth gradient), but the trial's segment baselines are
    not smooth in history (segment 5 visits less than segments 3 and 4); the
    simulator's segment offsets are matched to these draws instead.
    """
    control = trial[trial["arm"] == 0]
    counts = control.groupby("segment_idx")[outcome].agg(["sum", "count"]).reindex(range(len(HISTORY_SEGMENTS)), fill_value=0)
    hits, totals = counts["sum"].to_numpy(float), counts["count"].to_numpy(float)
    return rng.beta(1.0 + hits, 1.0 + totals - hits, size=(n_draws, hits.size))


def _without_recency(effects: np.ndarray) -> np.ndarray:
    """Covariate effects with recency's set to zero.

    The simulator already carries recency through the hidden state (the HMM
    filter gives the week-0 state given recency); keeping the logistic
    model's recency effect as well would count it twice.  The model is still
    fitted with recency, so the other effects are adjusted for it.
    """
    effects = effects.copy()
    effects[:, COVARIATE_NAMES.index("recency")] = 0.0
    return effects



def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("numpy", "scipy", "pandas", "pymc", "arviz", "nutpie", "gymnasium"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def calibrate_command(args: argparse.Namespace) -> int:
    """``journeygym calibrate``: fit, validate, write the artifact and its report; exit 1 if validation fails."""
    from journeygym.calibration.report import write_calibration_report

    out = Path(args.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out: received {str(out)!r}, expected a file name ending in .npz.")
    result = calibrate(args.data_dir, n_draws=args.draws, seed=args.seed)
    save_artifact(result.draws, out)
    report = write_calibration_report(result, out, data_dir=resolve_data_dir(args.data_dir), seed=args.seed)
    print(f"wrote {out} ({len(result.draws)} draws) and {report}")
    print(f"validation: observed rate inside the 90% predictive interval in {result.coverage:.0%} of cells "
          f"(required {REQUIRED_COVERAGE:.0%})")
    return 0 if result.coverage >= REQUIRED_COVERAGE else 1


def validate_command(args: argparse.Namespace) -> int:
    """``journeygym validate``: the simulated-versus-observed table; exit 1 when calibration fails its checks."""
    draws = load_artifact(args.artifact)
    trial = load_hillstrom(resolve_data_dir(args.data_dir))
    arm_sizes = trial["arm"].value_counts().sort_index().to_numpy()
    table = validation_table(
        observed_trial_rates(trial), simulate_trial_rates(draws, arm_sizes, args.seed), ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
    )
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    share = coverage(table)
    verdict = "PASS" if share >= REQUIRED_COVERAGE else "FAIL"
    print(f"\n{verdict}: observed rate inside the simulator's 90% posterior predictive interval in {share:.1%} of "
          f"{len(table)} cells (required {REQUIRED_COVERAGE:.0%}); {len(draws)} draws.")
    return 0 if verdict == "PASS" else 1
