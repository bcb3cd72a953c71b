"""The calibration pipeline: real data in, a validated parameter artifact out (docs/calibration.md).

Steps, in order (each prints a progress line); :func:`calibrate` calls one
function per step on :class:`~journeygym.calibration.inputs.CalibrationInputs`
(:func:`~journeygym.calibration.sources.calibration_inputs` builds them from a
dataset spec, the built-in Hillstrom + CDNOW one or the user's own):

1. :func:`fit_hidden_state_model`: the hidden-state model on the log (point fit,
   see below) and the week-0 hidden state of each start profile: given recency
   through its filter, or the log's own state distribution;
2. :func:`fit_uplift_model`: Bayesian hierarchical uplift models for visit
   (when the trial recorded visits) and conversion on the full trial;
3. :func:`match_posterior_draws`: per posterior draw, the levels and the e-mail
   responses ``eta``, ``alpha`` and ``beta`` per segment x arm and carryover
   level (:mod:`journeygym.calibration.effects`);
4. :func:`fit_spend`: spend per purchase from the trial's spend, else from the
   log's amounts; then :func:`assemble_draws` builds one parameter set per draw
   (with the population model fitted on the trial);
5. :func:`anchor_fatigue`: the fatigue multiplier's ``kappa`` and power are
   fitted to the frequency response (weekly e-mail to everyone about +30%
   annual revenue, every k weeks about k^-0.41 of that,
   :mod:`journeygym.calibration.frequency`); a trial with no detectable effect
   cannot anchor it, and keeps the package's defaults, labelled as such;
6. :func:`validate_draws`: the simulator replays the trial, and the plausibility
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
from journeygym.calibration.frequency import (
    FREQUENCY_ELASTICITY,
    WEEKLY_LIFT_ANCHOR,
    FrequencyAnchor,
    FrequencyReport,
    anchor_frequency_response,
    frequency_report,
)
from journeygym.calibration.hmm import PurchaseHMM, initial_state_given_recency
from journeygym.calibration.inputs import CalibrationInputs, CalibrationTrial
from journeygym.calibration.plausibility import PlausibilityReport, plausibility_report
from journeygym.calibration.spend import SpendModel, fit_spend_model, spend_model_from_log
from journeygym.calibration.uplift import BayesianUpliftModel
from journeygym.calibration.uplift.tables import trial_from_calibration
from journeygym.calibration.validation import (
    REQUIRED_COVERAGE,
    coverage,
    has_grouping,
    observed_trial_rates,
    simulate_trial_rates,
    validation_table,
)
from journeygym.calibration.weekly import weekly_observations
from journeygym.datasets.transactions import DATA_DIR_ENV
from journeygym.envs.actions import ActionTable
from journeygym.envs.parameters import (
    DEFAULT_CARRYOVER,
    DEFAULT_CARRYOVER_LEVELS,
    DynamicsParameters,
    ParameterDraws,
    ScenarioAssumptions,
)
from journeygym.envs.population import PopulationModel
from journeygym.envs.response import logit
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


#: Hidden states of the HMM (docs/calibration.md).
HMM_STATES = 5
#: An arm's effect is "detected" when the lower end of this posterior interval of its conversion uplift is above 0.
EFFECT_DETECTION_QUANTILE = 0.05


@dataclass(frozen=True)
class TrialValidation:
    """The trial replayed per draw (by segment, by recency) and the plausibility checks."""

    table: pd.DataFrame
    by_recency: pd.DataFrame | None
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
    validation_by_recency: pd.DataFrame | None
    coverage: float
    uplift_models: dict[str, BayesianUpliftModel]
    matching_clipped: dict[str, int]
    matching_cells: pd.DataFrame
    fatigue: FrequencyAnchor | None
    plausibility: PlausibilityReport
    frequency: FrequencyReport
    timings: dict[str, float]
    inputs: CalibrationInputs | None = None

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


def check_carryover_levels(levels: Sequence[float], carryover: float) -> tuple[float, ...]:
    """The carryover levels sorted and deduplicated; refused (``ValueError``) when the default ``carryover`` is not among them."""
    chosen = tuple(sorted({float(v) for v in levels}))
    if not any(abs(v - carryover) <= 1e-9 for v in chosen):
        raise ValueError(
            f"--carryover: received levels {list(chosen)}, which miss the default carryover {carryover:g}; "
            f"add it (e.g. --carryover {','.join(f'{v:g}' for v in sorted({*chosen, carryover}))})."
        )
    return chosen


def calibrate(
    inputs: CalibrationInputs,
    n_draws: int = 200,
    seed: int = 0,
    progress: Callable[[str], None] = print,
    sampler_kwargs: dict[str, Any] | None = None,
    carryover_levels: Sequence[float] = DEFAULT_CARRYOVER_LEVELS,
    carryover: float = DEFAULT_CARRYOVER,
) -> CalibrationResult:
    """Run the whole calibration on ``inputs`` and return the parameter draws with diagnostics.

    The steps are those of the module docstring, in that order; each prints a
    progress line through ``progress`` and its duration goes into the timings.
    """
    levels = check_carryover_levels(carryover_levels, carryover)
    clock = _StepClock(progress)
    trial = inputs.trial
    for line in inputs.choices:
        progress(f"  - {line}")
    with clock.step("hmm", f"fitting the hidden-state model on the log (K = {HMM_STATES}, EM)"):
        hmm, initial_by_start = fit_hidden_state_model(inputs, seed)
    models: dict[str, BayesianUpliftModel] = {}
    for outcome in trial.outcomes:
        with clock.step(f"uplift_{outcome}", f"sampling the hierarchical uplift model for {outcome} ({len(trial.frame):,} rows)"):
            models[outcome] = fit_uplift_model(trial, outcome, seed, sampler_kwargs)
    rng = np.random.default_rng(seed)  # one stream: the matching's subsamples first, then the spend draws
    with clock.step("matching", f"matching {n_draws} draws: levels, then eta, alpha, beta per segment x arm at carryover {list(levels)}"):
        effects = match_posterior_draws(trial, hmm, initial_by_start, models, n_draws, levels, rng)
    with clock.step("spend_population", "fitting the spend model"):
        spend, spend_log_means = fit_spend(inputs, n_draws, rng)
    detected = detected_arms(trial, models["conversion"])
    assumptions = ScenarioAssumptions(carryover=carryover, margin=inputs.margin, action_costs=tuple(trial.arm_costs))
    with clock.step("fatigue", "anchoring the fatigue on the frequency response: weekly e-mail about +30%, every k weeks k^-0.41 of it"):
        draws = assemble_draws(hmm, initial_by_start, effects, spend, spend_log_means, trial, assumptions)
        if any(detected):
            draws, fatigue = anchor_fatigue(draws, seed)
        else:
            fatigue = None
            progress(
                "  - no arm has a detectable effect (the 90% interval of every arm's conversion uplift reaches 0): the "
                "frequency response cannot be anchored; kappa and p keep the package defaults (ASSUMPTIONS)"
            )
    with clock.step("validation", "validating: the simulator replays the trial per draw; plausibility over a year"):
        validation = validate_draws(draws, trial, seed, frequency_applies=fatigue is not None)
    config = calibration_config(n_draws, seed, inputs.checksums, models, levels, draws.assumptions, inputs.dataset)
    metadata = artifact_metadata(config, seed, inputs, hmm, models, effects, fatigue, validation, clock.timings, detected)
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
        inputs=inputs,
    )


def fit_hidden_state_model(inputs: CalibrationInputs, seed: int) -> tuple[PurchaseHMM, np.ndarray]:
    """The HMM fitted on the log's weekly sequences, and the ``(R, K)`` week-0 state of each start profile.

    With recency, a start profile's state is the filter's belief given its weeks since the
    last purchase; without, the log's own state distribution (the filtered state of every
    log customer at the log's last week, averaged).  A point fit shared by all draws (see
    the module docstring).
    """
    sequences = weekly_observations(inputs.transactions, start=inputs.log_start)
    hmm = PurchaseHMM(n_states=HMM_STATES, seed=seed).fit(sequences)
    trial = inputs.trial
    if trial.start_source == "recency":
        return hmm, initial_state_given_recency(hmm, trial.start_weeks)
    if trial.start_source == "linked":
        return hmm, linked_start_states(hmm, inputs)
    beliefs = hmm.filter(sequences)
    lengths = np.asarray(sequences.lengths)
    observed = np.flatnonzero(lengths > 0)  # a customer whose first purchase fell in the last week has no week yet
    last = beliefs[observed, lengths[observed] - 1]
    return hmm, last.mean(axis=0, keepdims=True)


def linked_start_states(hmm: PurchaseHMM, inputs: CalibrationInputs) -> np.ndarray:
    """``(R, K)``: each trial customer's filtered belief from their own log up to the trial date, averaged per start profile.

    A customer without a purchase before the trial date (or whose first purchase week is
    the last one) starts from the belief of "a purchase, then 52 quiet weeks".
    """
    trial = inputs.trial
    before = inputs.transactions.loc[inputs.transactions["date"] < inputs.trial_date]
    sequences = weekly_observations(before, start=inputs.log_start, end_date=inputs.trial_date)
    beliefs = hmm.filter(sequences)
    lengths = np.asarray(sequences.lengths)
    last = np.full((len(lengths), hmm.n_states), np.nan)
    observed = np.flatnonzero(lengths > 0)
    last[observed] = beliefs[observed, lengths[observed] - 1]
    position = pd.Series(np.arange(len(lengths)), index=pd.Index(sequences.customer_ids).astype(str))
    rows = position.reindex(pd.Index(inputs.linked_ids).astype(str)).to_numpy()
    fallback = initial_state_given_recency(hmm, np.array([52]))[0]
    own = np.where(np.isfinite(rows)[:, None], last[np.nan_to_num(rows).astype(np.int64)], fallback)
    own = np.where(np.isfinite(own).all(axis=1, keepdims=True), own, fallback)
    start = trial.frame["start_idx"].to_numpy()
    return np.stack([own[start == r].mean(axis=0) for r in range(len(trial.start_labels))])


def fit_uplift_model(trial: CalibrationTrial, outcome: str, seed: int, sampler_kwargs: dict[str, Any] | None) -> BayesianUpliftModel:
    """The hierarchical Bayesian uplift model of ``outcome`` (``"visit"`` or ``"conversion"``) on the full trial."""
    model = BayesianUpliftModel(kind="hierarchical", seed=seed, **(sampler_kwargs or {}))
    return model.fit(trial_from_calibration(trial, outcome))


def match_posterior_draws(
    trial: CalibrationTrial,
    hmm: PurchaseHMM,
    initial_by_start: np.ndarray,
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
        initial_by_start,
        {outcome: models[outcome].uplift_draws_[picks[outcome]] for outcome in models},
        {outcome: models[outcome].covariate_effects_draws_[picks[outcome]] for outcome in models},
        levels,
        rng,
    )


def fit_spend(inputs: CalibrationInputs, n_draws: int, rng: np.random.Generator) -> tuple[SpendModel, np.ndarray]:
    """The spend model (from the trial's spend, else the log's amounts) with ``(n_draws, G)`` draws of its log means."""
    trial = inputs.trial
    n_segments = len(trial.segment_labels)
    if trial.has_spend:
        spend = fit_spend_model(trial.frame, n_segments)
    else:
        spend = spend_model_from_log(inputs.transactions, n_segments)
    return spend, spend.sample_log_means(rng, n_draws)


def detected_arms(trial: CalibrationTrial, conversion: BayesianUpliftModel) -> list[bool]:
    """Per arm, whether its conversion uplift (averaged over the segments by size) is above 0 at the 5% quantile."""
    shares = np.bincount(trial.frame["segment_idx"].to_numpy(), minlength=len(trial.segment_labels))
    shares = shares / shares.sum()
    overall = np.einsum("sgk,g->sk", conversion.uplift_draws_, shares)
    return [bool(np.quantile(overall[:, k], EFFECT_DETECTION_QUANTILE) > 0) for k in range(overall.shape[1])]


def calibration_config(
    n_draws: int,
    seed: int,
    checksums: dict[str, str],
    models: dict[str, BayesianUpliftModel],
    levels: tuple[float, ...],
    assumptions: ScenarioAssumptions,
    dataset: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The settings the artifact's config hash covers, the anchored scenario assumptions and the dataset spec included."""
    config = {
        "n_draws": n_draws,
        "seed": seed,
        "data_sha256": checksums,
        "sampler": _sampler_settings(models["conversion"]),
        "carryover_levels": list(levels),
        "fatigue_anchor": {"weekly_revenue_uplift": WEEKLY_LIFT_ANCHOR, "frequency_elasticity": FREQUENCY_ELASTICITY},
        "assumptions": assumptions.to_dict(),
    }
    if dataset is not None:  # the built-in data set's spec is the package's own (its hashes are in data_sha256)
        config["dataset"] = dataset
    return config


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
    trial: CalibrationTrial,
    assumptions: ScenarioAssumptions,
) -> ParameterDraws:
    """One :class:`DynamicsParameters` per draw, plus their mean (with the trial's population and action names).

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
            population=trial.population,
            state_names=tuple(hmm.state_names_),
            action_names=tuple(trial.arm_ids),
            visits_follow_purchases=not trial.has_visit,
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


def validate_draws(draws: ParameterDraws, trial: CalibrationTrial, seed: int, frequency_applies: bool = True) -> TrialValidation:
    """The simulator replays the trial per draw (by segment, and by recency when the trial has it); the plausibility checks run.

    ``frequency_applies`` False (a trial with no detectable effect): the frequency
    response is reported, but its checks cannot fail (there is no effect to anchor).
    """
    table = validation_table(observed_trial_rates(trial), simulate_trial_rates(draws, trial, seed), trial)
    by_recency = None
    if has_grouping(trial, "recency"):
        by_recency = validation_table(
            observed_trial_rates(trial, "recency"), simulate_trial_rates(draws, trial, seed, "recency"), trial, "recency"
        )
    plausibility = plausibility_report(draws, seed=seed, window=trial.window_weeks)
    frequency = frequency_report(draws, seed=seed, applies=frequency_applies)
    return TrialValidation(
        table=table, by_recency=by_recency, coverage=coverage(table), plausibility=plausibility, frequency=frequency
    )


def artifact_metadata(
    config: dict[str, Any],
    seed: int,
    inputs: CalibrationInputs,
    hmm: PurchaseHMM,
    models: dict[str, BayesianUpliftModel],
    effects: MatchedEffects,
    fatigue: FrequencyAnchor | None,
    validation: TrialValidation,
    timings: dict[str, float],
    detected: Sequence[bool] = (),
) -> dict[str, Any]:
    """The record the artifact carries: provenance (with the hash of ``config``), fits, diagnostics and timings."""
    trial = inputs.trial
    labels = list(ASSUMPTION_LABELS.items())
    if fatigue is None:
        labels = [(k, v + " -- NOT anchored: the trial shows no effect; the package default") if k in ("kappa", "fatigue_power") else (k, v)
                  for k, v in labels]
    metadata = {
        **provenance(config, seed),
        "label": f"calibrated on {inputs.label}, {config['n_draws']} posterior draws",
        "calibrated": True,
        "data_sha256": inputs.checksums,
        "actions": ActionTable.of_emails(tuple(trial.arm_ids), tuple(trial.arm_costs), tuple(trial.arm_labels)).records(),
        "assumption_labels": dict(labels),
        "choices": list(inputs.choices),
        "window_weeks": trial.window_weeks,
        "effect_detected": {arm: bool(d) for arm, d in zip(trial.arm_ids[1:], detected)},
        "hmm": {
            "loglik": float(hmm.loglik_),
            "purchase_prob": hmm.purchase_prob_.tolist(),
            "staying_prob": np.diag(hmm.transmat_).tolist(),
            "uncertainty": "point fit shared by all draws",
        },
        "uplift_diagnostics": {k: to_jsonable(m.diagnostics_) for k, m in models.items()},
        "matching_clipped": effects.clipped,
        "fatigue_anchor": to_jsonable(asdict(fatigue)) if fatigue is not None else None,
        "plausibility": [
            {"check": name, "measured": measured, "passed": ok}
            for name, measured, ok in validation.plausibility.checks() + validation.frequency.checks()
        ],
        "libraries": _library_versions(),
        "validation_coverage": validation.coverage,
        "validation_coverage_by_recency": coverage(validation.by_recency) if validation.by_recency is not None else None,
        "timings_s": timings,
    }
    if inputs.dataset is not None:  # the built-in data set is found through --data-dir instead
        metadata["dataset"] = inputs.dataset
        metadata["data_paths"] = inputs.data_paths
    return metadata


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("numpy", "scipy", "pandas", "pymc", "arviz", "nutpie", "gymnasium"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions
