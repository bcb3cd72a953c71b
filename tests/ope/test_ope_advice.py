"""The recommendation of ``journeygym ope``: every branch of the rule table, and what it says."""

from __future__ import annotations

import pytest

from journeygym.ope.advice import (
    LOWER_BOUND_ESTIMATOR,
    MAX_LOW_PROPENSITY_SHARE,
    MIN_EFFECTIVE_CUSTOMERS,
    MIN_ESS_SHARE,
    MIN_EXPLORATION,
    OVERLAP_LEVELS,
    RANKING_ESTIMATOR,
    RULES,
    Advice,
    advise,
    overlap_level,
)
from journeygym.ope.episodes import OPEInputError

#: Overlap like the benchmark's uniform logs (never on 20,000 customers): adequate.
BENCHMARK_LIKE = {
    "n_decisions": 900_000,
    "ess_per_decision": 192.0,
    "ess_per_decision_share": 0.0096,
    "low_propensity_share": 0.0,
    "support_violation_share": 0.0,
    "propensities_estimated": False,
    "exploration": 1 / 3,
}


def diagnostics(**changes):
    return {**BENCHMARK_LIKE, **changes}


def test_the_rule_table_covers_every_level_in_order():
    assert tuple(rule.overlap for rule in RULES) == OVERLAP_LEVELS
    assert all(rule.evidence for rule in RULES)


@pytest.mark.parametrize(
    "changes, level, needle",
    [
        ({}, "adequate", "no support violation"),
        ({"support_violation_share": 0.02}, "unsupported", "never takes in 2.00% of the decisions"),
        ({"ess_per_decision_share": MIN_ESS_SHARE / 2}, "weak", "effective sample share is 0.0025 (needs >= 0.005)"),
        ({"ess_per_decision": MIN_EFFECTIVE_CUSTOMERS - 1}, "weak", "it has 99 effective customers per week (needs >= 100)"),
        ({"n_decisions": 0, "ess_per_decision_share": float("nan")}, "weak", "no decision of a subscribed customer"),
        ({"low_propensity_share": 2 * MAX_LOW_PROPENSITY_SHARE}, "heavy_tailed", "2.00% of its decisions"),
        ({"exploration": 0.05 / 3}, "targeted", "smallest action probability averages 0.017 (needs >= 0.2)"),
        # Diagnostics written before the log's exploration was recorded skip that rule.
        ({"exploration": float("nan")}, "adequate", "no support violation"),
        # Weak overlap before a targeting log: a weak policy is untrusted whatever the log.
        ({"exploration": 0.01, "ess_per_decision": 1.0}, "weak", "effective customers"),
        # The first rule that matches wins: support violations before weak overlap.
        ({"support_violation_share": 0.5, "ess_per_decision": 1.0}, "unsupported", "never takes"),
    ],
)
def test_each_branch_of_the_rule_gives_its_level_and_why(changes, level, needle):
    found, reason = overlap_level(diagnostics(**changes))
    assert found == level
    assert needle in reason


def test_adequate_overlap_trusts_dm_to_rank_and_dr_to_bound():
    advice = advise({"never": diagnostics(), "always_mens": diagnostics(ess_per_decision_share=0.011)})
    assert advice.ranking == RANKING_ESTIMATOR == "dm" and advice.ranked == ("never", "always_mens")
    assert advice.lower_bound == LOWER_BOUND_ESTIMATOR == "dr" and advice.bounded == ("never", "always_mens")
    assert advice.lower_bound_field == "lower_bound_t" and advice.not_run == () and advice.caveats == ()
    text = "\n".join(advice.lines())
    assert "For ranking never, always_mens: trust dm" in text and "Spearman 0.668" in text
    assert "For a safe lower bound on never, always_mens: trust dr's Student-t bound" in text and "100%" in text
    assert "No estimator can be trusted" not in text


def test_weak_overlap_trusts_no_estimator():
    advice = advise({"never": diagnostics(ess_per_decision=5.0), "random": diagnostics(ess_per_decision_share=0.001)})
    assert advice.ranking is None and advice.lower_bound is None and advice.ranked == advice.bounded == ()
    lines = advice.lines()
    assert lines[0].startswith("No estimator can be trusted for ranking or a lower bound of never: it has 5 effective")
    assert lines[1].startswith("No estimator can be trusted for ranking or a lower bound of random: its per-decision")


def test_heavy_tails_keep_the_ranking_but_not_the_bound():
    advice = advise({"a": diagnostics(low_propensity_share=0.2), "b": diagnostics()})
    assert advice.ranking == "dm" and advice.ranked == ("a", "b")
    assert advice.lower_bound == "dr" and advice.bounded == ("b",)
    assert any(line.startswith("No estimator can be trusted for a lower bound of a: 20.00%") for line in advice.lines())


def test_a_log_of_a_targeting_policy_trusts_no_ranking_and_a_pdis_bound():
    # ltv_uplift run epsilon-greedy at 0.05: a candidate's per-decision overlap looks adequate, the log does not.
    advice = advise({"never": diagnostics(exploration=0.0167), "ppo": diagnostics(exploration=0.0167)})
    assert {a.overlap for a in advice.policies} == {"targeted"}
    assert advice.ranking is None and advice.ranked == ()
    assert advice.lower_bound == "pdis" and advice.bounded == ("never", "ppo")
    text = "\n".join(advice.lines())
    assert "trust pdis's Student-t bound (is is also safe, and looser)" in text and "no estimator ranked" in text
    assert "No estimator can be trusted for ranking of never: the logging policy's smallest action probability" in text
    record = advice.as_dict()
    assert record["lower_bound_alternatives"] == ["is"] and record["thresholds"]["min_exploration"] == MIN_EXPLORATION
    assert Advice.from_dict(record) == advice


def test_ranking_needs_two_policies_that_allow_it():
    advice = advise({"a": diagnostics(), "b": diagnostics(support_violation_share=0.1)})
    assert advice.ranking is None and advice.ranked == ("a",)
    assert advice.lower_bound == "dr" and advice.bounded == ("a",)
    assert "Ranking needs two policies whose overlap allows it; only a does." in advice.lines()


def test_estimators_not_run_and_estimated_propensities_are_said():
    advice = advise(
        {"a": diagnostics(propensities_estimated=True), "b": diagnostics()}, estimators=["is", "pdis", "dr"]
    )
    assert advice.not_run == ("dm",)
    text = "\n".join(advice.lines())
    assert "trust dm (not run: add dm to --estimators)" in text
    assert "Caveat: the log has no propensities: they were estimated, so the lower bound is approximate" in text


def test_the_record_reads_back_to_the_same_advice():
    advice = advise({"a": diagnostics(), "b": diagnostics(ess_per_decision=3.0)}, estimators=["dr"])
    record = advice.as_dict()
    assert record["thresholds"]["min_ess_share"] == MIN_ESS_SHARE and record["ranking_alternatives"] == ["magic", "mdr", "mis"]
    assert Advice.from_dict(record) == advice


@pytest.mark.parametrize(
    "given, needle",
    [
        ({}, "expected a non-empty mapping"),
        ({"a": {"ess_per_decision": 1.0}}, "the diagnostics of policy 'a' lack"),
        ({"a": 3.0}, "policy 'a' has diagnostics of type float"),
    ],
)
def test_bad_diagnostics_are_clear_errors(given, needle):
    with pytest.raises(OPEInputError, match=needle):
        advise(given)


def test_overlap_diagnostics_of_a_log_feed_the_rule():
    from journeygym.baselines.logged_data import simulate_logged_data
    from journeygym.baselines.registry import make_policy
    from journeygym.ope import episodes_from_frame, evaluate_policies

    episodes = episodes_from_frame(simulate_logged_data(400, 1, horizon=6))
    result = evaluate_policies(
        {"never": make_policy("never"), "random": make_policy("random")}, episodes, estimators=["pdis"], n_bootstrap=5
    )
    advice = result.advice()
    # The log's own policy overlaps fully; 'never' on a uniform log of 400 customers has too few effective customers.
    assert {a.policy: a.overlap for a in advice.policies} == {"never": "weak", "random": "adequate"}
    assert advice.bounded == ("random",) and advice.not_run == ("dr",)
