"""Step 4 of the calibration: levels and e-mail responses per posterior draw (docs/calibration.md).

Per posterior draw, on fixed subsamples of the trial's customers:

1. the purchase offset ``delta_0`` and the visit level so the simulated
   two-week control rates equal the observed ones;
2. per history segment and per recency month, logit offsets so the simulated
   control rates of the segment and of the month equal a draw from the
   posterior of the observed rate (alternating passes, so both hold);
3. per segment x arm and carryover level ``rho``: the engagement tilt ``eta``
   and the direct visit response ``alpha`` so a single e-mail's 52-week
   incremental visits are ``rho`` times its two-week ones and the two-week
   visit uplift equals the draw's; then the direct purchase response ``beta``
   so the two-week conversion uplift equals the draw's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journeygym.calibration.matching import carryover_ratio, match_level, match_uplift, match_visit_response
from journeygym.calibration.two_week import CarryoverExperiment, TwoWeekExperiment
from journeygym.envs.covariates import COVARIATE_NAMES, HISTORY_SEGMENTS, RECENCY_MONTHS, design_matrix
from journeygym.envs.response import logit

#: Customers per segment used when matching the e-mail responses (a fixed random subsample keeps it fast).
MATCHING_CUSTOMERS_PER_SEGMENT = 1000
#: Customers used when matching the overall control levels.
MATCHING_CUSTOMERS_OVERALL = 6000
#: The e-mail actions (1 mens, 2 womens): the trial's treated arms.
EMAIL_ACTIONS: tuple[int, ...] = (1, 2)
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
    purchase_recency_offset: np.ndarray  # (S, 12)
    visit_recency_offset: np.ndarray  # (S, 12)
    engagement_tilt: np.ndarray  # (S, R, G, A)
    visit_response: np.ndarray  # (S, R, G, A)
    purchase_response: np.ndarray  # (S, R, G, A)
    clipped: dict[str, int]
    #: One row per carryover level x segment x arm: what the matching reports about the cell.
    cells: pd.DataFrame = field(repr=False)


def match_effects(
    trial: pd.DataFrame,
    transition: np.ndarray,
    purchase_prob: np.ndarray,
    initial_by_recency: np.ndarray,
    uplift_draws: dict[str, np.ndarray],
    covariate_effect_draws: dict[str, np.ndarray],
    carryover_levels: Sequence[float],
    rng: np.random.Generator,
) -> MatchedEffects:
    """Solve the levels and the e-mail responses for every draw.

    Parameters
    ----------
    trial
        The Hillstrom trial (:func:`~journeygym.calibration.hillstrom.load_hillstrom`).
    transition, purchase_prob, initial_by_recency
        The hidden-state model: ``(K, K)``, ``(K,)`` and ``(12, K)``.
    uplift_draws
        ``{"visit": (S, G, 2), "conversion": (S, G, 2)}`` posterior draws of the two-week uplift per
        segment and e-mail arm.
    covariate_effect_draws
        ``{"visit": (S, C), "conversion": (S, C)}`` posterior draws of the covariate effects.
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
    n_draws = uplift_draws["visit"].shape[0]
    covariates = design_matrix(
        trial["recency"], trial["history"], trial["mens"], trial["womens"], trial["newbie"], trial["zip_idx"], trial["channel_idx"]
    )
    covariate_means = covariates.mean(axis=0)
    centred = covariates - covariate_means
    belief = initial_by_recency[trial["recency"].to_numpy() - 1]
    segment = trial["segment_idx"].to_numpy()
    month = trial["recency"].to_numpy() - 1
    control = trial["arm"].to_numpy() == 0
    gamma = {outcome: _without_recency(covariate_effect_draws[outcome]) for outcome in OUTCOMES}
    state_logit = logit(purchase_prob)  # the visit level, like the purchase level, starts from the HMM's logits
    n_actions, n_segments, n_months = 1 + len(EMAIL_ACTIONS), len(HISTORY_SEGMENTS), len(RECENCY_MONTHS)
    segment_offsets = {outcome: np.zeros((n_draws, n_segments)) for outcome in OUTCOMES}
    recency_offsets = {outcome: np.zeros((n_draws, n_months)) for outcome in OUTCOMES}

    def event_logits(rows: np.ndarray, outcome: str, level: np.ndarray) -> np.ndarray:
        static = (centred[rows] @ gamma[outcome].T).T + segment_offsets[outcome][:, segment[rows]] + recency_offsets[outcome][:, month[rows]]
        return level[:, None, None] + state_logit[None, None, :] + static[:, :, None]

    overall = rng.choice(np.flatnonzero(control), size=min(MATCHING_CUSTOMERS_OVERALL, control.sum()), replace=False)
    zeros = np.zeros(n_draws)
    levels_matched = {
        outcome: match_level(
            belief[overall], transition, event_logits(overall, outcome, zeros), np.full(n_draws, trial.loc[control, outcome].mean())
        )
        for outcome in ("conversion", "visit")
    }
    control_rates = {outcome: segment_control_rate_draws(trial, outcome, n_draws, rng) for outcome in ("visit", "conversion")}
    shape = (n_draws, len(levels), n_segments, n_actions)
    tilt, visit_effect, purchase_effect = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    clipped = {"delta_0": int(levels_matched["conversion"].clipped.sum()), "visit_level": int(levels_matched["visit"].clipped.sum()),
               "segment_offsets": 0, "recency_offsets": 0, "eta_alpha": 0, "beta": 0}
    segment_rows = []
    for g in range(n_segments):
        members = np.flatnonzero(segment == g)
        segment_rows.append(rng.choice(members, size=min(MATCHING_CUSTOMERS_PER_SEGMENT, members.size), replace=False))
    # Recency: the HMM's week-0 state given recency carries recency's effect, but the trial's control rates
    # fall less steeply with recency than that state does; offsets by month match them (a Beta posterior draw
    # per month, as for segments), alternating with the segment offsets so both hold together.
    month_rates = {outcome: _control_rate_draws(trial, outcome, "recency", range(1, n_months + 1), n_draws, rng) for outcome in OUTCOMES}
    month_rows = []
    for m in range(n_months):
        members = np.flatnonzero(month == m)
        month_rows.append(rng.choice(members, size=min(MATCHING_CUSTOMERS_PER_SEGMENT, members.size), replace=False))
    for sweep in range(OFFSET_SWEEPS):
        last = sweep == OFFSET_SWEEPS - 1
        for outcome in OUTCOMES:
            for m, rows in enumerate(month_rows):
                shift = match_level(belief[rows], transition, event_logits(rows, outcome, levels_matched[outcome].values), month_rates[outcome][:, m])
                recency_offsets[outcome][:, m] += shift.values
                clipped["recency_offsets"] += int(shift.clipped.sum()) if last else 0
            for g, rows in enumerate(segment_rows):
                shift = match_level(belief[rows], transition, event_logits(rows, outcome, levels_matched[outcome].values), control_rates[outcome][:, g])
                segment_offsets[outcome][:, g] += shift.values
                clipped["segment_offsets"] += int(shift.clipped.sum()) if last else 0
    cells = []
    for g, rows in enumerate(segment_rows):
        logits = {outcome: event_logits(rows, outcome, levels_matched[outcome].values) for outcome in OUTCOMES}
        two_week = {outcome: TwoWeekExperiment(belief[rows], transition, logits[outcome]) for outcome in logits}
        counts = {outcome: CarryoverExperiment(belief[rows], transition, logits[outcome]) for outcome in logits}
        previous: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        previous_beta: dict[int, np.ndarray] = {}
        for r, rho in enumerate(levels):
            for arm in EMAIL_ACTIONS:
                visit = match_visit_response(
                    two_week["visit"], counts["visit"], uplift_draws["visit"][:, g, arm - 1], rho, start=previous.get(arm)
                )
                if rho > 1.0:
                    previous[arm] = (visit.tilt, visit.visit_effect)  # the next, larger level starts from here
                beta = match_uplift(
                    two_week["conversion"], uplift_draws["conversion"][:, g, arm - 1], visit.tilt, start=previous_beta.get(arm)
                )
                previous_beta[arm] = beta.values
                tilt[:, r, g, arm], visit_effect[:, r, g, arm], purchase_effect[:, r, g, arm] = visit.tilt, visit.visit_effect, beta.values
                clipped["eta_alpha"] += int(visit.clipped.sum())
                clipped["beta"] += int(beta.clipped.sum())
                purchase_ratio = carryover_ratio(counts["conversion"], visit.tilt, beta.values)
                cells.append(
                    {
                        "carryover": rho,
                        "segment": HISTORY_SEGMENTS[g],
                        "arm": arm,
                        "eta_median": float(np.median(visit.tilt)),
                        "alpha_median": float(np.median(visit.visit_effect)),
                        "beta_median": float(np.median(beta.values)),
                        "share_beta_negative": float(np.mean(beta.values < 0)),
                        "visit_ratio_min": float(np.nanmin(visit.ratio)) if np.isfinite(visit.ratio).any() else np.nan,
                        "visit_ratio_max": float(np.nanmax(visit.ratio)) if np.isfinite(visit.ratio).any() else np.nan,
                        "purchase_ratio_median": float(np.nanmedian(purchase_ratio)),
                        "draws_without_visit_uplift": int(visit.undefined.sum()),
                        "draws_clipped": int((visit.clipped | beta.clipped).sum()),
                    }
                )
    return MatchedEffects(
        carryover_levels=levels,
        covariate_means=covariate_means,
        purchase_covariate_effects=gamma["conversion"],
        visit_covariate_effects=gamma["visit"],
        purchase_offset=levels_matched["conversion"].values,
        visit_level=levels_matched["visit"].values,
        purchase_segment_offset=segment_offsets["conversion"],
        visit_segment_offset=segment_offsets["visit"],
        purchase_recency_offset=recency_offsets["conversion"],
        visit_recency_offset=recency_offsets["visit"],
        engagement_tilt=tilt,
        visit_response=visit_effect,
        purchase_response=purchase_effect,
        clipped=clipped,
        cells=pd.DataFrame(cells),
    )


def segment_control_rate_draws(trial: pd.DataFrame, outcome: str, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_draws, G)`` draws of each segment's two-week control rate from its Beta(1 + k, 1 + n - k) posterior.

    The uplift models share one intercept across segments (their covariate
    effects describe a smooth gradient), but the trial's segment baselines are
    not smooth in history (segment 5 visits less than segments 3 and 4); the
    simulator's segment offsets are matched to these draws instead.
    """
    return _control_rate_draws(trial, outcome, "segment_idx", range(len(HISTORY_SEGMENTS)), n_draws, rng)


def _control_rate_draws(
    trial: pd.DataFrame, outcome: str, column: str, groups: Sequence[int], n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_draws, len(groups))`` draws of each group's control rate from its Beta(1 + k, 1 + n - k) posterior."""
    control = trial[trial["arm"] == 0]
    counts = control.groupby(column)[outcome].agg(["sum", "count"]).reindex(list(groups), fill_value=0)
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
