"""The calibration pipeline: real data in, a validated parameter artifact out (docs/calibration.md).

Steps, in order (each prints a progress line); :func:`calibrate` calls one
function per step:

1. :func:`load_calibration_data`: the Hillstrom trial and the CDNOW log
   (SHA-256 of each file recorded);
2. :func:`fit_hidden_state_model`: the hidden-state model on CDNOW (point fit,
   see below) and the initial hidden state given recency through its filter;
3. :func:`fit_uplift_model`: Bayesian hierarchical uplift models for visit and
   conversion on the full trial;
4. :func:`match_posterior_draws`: per posterior draw, the levels and the e-mail
   responses ``eta``, ``alpha`` and ``beta`` per segment x arm and carryover
   level (:mod:`journeygym.calibration.effects`);
5. :func:`fit_spend_and_population`: spend and population models; then
   :func:`assemble_draws` builds one parameter set per draw;
6. :func:`anchor_fatigue`: the fatigue multiplier's ``kappa`` and power are
   fitted to the frequency response (weekly e-mail to everyone about +30%
   annual revenue, every k weeks about k^-0.41 of that,
   :mod:`journeygym.calibration.frequency`);
7. :func:`validate_draws`: the simulator replays the trial, and the plausibility
   and frequency checks run; :func:`artifact_metadata` records provenance (the hash of
   :func:`calibration_config`) and diagnostics.  ``journeygym calibrate`` then
   writes the artifact (atomically) with a Markdown report and plots.

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

from journeygym.calibration.effects import MatchedEffects, match_effects
from journeygym.calibration.hillstrom import ARMS, HILLSTROM_FILENAME, load_hillstrom
from journeygym.calibration.hmm import PurchaseHMM, initial_state_given_recency
from journeygym.calibration.frequency import (
    FREQUENCY_ELASTICITY,
    WEEKLY_LIFT_ANCHOR,
    FrequencyAnchor,
    FrequencyReport,
    anchor_frequency_response,
    frequency_report,
)
from journeygym.calibration.plausibility import PlausibilityReport, plausibility_report
from journeygym.calibration.population import fit_population_model
from journeygym.calibration.spend import SpendModel, fit_spend_model
from journeygym.calibration.transactions import CDNOW_FILENAME, DATA_DIR_ENV, load_cdnow
from journeygym.calibration.uplift import BayesianUpliftModel, trial_from_hillstrom
from journeygym.calibration.weekly import weekly_observations
from journeygym.calibration.validation import (
    REQUIRED_COVERAGE,
    coverage,
    observed_trial_rates,
    simulate_trial_rates,
    validation_table,
)
from journeygym.envs.actions import ActionTable
from journeygym.envs.covariates import WEEKS_PER_MONTH
from journeygym.envs.response import logit
from journeygym.envs.parameters import (
    DEFAULT_ACTION_NAMES,
    DEFAULT_CARRYOVER,
    DEFAULT_CARRYOVER_LEVELS,
    DynamicsParameters,
    ParameterDraws,
    PopulationModel,
    ScenarioAssumptions,
)
from journeygym.files import sha256_of_file
from journeygym.records import provenance, to_jsonable

ASSUMPTION_LABELS: dict[str, str] = {
    "carryover": "ASSUMPTION (anchored): a single e-mail's 52-week incremental visits over its two-week ones; long-run/short-run "
    "advertising effects about 2x (Sethuraman, Tellis & Briesch 2011), multipliers 1.2-3.5 (Nielsen Catalina / CBS), e-mail "
    "fades faster (Zantedeschi, Feit & Bradlow 2017); swept 1.0 / 1.5 / 2.5",
    "fatigue_memory": "ASSUMPTION: weekly memory lambda of the fatigue stock F' = lambda F + d; chosen from the fit of the frequency "
    "response against the size of the fatigue grid (docs/fatigue.md)",
    "kappa": "ASSUMPTION (anchored): scale of the fatigue multiplier ((1 + kappa F) / (1 + kappa F0))^-p, fitted with p so weekly "
    "e-mail to everyone earns about +30% annual revenue over never (year-long e-mail holdouts +5% to +30%: Valenti et al. 2023 "
    "+6.5%, MineThatData +30%) and every k weeks about k^-0.41 of that (MineThatData 2018, demand 1.071 x^0.408); swept",
    "fatigue_power": "ASSUMPTION (anchored): power p of the fatigue multiplier, fitted with kappa (see kappa)",
    "trial_fatigue": "ASSUMPTION: fatigue stock F0 of the trial's customers when the trial measured the e-mail effect (0: rested); "
    "the calibrated effects are the trial's at F0; swept",
    "u0": "ASSUMPTION (anchored): sigmoid(u0) = 0.1% unsubscribes per delivered e-mail at zero fatigue (Campaign Monitor 0.1-0.17%, Mailchimp 0.25%)",
    "u1": "ASSUMPTION (anchored): unsubscribes rise to 0.3% per e-mail at the stock of weekly e-mail",
    "margin": "ASSUMPTION: profit share of spend",
    "action_costs": "ASSUMPTION: cost per delivered e-mail",
    "horizon": "scenario choice",
    "discount": "scenario choice",
}


#: The data files every calibration reads (and records the SHA-256 of).
SOURCE_FILES: tuple[str, ...] = (HILLSTROM_FILENAME, CDNOW_FILENAME)
#: Hidden states of the HMM (docs/calibration.md).
HMM_STATES = 5
#: The trial outcomes an uplift model is fitted for, in the order they are sampled.
UPLIFT_OUTCOMES: tuple[str, ...] = ("visit", "conversion")


@dataclass(frozen=True)
class CalibrationData:
    """The two source data sets as loaded, with the SHA-256 of each file."""

    trial: pd.DataFrame
    transactions: pd.DataFrame
    checksums: dict[str, str]


@dataclass(frozen=True)
class TrialValidation:
    """The trial replayed per draw (by segment, by recency) and the plausibility checks."""

    table: pd.DataFrame
    by_recency: pd.DataFrame
    #: Share of the by-segment cells whose observed rate lies inside the 90% predictive interval.
    coverage: float
    plausibility: PlausibilityReport
    frequency: FrequencyReport


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
    fatigue: FrequencyAnchor
    plausibility: PlausibilityReport
    frequency: FrequencyReport
    timings: dict[str, float]

    @property
    def passed(self) -> bool:
        """Whether the trial is reproduced and every plausibility and frequency check passes."""
        return self.coverage >= REQUIRED_COVERAGE and self.plausibility.passed() and self.frequency.passed()


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
    """Run the whole calibration and return the parameter draws with diagnostics.

    The steps are those of the module docstring, in that order; each prints a
    progress line through ``progress`` and its duration goes into the timings.
    """
    levels = _check_carryover(carryover_levels, carryover)
    clock = _StepClock(progress)
    directory = resolve_data_dir(data_dir)
    with clock.step("load", "loading the Hillstrom trial and the CDNOW log"):
        data = load_calibration_data(directory)
    with clock.step("hmm", f"fitting the hidden-state model on CDNOW (K = {HMM_STATES}, EM)"):
        hmm, initial_by_recency = fit_hidden_state_model(data.transactions, seed)
    models: dict[str, BayesianUpliftModel] = {}
    for outcome in UPLIFT_OUTCOMES:
        with clock.step(f"uplift_{outcome}", f"sampling the hierarchical uplift model for {outcome} (64,000 rows)"):
            models[outcome] = fit_uplift_model(data.trial, outcome, seed, sampler_kwargs)
    rng = np.random.default_rng(seed)  # one stream: the matching's subsamples first, then the spend draws
    with clock.step("matching", f"matching {n_draws} draws: levels, then eta, alpha, beta per segment x arm at carryover {list(levels)}"):
        effects = match_posterior_draws(data.trial, hmm, initial_by_recency, models, n_draws, levels, rng)
    with clock.step("spend_population", "fitting the spend and population models"):
        spend, spend_log_means, population = fit_spend_and_population(data.trial, n_draws, rng)
    with clock.step("fatigue", "anchoring the fatigue on the frequency response: weekly e-mail about +30%, every k weeks k^-0.41 of it"):
        draws = assemble_draws(hmm, initial_by_recency, effects, spend, spend_log_means, population, ScenarioAssumptions(carryover=carryover))
        draws, fatigue = anchor_fatigue(draws, seed)
    with clock.step("validation", "validating: the simulator replays the two-week trial per draw; plausibility over a year"):
        validation = validate_draws(draws, data.trial, seed)
    config = calibration_config(n_draws, seed, data.checksums, models, levels, draws.assumptions)
    metadata = artifact_metadata(config, seed, data, hmm, models, effects, fatigue, validation, clock.timings)
    return CalibrationResult(
        draws=ParameterDraws(draws=draws.draws, mean=draws.mean, assumptions=draws.assumptions, metadata=metadata),
        hmm=hmm,
        validation=validation.table,
        validation_by_recency=validation.by_recency,
        coverage=validation.coverage,
        uplift_models=models,
        matching_clipped=effects.clipped,
        matching_cells=effects.cells,
        fatigue=fatigue,
        plausibility=validation.plausibility,
        frequency=validation.frequency,
        timings=clock.timings,
    )


def load_calibration_data(directory: Path) -> CalibrationData:
    """The Hillstrom trial and the CDNOW log from ``directory``, each checked by its loader, with the files' SHA-256."""
    return CalibrationData(
        trial=load_hillstrom(directory),
        transactions=load_cdnow(directory),
        checksums={name: sha256_of_file(directory / name) for name in SOURCE_FILES},
    )


