"""The calibration pipeline: real data in, a validated parameter artifact out (DESIGN 2.5).

Steps, in order (each prints a progress line):

1. load the Hillstrom trial and the CDNOW log (SHA-256 of each file recorded);
2. fit the hidden-state model on CDNOW (point fit, see below) and the initial
   hidden state given recency through its filter;
3. Bayesian hierarchical uplift models for visit and conversion on the full trial;
4. per posterior draw, the levels and the e-mail responses ``eta``, ``alpha``
   and ``beta`` per segment x arm and carryover level
   (:mod:`journeygym.calibration.effects`);
5. spend and population models; the draws are assembled;
6. the fatigue decay ``kappa`` is anchored (weekly e-mail to everyone about
   +30% annual revenue, :mod:`journeygym.calibration.plausibility`);
7. validation: the simulator replays the trial, and the plausibility checks
   run; the artifact is written (atomically) with a Markdown report and plots.

HMM uncertainty: the HMM is a point fit shared by all draws (a bootstrap of
the EM fit per draw would cost minutes per draw); the draws carry the uplift,
covariate-effect and spend uncertainty.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from journeygym.calibration.effects import DEFAULT_CARRYOVER_LEVELS, MatchedEffects, match_effects
from journeygym.calibration.hillstrom import load_hillstrom, sha256_of_file
from journeygym.calibration.hmm import PurchaseHMM, initial_state_given_recency
from journeygym.calibration.plausibility import (
    WEEKLY_REVENUE_UPLIFT_ANCHOR,
    KappaAnchor,
    PlausibilityReport,
    anchor_kappa,
    plausibility_report,
)
from journeygym.calibration.population import fit_population_model
from journeygym.calibration.spend import SpendModel, fit_spend_model
from journeygym.calibration.transactions import DATA_DIR_ENV, load_cdnow
from journeygym.calibration.uplift import BayesianUpliftModel, trial_from_hillstrom
from journeygym.calibration.weekly import weekly_observations
from journeygym.calibration.validation import (
    REQUIRED_COVERAGE,
    coverage,
    observed_trial_rates,
    simulate_trial_rates,
    validation_table,
)
from journeygym.envs.covariates import WEEKS_PER_MONTH
from journeygym.envs.response import logit
from journeygym.envs.parameters import (
    DEFAULT_CARRYOVER,
    DynamicsParameters,
    ParameterDraws,
    PopulationModel,
    ScenarioAssumptions,
)
from journeygym.records import provenance, to_jsonable

ASSUMPTION_LABELS: dict[str, str] = {
    "carryover": "ASSUMPTION (anchored): a single e-mail's 52-week incremental visits over its two-week ones; long-run/short-run "
    "advertising effects about 2x (Sethuraman, Tellis & Briesch 2011), multipliers 1.2-3.5 (Nielsen Catalina / CBS), e-mail "
    "fades faster (Zantedeschi, Feit & Bradlow 2017); swept 1.0 / 1.5 / 2.5",
    "kappa": "ASSUMPTION (anchored): fatigue decay, solved so weekly e-mail to everyone earns about +30% annual revenue over never "
    "(year-long e-mail holdouts +5% to +30%: Valenti et al. 2023 +6.5%, MineThatData +30%); swept",
    "u0": "ASSUMPTION (anchored): sigmoid(u0) = 0.1% unsubscribes per delivered e-mail at zero fatigue (Campaign Monitor 0.1-0.17%, Mailchimp 0.25%)",
    "u1": "ASSUMPTION (anchored): unsubscribes rise to 0.3% per e-mail at the fatigue cap",
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
    validation_by_recency: pd.DataFrame
    coverage: float
    uplift_models: dict[str, BayesianUpliftModel]
    matching_clipped: dict[str, int]
    matching_cells: pd.DataFrame
    kappa: KappaAnchor
    plausibility: PlausibilityReport
    timings: dict[str, float]

    @property
    def passed(self) -> bool:
        """Whether the trial is reproduced and every plausibility check passes."""
        return self.coverage >= REQUIRED_COVERAGE and self.plausibility.passed()


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


class _StepClock:
    """Prints a progress line per step and records each step's duration."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str, message: str) -> Iterator[None]:
        self.progress(f"[{sum(self.timings.values()):6.1f} s] {message}")
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start


def _check_carryover(levels: Sequence[float], carryover: float) -> tuple[float, ...]:
    chosen = tuple(sorted({float(v) for v in levels}))
    if not any(abs(v - carryover) <= 1e-9 for v in chosen):
        raise ValueError(
            f"--carryover: received levels {list(chosen)}, which miss the default carryover {carryover:g}; "
            f"add it (e.g. --carryover {','.join(f'{v:g}' for v in sorted({*chosen, carryover}))})."
        )
    return chosen


def calibrate(
    data_dir: str | os.PathLike[str] | None,
    n_draws: int = 200,
    seed: int = 0,
    progress: Callable[[str], None] = print,
    sampler_kwargs: dict[str, Any] | None = None,
    carryover_levels: Sequence[float] = DEFAULT_CARRYOVER_LEVELS,
    carryover: float = DEFAULT_CARRYOVER,
) -> CalibrationResult:
    """Run the whole calibration and return the parameter draws with diagnostics."""
    levels = _check_carryover(carryover_levels, carryover)
    clock = _StepClock(progress)
    directory = resolve_data_dir(data_dir)
    with clock.step("load", "loading the Hillstrom trial and the CDNOW log"):
        trial = load_hillstrom(directory)
        transactions = load_cdnow(directory)
        checksums = {name: sha256_of_file(directory / name) for name in ("hillstrom.csv", "cdnow_master.txt")}
    with clock.step("hmm", "fitting the hidden-state model on CDNOW (K = 5, EM)"):
        hmm = PurchaseHMM(n_states=5, seed=seed).fit(weekly_observations(transactions, start="after_first_purchase"))
        initial_by_recency = initial_state_given_recency(hmm, np.rint(np.arange(1, 13) * WEEKS_PER_MONTH).astype(int))
    models: dict[str, BayesianUpliftModel] = {}
    for outcome in ("visit", "conversion"):
        with clock.step(f"uplift_{outcome}", f"sampling the hierarchical uplift model for {outcome} (64,000 rows)"):
            models[outcome] = BayesianUpliftModel(kind="hierarchical", seed=seed, **(sampler_kwargs or {})).fit(
                trial_from_hillstrom(trial, outcome=outcome)
            )
    rng = np.random.default_rng(seed)
    with clock.step("matching", f"matching {n_draws} draws: levels, then eta, alpha, beta per segment x arm at carryover {list(levels)}"):
        picks = {outcome: _thin(models[outcome].uplift_draws_.shape[0], n_draws) for outcome in models}
        effects = match_effects(
            trial,
            hmm.transmat_,
            hmm.purchase_prob_,
            initial_by_recency,
            {outcome: models[outcome].uplift_draws_[picks[outcome]] for outcome in models},
            {outcome: models[outcome].covariate_effects_draws_[picks[outcome]] for outcome in models},
            levels,
            rng,
        )
    with clock.step("spend_population", "fitting the spend and population models"):
        spend = fit_spend_model(trial)
        spend_log_means = spend.sample_log_means(rng, n_draws)
        population = fit_population_model(trial)
    config = {
        "n_draws": n_draws,
        "seed": seed,
        "data_sha256": checksums,
        "sampler": _sampler_settings(models["conversion"]),
        "carryover_levels": list(levels),
        "kappa_anchor": {"weekly_revenue_uplift": WEEKLY_REVENUE_UPLIFT_ANCHOR},
    }
    with clock.step("kappa", "anchoring kappa: weekly e-mail to everyone about +30% annual revenue over never"):
        draws = _assemble(hmm, initial_by_recency, effects, spend, spend_log_means, population, ScenarioAssumptions(carryover=carryover))
        kappa = anchor_kappa(draws, draws.assumptions, seed=seed)
        assumptions = draws.assumptions.replace(kappa=kappa.kappa)
        config["assumptions"] = assumptions.to_dict()
    with clock.step("validation", "validating: the simulator replays the two-week trial per draw; plausibility over a year"):
        draws = ParameterDraws(draws=draws.draws, mean=draws.mean, assumptions=assumptions, metadata={})
        arm_sizes = trial["arm"].value_counts().sort_index().to_numpy()
        table = validation_table(observed_trial_rates(trial), simulate_trial_rates(draws, arm_sizes, seed), ARM_NAMES)
        share = coverage(table)
        by_recency = validation_table(
            observed_trial_rates(trial, "recency"), simulate_trial_rates(draws, arm_sizes, seed, "recency"), ARM_NAMES, "recency"
        )
        plausibility = plausibility_report(draws, seed=seed)
    metadata = {
        **provenance(config, seed),
        "label": f"calibrated on Hillstrom + CDNOW, {n_draws} posterior draws",
        "calibrated": True,
        "data_sha256": checksums,
        "assumption_labels": ASSUMPTION_LABELS,
        "hmm": {
            "loglik": float(hmm.loglik_),
            "purchase_prob": hmm.purchase_prob_.tolist(),
            "staying_prob": np.diag(hmm.transmat_).tolist(),
            "uncertainty": "point fit shared by all draws",
        },
        "uplift_diagnostics": {k: to_jsonable(m.diagnostics_) for k, m in models.items()},
        "matching_clipped": effects.clipped,
        "kappa_anchor": to_jsonable(asdict(kappa)),
        "plausibility": [{"check": name, "measured": measured, "passed": ok} for name, measured, ok in plausibility.checks()],
        "libraries": _library_versions(),
        "validation_coverage": share,
        "validation_coverage_by_recency": coverage(by_recency),
        "timings_s": clock.timings,
    }
    return CalibrationResult(
        draws=ParameterDraws(draws=draws.draws, mean=draws.mean, assumptions=assumptions, metadata=metadata),
        hmm=hmm,
        validation=table,
        validation_by_recency=by_recency,
        coverage=share,
        uplift_models=models,
        matching_clipped=effects.clipped,
        matching_cells=effects.cells,
        kappa=kappa,
        plausibility=plausibility,
        timings=clock.timings,
    )


ARM_NAMES: tuple[str, ...] = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")


def _sampler_settings(model: BayesianUpliftModel) -> dict[str, Any]:
    """The effective sampler settings (defaults included), so that a change of a default changes the hash."""
    return {
        "draws": model.draws,
        "tune": model.tune,
        "chains": model.chains,
        "target_accept": model.target_accept,
        "mass_matrix": model.mass_matrix,
        "priors": asdict(model.priors),
    }


def _assemble(
    hmm: PurchaseHMM,
    initial_by_recency: np.ndarray,
    effects: MatchedEffects,
    spend: SpendModel,
    spend_log_means: np.ndarray,
    population: PopulationModel,
    assumptions: ScenarioAssumptions,
) -> ParameterDraws:
    """One :class:`DynamicsParameters` per draw, plus their mean."""
    visit_prob = expit(logit(hmm.purchase_prob_)[None, :] + effects.visit_level[:, None])

    def parameters(index: int | None) -> DynamicsParameters:
        pick = (lambda a: a[index]) if index is not None else (lambda a: a.mean(axis=0))
        return DynamicsParameters(
            transition=hmm.transmat_,
            initial_state_by_recency=initial_by_recency,
            purchase_prob=hmm.purchase_prob_,
            visit_prob=pick(visit_prob),
            purchase_offset=float(pick(effects.purchase_offset)),
            purchase_covariate_effects=pick(effects.purchase_covariate_effects),
            visit_covariate_effects=pick(effects.visit_covariate_effects),
            covariate_means=effects.covariate_means,
            purchase_response=pick(effects.purchase_response),
            visit_response=pick(effects.visit_response),
            engagement_tilt=pick(effects.engagement_tilt),
            spend_log_mean=pick(spend_log_means),
            spend_log_sd=spend.log_sd,
            population=population,
            state_names=tuple(hmm.state_names_),
            purchase_segment_offset=pick(effects.purchase_segment_offset),
            visit_segment_offset=pick(effects.visit_segment_offset),
            purchase_recency_offset=pick(effects.purchase_recency_offset),
            visit_recency_offset=pick(effects.visit_recency_offset),
            carryover_levels=effects.carryover_levels,
        )

    n_draws = effects.purchase_offset.shape[0]
    return ParameterDraws(draws=tuple(parameters(i) for i in range(n_draws)), mean=parameters(None), assumptions=assumptions)


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("numpy", "scipy", "pandas", "pymc", "arviz", "nutpie", "gymnasium"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions
