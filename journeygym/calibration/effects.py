"""Step 4 of the calibration: levels and e-mail responses per posterior draw (docs/calibration.md).

Per posterior draw, on fixed subsamples of the trial's customers:

1. the purchase offset ``delta_0`` and the visit level so the simulated
   control rates over the trial's window equal the observed ones;
2. per segment and per start profile (recency month), logit offsets so the
   simulated control rates of the segment and of the month equal a draw from
   the posterior of the observed rate (alternating passes, so both hold);
3. per segment x arm and carryover level ``rho``: the engagement tilt ``eta``
   and the direct visit response ``alpha`` so a single e-mail's 52-week
   incremental visits are ``rho`` times its window's ones and the window's
   visit uplift equals the draw's; then the direct purchase response ``beta``
   so the window's conversion uplift equals the draw's.

A trial without a visit column has no visit channel to match: step 3 matches
``eta`` and ``beta`` together on conversions (``rho`` then applies to
purchases), ``alpha`` is zero, and the visit level and offsets are the
purchase's (the simulator counts a visit exactly with a purchase).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journeygym.calibration.inputs import CalibrationTrial
from journeygym.calibration.matching import carryover_ratio, match_level, match_uplift, match_visit_response
from journeygym.calibration.two_week import CarryoverExperiment, TwoWeekExperiment
from journeygym.envs.response import logit

#: Customers per segment used when matching the e-mail responses (a fixed random subsample keeps it fast).
MATCHING_CUSTOMERS_PER_SEGMENT = 1000
#: Customers used when matching the overall control levels.
MATCHING_CUSTOMERS_OVERALL = 6000
OUTCOMES: tuple[str, ...] = ("visit", "conversion")
#: Alternating passes over the recency and segment offsets (the second leaves both within sampling noise).
OFFSET_SWEEPS = 2


@dataclass(frozen=True)
class MatchedEffects:
    """What step 4 solved, per draw.

    The three response arrays are ``(S, R, G, A)``: draw, carryover level,
    segment, action (action 0, no e-mail, is zero), the segment-before-action
    order of every internal table; :class:`~journeygym.envs.parameters.DynamicsParameters`
    stores them as ``(R, A, G)``, the artifact's layout.
    """

    carryover_levels: tuple[float, ...]
    covariate_means: np.ndarray
    purchase_covariate_effects: np.ndarray  # (S, C)
    visit_covariate_effects: np.ndarray  # (S, C)
    purchase_offset: np.ndarray  # (S,)
    visit_level: np.ndarray  # (S,)
    purchase_segment_offset: np.ndarray  # (S, G)
    visit_segment_offset: np.ndarray  # (S, G)
    purchase_recency_offset: np.ndarray  # (S, R) by start profile
    visit_recency_offset: np.ndarray  # (S, R)
    engagement_tilt: np.ndarray  # (S, R, G, A)
    visit_response: np.ndarray  # (S, R, G, A)
    purchase_response: np.ndarray  # (S, R, G, A)
    clipped: dict[str, int]
    #: One row per carryover level x segment x arm: what the matching reports about the cell.
    cells: pd.DataFrame = field(repr=False)


def match_effects(
    trial: CalibrationTrial,
    transition: np.ndarray,
    purchase_prob: np.ndarray,
    initial_by_start: np.ndarray,
    uplift_draws: dict[str, np.ndarray],
    covariate_effect_draws: dict[str, np.ndarray],
    carryover_levels: Sequence[float],
    rng: np.random.Generator,
) -> MatchedEffects:
    """Solve the levels and the e-mail responses for every draw.

    Parameters
    ----------
    trial
        The trial (:class:`~journeygym.calibration.inputs.CalibrationTrial`).
    transition, purchase_prob, initial_by_start
        The hidden-state model: ``(K, K)``, ``(K,)`` and ``(R, K)`` (week-0 state by start profile).
    uplift_draws
        ``{outcome: (S, G, K_arms)}`` posterior draws of the window's uplift per segment and arm, for
        the outcomes the trial has (conversion, and visit when recorded).
    covariate_effect_draws
        ``{outcome: (S, C)}`` posterior draws of the covariate effects.
    carryover_levels
        The carryover ratios ``rho`` to solve the responses for.
    rng
        Picks the customer subsamples and the segment control-rate draws.
    """
    levels = tuple(float(v) for v in carryover_levels)
    for level in levels:
        if not np.isfinite(level) or level < 1.0:
            raise ValueError(
                f"--carryover: received {level!r}, expected finite ratios >= 1 (1 = no persistence), e.g. 1,1.5,2.5."
            )
    frame = trial.frame
    outcomes = trial.outcomes
    n_draws = uplift_draws["conversion"].shape[0]
    if trial.match_on_population:
        covariates, segment, month = _population_sample(trial, rng)
        control = np.ones(segment.size, dtype=bool)  # the targets are the trial's control rates; these are the simulator's customers
    else:
        covariates = trial.design
        month = frame["start_idx"].to_numpy()
        segment = frame["segment_idx"].to_numpy()
        control = frame["arm"].to_numpy() == 0
    covariate_means = covariates.mean(axis=0)
    centred = covariates - covariate_means
    belief = initial_by_start[month]
    gamma = {outcome: _without_recency(covariate_effect_draws[outcome], trial) for outcome in outcomes}
    state_logit = logit(purchase_prob)  # the visit level, like the purchase level, starts from the HMM's logits
    arms = tuple(range(1, trial.n_arms + 1))
    n_actions, n_segments, n_months = 1 + len(arms), len(trial.segment_labels), len(trial.start_labels)
    weeks = trial.window_weeks
    segment_offsets = {outcome: np.zeros((n_draws, n_segments)) for outcome in outcomes}
    recency_offsets = {outcome: np.zeros((n_draws, n_months)) for outcome in outcomes}

    def event_logits(rows: np.ndarray, outcome: str, level: np.ndarray) -> np.ndarray:
        static = (centred[rows] @ gamma[outcome].T).T + segment_offsets[outcome][:, segment[rows]] + recency_offsets[outcome][:, month[rows]]
        return level[:, None, None] + state_logit[None, None, :] + static[:, :, None]

    overall = rng.choice(np.flatnonzero(control), size=min(MATCHING_CUSTOMERS_OVERALL, control.sum()), replace=False)
    zeros = np.zeros(n_draws)
    control_rate = {outcome: frame.loc[frame["arm"] == 0, outcome].mean() for outcome in outcomes}
    levels_matched = {
        outcome: match_level(
            belief[overall], transition, event_logits(overall, outcome, zeros), np.full(n_draws, control_rate[outcome]), weeks
        )
        for outcome in ("conversion", "visit") if outcome in outcomes
    }
    control_rates = {outcome: segment_control_rate_draws(trial, outcome, n_draws, rng) for outcome in ("visit", "conversion") if outcome in outcomes}
    shape = (n_draws, len(levels), n_segments, n_actions)
    tilt, visit_effect, purchase_effect = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    clipped = {"delta_0": int(levels_matched["conversion"].clipped.sum()),
               "visit_level": int(levels_matched["visit"].clipped.sum()) if "visit" in levels_matched else 0,
               "segment_offsets": 0, "recency_offsets": 0, "eta_alpha": 0, "beta": 0}
    segment_rows = []
    for g in range(n_segments):
        members = np.flatnonzero(segment == g)
        segment_rows.append(rng.choice(members, size=min(MATCHING_CUSTOMERS_PER_SEGMENT, members.size), replace=False))
    # Recency: the HMM's week-0 state given recency carries recency's effect, but the trial's control rates
    # fall less steeply with recency than that state does; offsets by month match them (a Beta posterior draw
    # per month, as for segments), alternating with the segment offsets so both hold together.
    month_rates = {outcome: _control_rate_draws(frame, outcome, "start_idx", range(n_months), n_draws, rng) for outcome in outcomes}
    month_rows = []
    for m in range(n_months):
        members = np.flatnonzero(month == m)
        month_rows.append(rng.choice(members, size=min(MATCHING_CUSTOMERS_PER_SEGMENT, members.size), replace=False))
    for sweep in range(OFFSET_SWEEPS):
        last = sweep == OFFSET_SWEEPS - 1
        for outcome in outcomes:
            for m, rows in enumerate(month_rows):
                if rows.size == 0:
                    continue
                shift = match_level(belief[rows], transition, event_logits(rows, outcome, levels_matched[outcome].values), month_rates[outcome][:, m], weeks)
                recency_offsets[outcome][:, m] += shift.values
                clipped["recency_offsets"] += int(shift.clipped.sum()) if last else 0
            for g, rows in enumerate(segment_rows):
                shift = match_level(belief[rows], transition, event_logits(rows, outcome, levels_matched[outcome].values), control_rates[outcome][:, g], weeks)
                segment_offsets[outcome][:, g] += shift.values
                clipped["segment_offsets"] += int(shift.clipped.sum()) if last else 0
    # Without visits the carryover is matched on the conversion channel (see the module docstring).
    carry = "visit" if "visit" in outcomes else "conversion"
    cells = []
    for g, rows in enumerate(segment_rows):
        logits = {outcome: event_logits(rows, outcome, levels_matched[outcome].values) for outcome in outcomes}
        window = {outcome: TwoWeekExperiment(belief[rows], transition, logits[outcome], weeks) for outcome in logits}
        counts = {outcome: CarryoverExperiment(belief[rows], transition, logits[outcome], window=weeks) for outcome in logits}
        previous: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        previous_beta: dict[int, np.ndarray] = {}
        for r, rho in enumerate(levels):
            for arm in arms:
                visit = match_visit_response(
                    window[carry], counts[carry], uplift_draws[carry][:, g, arm - 1], rho, start=previous.get(arm)
                )
                if rho > 1.0:
                    previous[arm] = (visit.tilt, visit.visit_effect)  # the next, larger level starts from here
                if carry == "visit":
                    beta = match_uplift(
                        window["conversion"], uplift_draws["conversion"][:, g, arm - 1], visit.tilt, start=previous_beta.get(arm)
                    )
                    beta_values, beta_clipped = beta.values, beta.clipped
                    previous_beta[arm] = beta.values
                    tilt[:, r, g, arm], visit_effect[:, r, g, arm] = visit.tilt, visit.visit_effect
                else:
                    beta_values, beta_clipped = visit.visit_effect, np.zeros(n_draws, dtype=bool)
                    tilt[:, r, g, arm] = visit.tilt
                purchase_effect[:, r, g, arm] = beta_values
                clipped["eta_alpha"] += int(visit.clipped.sum())
                clipped["beta"] += int(beta_clipped.sum())
                purchase_ratio = carryover_ratio(counts["conversion"], visit.tilt, beta_values)
                cells.append(
                    {
                        "carryover": rho,
                        "segment": trial.segment_labels[g],
                        "arm": arm,
                        "eta_median": float(np.median(visit.tilt)),
                        "alpha_median": float(np.median(visit.visit_effect)) if carry == "visit" else 0.0,
                        "beta_median": float(np.median(beta_values)),
                        "share_beta_negative": float(np.mean(beta_values < 0)),
                        "visit_ratio_min": float(np.nanmin(visit.ratio)) if np.isfinite(visit.ratio).any() else np.nan,
                        "visit_ratio_max": float(np.nanmax(visit.ratio)) if np.isfinite(visit.ratio).any() else np.nan,
                        "purchase_ratio_median": float(np.nanmedian(purchase_ratio)) if np.isfinite(purchase_ratio).any() else np.nan,
                        "draws_without_visit_uplift": int(visit.undefined.sum()),
                        "draws_clipped": int((visit.clipped | beta_clipped).sum()),
                    }
                )
    visit_source = "visit" if "visit" in outcomes else "conversion"
    return MatchedEffects(
        carryover_levels=levels,
        covariate_means=covariate_means,
        purchase_covariate_effects=gamma["conversion"],
        visit_covariate_effects=gamma[visit_source],
        purchase_offset=levels_matched["conversion"].values,
        visit_level=levels_matched[visit_source].values,
        purchase_segment_offset=segment_offsets["conversion"],
        visit_segment_offset=segment_offsets[visit_source],
        purchase_recency_offset=recency_offsets["conversion"],
        visit_recency_offset=recency_offsets[visit_source],
        engagement_tilt=tilt,
        visit_response=visit_effect,
        purchase_response=purchase_effect,
        clipped=clipped,
        cells=pd.DataFrame(cells),
    )


def _population_sample(trial: CalibrationTrial, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design rows, segments and start profiles of as many customers as the trial, drawn from its population model."""
    population = trial.population
    profile = rng.choice(population.weights.size, size=len(trial.frame), p=population.weights)
    design = population.design_of(profile, np.zeros(profile.size))
    return design, population.segment[profile], population.start[profile]


def segment_control_rate_draws(trial: CalibrationTrial, outcome: str, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_draws, G)`` draws of each segment's two-week control rate from its Beta(1 + k, 1 + n - k) posterior.

    The uplift models share one intercept across segments (their covariate
    effects describe a smooth gradient), but the trial's segment baselines are
    not smooth in history (segment 5 visits less than segments 3 and 4); the
    simulator's segment offsets are matched to these draws instead.
    """
    return _control_rate_draws(trial.frame, outcome, "segment_idx", range(len(trial.segment_labels)), n_draws, rng)


def _control_rate_draws(
    trial: pd.DataFrame, outcome: str, column: str, groups: Sequence[int], n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_draws, len(groups))`` draws of each group's control rate from its Beta(1 + k, 1 + n - k) posterior."""
    control = trial[trial["arm"] == 0]
    counts = control.groupby(column)[outcome].agg(["sum", "count"]).reindex(list(groups), fill_value=0)
    hits, totals = counts["sum"].to_numpy(float), counts["count"].to_numpy(float)
    return rng.beta(1.0 + hits, 1.0 + totals - hits, size=(n_draws, hits.size))


def _without_recency(effects: np.ndarray, trial: CalibrationTrial) -> np.ndarray:
    """Covariate effects with recency's set to zero.

    The simulator already carries recency through the hidden state (the HMM
    filter gives the week-0 state given recency); keeping the logistic
    model's recency effect as well would count it twice.  The model is still
    fitted with recency, so the other effects are adjusted for it.
    """
    effects = effects.copy()
    if trial.recency_covariate is not None:
        effects[:, trial.covariate_names.index(trial.recency_covariate)] = 0.0
    return effects