def fit_hidden_state_model(transactions: pd.DataFrame, seed: int) -> tuple[PurchaseHMM, np.ndarray]:
    """The HMM fitted on the weekly CDNOW sequences, and the ``(12, K)`` week-0 state given recency 1..12 months.

    A point fit shared by all draws (see the module docstring).
    """
    hmm = PurchaseHMM(n_states=HMM_STATES, seed=seed).fit(weekly_observations(transactions, start="after_first_purchase"))
    recency_weeks = np.rint(np.arange(1, 13) * WEEKS_PER_MONTH).astype(int)
    return hmm, initial_state_given_recency(hmm, recency_weeks)


def fit_uplift_model(trial: pd.DataFrame, outcome: str, seed: int, sampler_kwargs: dict[str, Any] | None) -> BayesianUpliftModel:
    """The hierarchical Bayesian uplift model of ``outcome`` (``"visit"`` or ``"conversion"``) on the full trial."""
    model = BayesianUpliftModel(kind="hierarchical", seed=seed, **(sampler_kwargs or {}))
    return model.fit(trial_from_hillstrom(trial, outcome=outcome))


def match_posterior_draws(
    trial: pd.DataFrame,
    hmm: PurchaseHMM,
    initial_by_recency: np.ndarray,
    models: dict[str, BayesianUpliftModel],
    n_draws: int,
    levels: tuple[float, ...],
    rng: np.random.Generator,
) -> MatchedEffects:
    """``n_draws`` evenly spaced samples of each uplift posterior, matched to levels and e-mail responses.

    See :func:`~journeygym.calibration.effects.match_effects`; ``rng`` picks
    the customer subsamples and the control-rate draws.
    """
    picks = {outcome: _thin(models[outcome].uplift_draws_.shape[0], n_draws) for outcome in models}
    return match_effects(
        trial,
        hmm.transmat_,
        hmm.purchase_prob_,
        initial_by_recency,
        {outcome: models[outcome].uplift_draws_[picks[outcome]] for outcome in models},
        {outcome: models[outcome].covariate_effects_draws_[picks[outcome]] for outcome in models},
        levels,
        rng,
    )


def fit_spend_and_population(
    trial: pd.DataFrame, n_draws: int, rng: np.random.Generator
) -> tuple[SpendModel, np.ndarray, PopulationModel]:
    """The spend model with ``(n_draws, G)`` posterior draws of its log means, and the population model."""
    spend = fit_spend_model(trial)
    spend_log_means = spend.sample_log_means(rng, n_draws)
    return spend, spend_log_means, fit_population_model(trial)


def calibration_config(
    n_draws: int,
    seed: int,
    checksums: dict[str, str],
    models: dict[str, BayesianUpliftModel],
    levels: tuple[float, ...],
    assumptions: ScenarioAssumptions,
) -> dict[str, Any]:
    """The settings the artifact's config hash covers, the anchored scenario assumptions included."""
    return {
        "n_draws": n_draws,
        "seed": seed,
        "data_sha256": checksums,
        "sampler": _sampler_settings(models["conversion"]),
        "carryover_levels": list(levels),
        "fatigue_anchor": {"weekly_revenue_uplift": WEEKLY_LIFT_ANCHOR, "frequency_elasticity": FREQUENCY_ELASTICITY},
        "assumptions": assumptions.to_dict(),
    }


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


def assemble_draws(
    hmm: PurchaseHMM,
    initial_by_recency: np.ndarray,
    effects: MatchedEffects,
    spend: SpendModel,
    spend_log_means: np.ndarray,
    population: PopulationModel,
    assumptions: ScenarioAssumptions,
) -> ParameterDraws:
    """One :class:`DynamicsParameters` per draw, plus their mean.

    The matched responses are ``(S, R, G, A)``; the parameters store them as
    ``(R, A, G)`` (the artifact's layout), so they are transposed here, after
    taking the draw or the mean over the draws.
    """
    visit_prob = expit(logit(hmm.purchase_prob_)[None, :] + effects.visit_level[:, None])

    def parameters(index: int | None) -> DynamicsParameters:
        pick = (lambda a: a[index]) if index is not None else (lambda a: a.mean(axis=0))

        def pick_response(a: np.ndarray) -> np.ndarray:
            return np.swapaxes(pick(a), -1, -2)  # (R, G, A) -> (R, A, G)

        return DynamicsParameters(
            transition=hmm.transmat_,
            initial_state_by_recency=initial_by_recency,
            purchase_prob=hmm.purchase_prob_,
            visit_prob=pick(visit_prob),
            purchase_offset=float(pick(effects.purchase_offset)),
            purchase_covariate_effects=pick(effects.purchase_covariate_effects),
            visit_covariate_effects=pick(effects.visit_covariate_effects),
            covariate_means=effects.covariate_means,
            purchase_response=pick_response(effects.purchase_response),
            visit_response=pick_response(effects.visit_response),
            engagement_tilt=pick_response(effects.engagement_tilt),
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


def anchor_fatigue(draws: ParameterDraws, seed: int) -> tuple[ParameterDraws, FrequencyAnchor]:
    """Kappa and p fitted on the assembled draws; the draws returned carry the anchored assumptions (and no metadata yet)."""
    anchor = anchor_frequency_response(draws, draws.assumptions, seed=seed)
    assumptions = draws.assumptions.replace(kappa=anchor.kappa, fatigue_power=anchor.power)
    return ParameterDraws(draws=draws.draws, mean=draws.mean, assumptions=assumptions, metadata={}), anchor


def validate_draws(draws: ParameterDraws, trial: pd.DataFrame, seed: int) -> TrialValidation:
    """The simulator replays the two-week trial per draw (by segment and by recency); the plausibility checks run."""
    arm_sizes = trial["arm"].value_counts().sort_index().to_numpy()
    table = validation_table(observed_trial_rates(trial), simulate_trial_rates(draws, arm_sizes, seed), ARMS)
    by_recency = validation_table(
        observed_trial_rates(trial, "recency"), simulate_trial_rates(draws, arm_sizes, seed, "recency"), ARMS, "recency"
    )
    plausibility = plausibility_report(draws, seed=seed)
    frequency = frequency_report(draws, seed=seed)
    return TrialValidation(
        table=table, by_recency=by_recency, coverage=coverage(table), plausibility=plausibility, frequency=frequency
    )


def artifact_metadata(
    config: dict[str, Any],
    seed: int,
    data: CalibrationData,
    hmm: PurchaseHMM,
    models: dict[str, BayesianUpliftModel],
    effects: MatchedEffects,
    fatigue: FrequencyAnchor,
    validation: TrialValidation,
    timings: dict[str, float],
) -> dict[str, Any]:
    """The record the artifact carries: provenance (with the hash of ``config``), fits, diagnostics and timings."""
    return {
        **provenance(config, seed),
        "label": f"calibrated on Hillstrom + CDNOW, {config['n_draws']} posterior draws",
        "calibrated": True,
        "data_sha256": data.checksums,
        "actions": ActionTable.of_emails(DEFAULT_ACTION_NAMES, ScenarioAssumptions().action_costs, ARMS).records(),
        "assumption_labels": ASSUMPTION_LABELS,
        "hmm": {
            "loglik": float(hmm.loglik_),
            "purchase_prob": hmm.purchase_prob_.tolist(),
            "staying_prob": np.diag(hmm.transmat_).tolist(),
            "uncertainty": "point fit shared by all draws",
        },
        "uplift_diagnostics": {k: to_jsonable(m.diagnostics_) for k, m in models.items()},
        "matching_clipped": effects.clipped,
        "fatigue_anchor": to_jsonable(asdict(fatigue)),
        "plausibility": [
            {"check": name, "measured": measured, "passed": ok}
            for name, measured, ok in validation.plausibility.checks() + validation.frequency.checks()
        ],
        "libraries": _library_versions(),
        "validation_coverage": validation.coverage,
        "validation_coverage_by_recency": coverage(validation.by_recency),
        "timings_s": timings,
    }


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("numpy", "scipy", "pandas", "pymc", "arviz", "nutpie", "gymnasium"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions
