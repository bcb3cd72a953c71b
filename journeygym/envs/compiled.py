"""The compiled per-customer loops behind :func:`~journeygym.envs.kernel.step_population` and the observation writer.

Why compiled: the week as numpy calls makes some thirty passes over N arrays,
and the observation's weekly columns are strided writes into an ``(N, D)``
buffer; one pass per customer is about twice as fast at N = 100,000, and at the
small N of training the numpy calls' fixed cost dominated
(``benchmarks/bench_population_env.py``; figures in ``docs/benchmarks.md``).

The loops do exactly what the numpy code did, in the same order and with the
same C library functions (``exp``, ``log1p``), so the results are bit-identical
to the numpy code they replaced (compared over 120 weeks, with and without
contact rules) and to the scalar :func:`~journeygym.envs.kernel.step_customer`,
which the tests check.  The spend of a purchase (``ndtri``, ``exp`` over the buyers,
a few percent of the customers) stays numpy, so its rounding is numpy's.

The functions compile on first use (under a second, once: the machine code is
cached beside this module) and run single-threaded.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")
def step_loop(  # type: ignore[no-untyped-def]
    actions,
    noise,
    subscribed,
    segment_key,
    fatigue,
    hidden_state,
    visit_covariate_logit,
    purchase_covariate_logit,
    week,
    weeks_since_purchase,
    weeks_since_visit,
    recent_purchases,
    recent_visits,
    last_action,
    recent_emails,
    unsubscribe_prob,
    transition_cdf,
    visit_logit,
    purchase_logit,
    next_fatigue,
    next_weeks_since,
    shifted_recent,
    action_stride,
    n_states,
    email_history_mask,
    action_cost,
    is_contact,
    is_email,
    margin,
    reward,
    delivered,
    unsubscribed,
    visited,
    purchased,
    visit_prob,
    purchase_prob,
):
    """One week for every customer, in place: docs/architecture.md, "The week of a customer" except the buyers' spend (see :func:`step_population`).

    ``reward`` gets the week's reward of a customer who did not buy
    (``0.0 * margin - cost``, as numpy computes it); the caller adds the spend.
    """
    width = transition_cdf.shape[1]
    for i in range(actions.shape[0]):
        action = actions[i] if subscribed[i] else 0
        cell = action * action_stride + segment_key[i] + fatigue[i] * n_states
        row = cell + hidden_state[i]

        leaves = noise[0, i] < unsubscribe_prob[row]
        unsubscribed[i] = leaves
        if leaves:
            subscribed[i] = False

        # Inverse-CDF sampling of z': the count of cumulative probabilities at or below the uniform.
        u_transition = noise[1, i]
        next_state = 0
        for j in range(width):
            if u_transition >= transition_cdf[row, j]:
                next_state += 1

        cell += next_state
        p_visit = 1.0 / (1.0 + math.exp(-(visit_logit[cell] + visit_covariate_logit[i])))
        p_purchase = 1.0 / (1.0 + math.exp(-(purchase_logit[cell] + purchase_covariate_logit[i])))
        visit = noise[2, i] < p_visit
        purchase = noise[3, i] < p_purchase
        visit_prob[i] = p_visit
        purchase_prob[i] = p_purchase
        visited[i] = visit
        purchased[i] = purchase

        fatigue[i] = next_fatigue[row]
        hidden_state[i] = next_state
        week[i] += 1
        weeks_since_purchase[i] = 0 if purchase else next_weeks_since[weeks_since_purchase[i]]
        weeks_since_visit[i] = 0 if visit else next_weeks_since[weeks_since_visit[i]]
        recent_purchases[i] = shifted_recent[recent_purchases[i]] | purchase
        recent_visits[i] = shifted_recent[recent_visits[i]] | visit
        last_action[i] = action
        delivered[i] = is_contact[action]
        reward[i] = 0.0 * margin - action_cost[action]
        recent_emails[i] = ((recent_emails[i] << 1) & email_history_mask) | is_email[action]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def write_dynamic_columns(  # type: ignore[no-untyped-def]
    out,
    first_column,
    week,
    weeks_since_purchase,
    weeks_since_visit,
    recent_purchases,
    recent_visits,
    fatigue,
    subscribed,
    last_action,
    cumulative_spend,
    per_week,
    per_weeks_since,
    fatigue_column,
    popcount_quarters,
    per_log_money,
    n_actions,
):
    """The weekly observation columns of every customer, one row at a time (see ``DynamicColumnWriter``).

    Each product is taken in float64 and rounded to float32 once, as numpy's
    ``multiply(..., out=float32)`` does; the spend column is ``log1p`` in
    float64, rounded, then scaled and clipped in float32.
    """
    c = first_column
    scale = np.float32(per_log_money)
    spend_column = c + 7 + n_actions
    for i in range(out.shape[0]):
        out[i, c] = week[i] * per_week
        out[i, c + 1] = weeks_since_purchase[i] * per_weeks_since
        out[i, c + 2] = weeks_since_visit[i] * per_weeks_since
        out[i, c + 3] = popcount_quarters[recent_purchases[i]]
        out[i, c + 4] = popcount_quarters[recent_visits[i]]
        out[i, c + 5] = fatigue_column[fatigue[i]]
        out[i, c + 6] = 1.0 if subscribed[i] else 0.0
        for a in range(n_actions):
            out[i, c + 7 + a] = 1.0 if last_action[i] == a else 0.0
        spend = cumulative_spend[i]
        if spend == 0.0:
            out[i, spend_column] = 0.0
        else:
            scaled = np.float32(math.log1p(spend)) * scale
            out[i, spend_column] = scaled if scaled < 1.0 else np.float32(1.0)
