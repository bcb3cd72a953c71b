"""Property tests (hypothesis) of the contact rules as the population env enforces them, against brute force."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from journeygym.envs import CustomerPopulationVectorEnv
from journeygym.envs.contact_rules import ContactRules
from journeygym.testing import default_observation_index
from journeygym.envs.parameters import MAX_CAP_WEEKS, ScenarioAssumptions
from journeygym.testing import make_synthetic_draws

DRAWS = make_synthetic_draws()
#: Slack of the budget's rounding: a share of 0.29 of 100 customers is a budget of 29 e-mails.
ROUNDING = Fraction(1, 10**6)


@st.composite
def caps(draw):
    k = draw(st.integers(1, 4))
    return k, draw(st.integers(k, MAX_CAP_WEEKS))


budgets = st.one_of(
    st.none(),
    st.builds(lambda share: {"contact_budget": share}, st.floats(0.0, 1.0, exclude_min=True)),
    st.builds(lambda share: {"contact_budget": share}, st.sampled_from([0.01, 0.1, 0.29, 0.3, 0.5, 0.7, 1.0])),
    st.builds(lambda count: {"contact_budget_per_1000": count}, st.floats(0.0, 1000.0, exclude_min=True)),
    st.builds(lambda count: {"contact_budget_per_1000": count}, st.integers(1, 1000)),
)
#: None (random thinning), ties from a few levels, or continuous scores (with the sign mixed).
priority_kinds = st.sampled_from(["none", "ties", "continuous", "mixed"])


def _priorities(kind: str, rng: np.random.Generator, n: int) -> np.ndarray | None:
    if kind == "none" or (kind == "mixed" and rng.random() < 0.3):
        return None
    if kind == "ties" or kind == "mixed":
        return rng.integers(-1, 3, n).astype(np.float64)
    return rng.normal(size=n) * 10.0 ** rng.integers(-3, 4)


def _brute_force_wait(ages: list[int], k: int, w: int) -> int:
    """Weeks without e-mail until fewer than ``k`` e-mails lie in the last ``w - 1`` weeks (``ages``: weeks ago)."""
    d = 0
    while sum(1 for age in ages if age + d <= w - 1) >= k:
        d += 1
    return d


def _exact_budget(rules: dict, n_subscribed: int, n_customers: int) -> Fraction:
    """The budget in e-mails as the decimal number the user wrote (before rounding down)."""
    if "contact_budget" in rules:
        return Fraction(repr(rules["contact_budget"])) * n_subscribed
    return Fraction(repr(rules["contact_budget_per_1000"])) * n_customers / 1000


@settings(max_examples=80, deadline=None)
@given(
    budget=budgets,
    cap=st.one_of(st.none(), caps()),
    kind=priority_kinds,
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    weeks=st.integers(1, 20),
    email_rate=st.floats(0.0, 1.0),
    u0=st.floats(-9.0, 0.0),
)
def test_rules_hold_every_week(budget, cap, kind, seed, n, weeks, email_rate, u0):
    rules = {**(budget or {}), **({"cap_emails": cap[0], "cap_weeks": cap[1]} if cap else {})}
    env = CustomerPopulationVectorEnv(
        num_envs=n, artifact=DRAWS, params=seed % len(DRAWS), scenario={**rules, "u0": u0}, horizon=weeks
    )
    rng = np.random.default_rng(seed)
    observation, _ = env.reset(seed=seed)
    names = env.parameters.action_names
    delivered_history = np.zeros((weeks, n), dtype=bool)
    for week in range(weeks):
        subscribed = env.state.subscribed.copy()
        actions = np.where(rng.random(n) < email_rate, rng.integers(1, 3, n), 0)
        priorities = _priorities(kind, rng, n)
        env.prioritize(priorities)
        observation, _, _, _, info = env.step(actions)
        delivered = info["delivered"]
        delivered_history[week] = delivered

        # Unsubscribed customers are never e-mailed, nor counted as requests.
        assert not delivered[~subscribed].any()
        if not rules:
            assert "requested" not in info
            continue
        requested, capped, thinned = info["requested"], info["capped"], info["thinned"]
        np.testing.assert_array_equal(requested, (actions != 0) & subscribed)
        np.testing.assert_array_equal(delivered, requested & ~capped & ~thinned)
        assert not (capped & thinned).any()

        # The cap: blocked exactly when k e-mails lie in the last w - 1 weeks; never broken over any w weeks.
        if cap:
            k, w = cap
            recent = delivered_history[max(0, week - (w - 1)) : week].sum(axis=0)
            np.testing.assert_array_equal(capped, requested & (recent >= k))
            windows = np.lib.stride_tricks.sliding_window_view(delivered_history[: week + 1], min(w, week + 1), axis=0)
            assert windows.sum(axis=-1).max(initial=0) <= k
        else:
            assert not capped.any()

        # The budget: floor of the exact budget, never exceeded; thinning only when it binds.
        passed = requested & ~capped
        if budget:
            exact = _exact_budget(budget, int(subscribed.sum()), n)
            assert exact - 1 < env.last_budget <= exact + ROUNDING
            assert delivered.sum() == min(int(passed.sum()), env.last_budget)
            if passed.sum() <= env.last_budget:
                assert not thinned.any()
            if priorities is not None and thinned.any() and (passed & ~thinned).any():
                assert priorities[passed & ~thinned].min() >= priorities[thinned].max()
        else:
            assert not thinned.any() and env.last_budget == -1

        # The observation's cap column, from each customer's delivered history.
        if cap:
            k, w = cap
            column = observation[:, default_observation_index(names, frequency_cap=True)["weeks_until_email_allowed"]]
            waits = [
                _brute_force_wait([week + 1 - t for t in np.flatnonzero(delivered_history[: week + 1, i])], k, w)
                for i in range(n)
            ]
            np.testing.assert_allclose(column, np.array(waits) / (w - 1) if w > 1 else 0.0, rtol=1e-6)
        else:
            assert observation.shape[1] == len(default_observation_index(names))


@settings(max_examples=60, deadline=None)
@given(
    cap=caps(),
    masks=st.lists(st.integers(0, 2**MAX_CAP_WEEKS - 1), min_size=1, max_size=200),
    extra_bits=st.integers(0, 2**20),
)
def test_weeks_until_allowed_is_the_brute_force_count(cap, masks, extra_bits):
    """The table agrees with the definition for any history, bits older than the window included."""
    k, w = cap
    rules = ContactRules(ScenarioAssumptions(cap_emails=k, cap_weeks=w))
    histories = np.array(masks, dtype=np.int64) | (extra_bits << MAX_CAP_WEEKS)
    expected = [_brute_force_wait([j + 1 for j in range(64) if (m >> j) & 1], k, w) for m in histories.tolist()]
    np.testing.assert_array_equal(rules.weeks_until_allowed(histories), expected)
    assert [rules.customer_wait(m) for m in histories.tolist()] == expected
    assert ((rules.wait_table >= 0) & (rules.wait_table <= w - 1)).all()


@settings(max_examples=100, deadline=None)
@given(
    budget=budgets.filter(lambda b: b is not None),
    cap=st.one_of(st.none(), caps()),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    kind=priority_kinds,
)
def test_enforce_keeps_the_highest_priorities(budget, cap, seed, n, kind):
    """``ContactRules.enforce`` on arbitrary histories: top-k by priority, ties and random thinning within budget."""
    assumptions = ScenarioAssumptions(**budget, **({"cap_emails": cap[0], "cap_weeks": cap[1]} if cap else {}))
    rules = ContactRules(assumptions)
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 3, n)
    subscribed = rng.random(n) < 0.9
    recent = rng.integers(0, 2**MAX_CAP_WEEKS, n)
    priorities = _priorities(kind, rng, n)
    result = rules.enforce(actions, subscribed, recent, priorities, rng.random(n))
    requested = (actions != 0) & subscribed
    expected_capped = requested & (rules.weeks_until_allowed(recent) > 0) if cap else np.zeros(n, dtype=bool)
    np.testing.assert_array_equal(result.capped, expected_capped)
    passed = requested & ~result.capped
    kept = passed & ~result.thinned
    assert not (result.thinned & ~passed).any()
    # Requests to unsubscribed customers are left for the kernel to void.
    np.testing.assert_array_equal((result.actions != 0) & subscribed, kept)
    np.testing.assert_array_equal(result.actions[kept | ~subscribed], actions[kept | ~subscribed])
    assert kept.sum() == min(int(passed.sum()), result.budget)
    if priorities is not None and result.thinned.any() and kept.any():
        assert priorities[kept].min() >= priorities[result.thinned].max()
