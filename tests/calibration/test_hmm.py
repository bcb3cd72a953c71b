"""Tests of the vectorized categorical HMM."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from journeygym.errors import DataValidationError
from journeygym.calibration.hmm import (
    STATE_NAMES,
    PurchaseHMM,
    initial_state_given_recency,
    select_n_states,
)
from journeygym.calibration.hmm.em import EStepWorkspace, e_step as anchor_e_step
from journeygym.calibration.hmm.params import HMMParams, random_params
from journeygym.calibration.hmm.sequences import anchor_events

TRUE_START = np.array([0.5, 0.3, 0.2])
TRUE_TRANS = np.array([[0.95, 0.04, 0.01], [0.05, 0.90, 0.05], [0.02, 0.08, 0.90]])
TRUE_EMIS = np.array([[0.97, 0.02, 0.01], [0.80, 0.15, 0.05], [0.40, 0.20, 0.40]])


def true_model() -> PurchaseHMM:
    return PurchaseHMM.from_params(TRUE_START, TRUE_TRANS, TRUE_EMIS)


def random_model(rng: np.random.Generator, n_states: int = 3, n_symbols: int = 3) -> PurchaseHMM:
    return PurchaseHMM.from_params(
        rng.dirichlet(np.ones(n_states)),
        rng.dirichlet(np.ones(n_states), size=n_states),
        rng.dirichlet(np.ones(n_symbols), size=n_states),
    )


def ragged(obs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Pad each row after its length with -1."""
    out = obs.astype(np.int64).copy()
    out[np.arange(obs.shape[1])[None, :] >= np.asarray(lengths)[:, None]] = -1
    return out


# --------------------------------------------------------------------------
# brute force over all state paths (tiny cases)
# --------------------------------------------------------------------------


def path_probabilities(
    model: PurchaseHMM, seq: np.ndarray
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    seq = seq[seq >= 0]
    k = model.n_states
    paths = list(itertools.product(range(k), repeat=len(seq)))
    probs = np.empty(len(paths))
    for i, path in enumerate(paths):
        p = model.startprob_[path[0]] * model.emissionprob_[path[0], seq[0]]
        for t in range(1, len(seq)):
            p *= model.transmat_[path[t - 1], path[t]] * model.emissionprob_[path[t], seq[t]]
        probs[i] = p
    return paths, probs


def brute_force_counts(model: PurchaseHMM, seqs: np.ndarray):
    k, m = model.emissionprob_.shape
    start, trans, emis = np.zeros(k), np.zeros((k, k)), np.zeros((k, m))
    loglik = 0.0
    for seq in seqs:
        obs = seq[seq >= 0]
        paths, probs = path_probabilities(model, seq)
        loglik += np.log(probs.sum())
        post = probs / probs.sum()
        for path, w in zip(paths, post):
            start[path[0]] += w
            for t, z in enumerate(path):
                emis[z, obs[t]] += w
                if t:
                    trans[path[t - 1], z] += w
    return loglik, start, trans, emis


TINY = np.array(
    [
        [0, 1, 0, 2, 0],
        [0, 0, 0, -1, -1],
        [2, 2, 1, 0, -1],
        [0, 1, 0, 2, 0],  # a duplicate
        [1, -1, -1, -1, -1],
    ]
)


def e_step(model: PurchaseHMM, seqs: np.ndarray):
    events = anchor_events(seqs)
    params = HMMParams(model.startprob_, model.transmat_, model.emissionprob_)
    workspace = EStepWorkspace(events, model.n_states, model.emissionprob_.shape[1])
    return anchor_e_step(events, params, workspace)


def assert_counts_match(got, want):
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10)
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)


def test_expected_counts_match_brute_force():
    model = random_model(np.random.default_rng(3))
    assert_counts_match(e_step(model, TINY), brute_force_counts(model, TINY))


@settings(max_examples=40, deadline=None)
@given(
    n_states=st.integers(1, 3),
    n_symbols=st.integers(2, 3),
    rows=st.integers(1, 4),
    weeks=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_expected_counts_match_brute_force_for_any_short_sequences(
    n_states, n_symbols, rows, weeks, seed
):
    """Covers runs of no-purchase weeks at the start, between purchases and at
    the end, sequences without any purchase, and purchases in adjacent weeks."""
    rng = np.random.default_rng(seed)
    model = random_model(rng, n_states, n_symbols)
    zero_heavy = rng.random((rows, weeks)) < 0.6
    seqs = np.where(zero_heavy, 0, rng.integers(0, n_symbols, size=(rows, weeks)))
    seqs = ragged(seqs, rng.integers(1, weeks + 1, size=rows))
    assert_counts_match(e_step(model, seqs), brute_force_counts(model, seqs))


def test_score_matches_brute_force():
    model = random_model(np.random.default_rng(4))
    want = [np.log(path_probabilities(model, s)[1].sum()) for s in TINY]
    np.testing.assert_allclose(model.score_samples(TINY), want, rtol=1e-12)
    assert model.score(TINY) == pytest.approx(sum(want), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    model = random_model(rng, n_states=3)
    seqs = ragged(rng.integers(0, 3, size=(6, 5)), rng.integers(1, 6, size=6))
    paths = model.predict(seqs)
    assert paths.shape == seqs.shape
    for seq, got in zip(seqs, paths):
        cand, probs = path_probabilities(model, seq)
        best = cand[int(np.argmax(probs))]
        n = len(best)
        assert tuple(got[:n]) == best
        assert (got[n:] == -1).all()


def test_long_runs_without_purchase_do_not_underflow():
    # Weekly no-purchase probability about 0.4: a 3000-week run has
    # probability near 1e-1200, far below the smallest float64.
    model = PurchaseHMM.from_params(
        np.array([0.5, 0.5]), np.array([[0.9, 0.1], [0.2, 0.8]]),
        np.array([[0.45, 0.55], [0.3, 0.7]]),
    )
    seqs = np.zeros((2, 3000), dtype=int)
    seqs[1, 1500] = 1
    loglik, start, trans, emis = e_step(model, seqs)
    dense = model.score_samples(seqs)
    assert np.all(np.isfinite(dense)) and dense[0] < -2000
    assert loglik == pytest.approx(dense.sum(), rel=1e-10)
    assert trans.sum() == pytest.approx(2 * 2999, rel=1e-10)
    assert emis.sum() == pytest.approx(6000, rel=1e-10) and start.sum() == pytest.approx(2)


# --------------------------------------------------------------------------
# filtering and padding
# --------------------------------------------------------------------------


def test_filter_rows_sum_to_one_and_padding_is_nan():
    model = true_model()
    obs, _ = model.sample(50, 12, rng=0)
    lengths = np.random.default_rng(1).integers(1, 13, size=50)
    seqs = ragged(obs, lengths)
    beliefs = model.filter(seqs)
    assert beliefs.shape == (50, 12, 3)
    valid = seqs >= 0
    np.testing.assert_allclose(beliefs[valid].sum(axis=1), 1.0, rtol=1e-12)
    assert (beliefs[valid] >= 0).all()
    assert np.isnan(beliefs[~valid]).all()


def test_filter_matches_brute_force_marginal():
    model = random_model(np.random.default_rng(6))
    seq = np.array([0, 2, 0, 1])
    beliefs = model.filter(seq[None])[0]
    for t in range(len(seq)):
        paths, probs = path_probabilities(model, seq[: t + 1])
        marginal = np.zeros(model.n_states)
        for path, p in zip(paths, probs):
            marginal[path[-1]] += p
        np.testing.assert_allclose(beliefs[t], marginal / marginal.sum(), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    seq=st.lists(st.integers(0, 2), min_size=1, max_size=8),
    extra=st.integers(0, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_padding_does_not_change_likelihood_or_beliefs(seq, extra, seed):
    model = random_model(np.random.default_rng(seed))
    bare = np.array(seq)[None]
    padded = np.concatenate([bare, np.full((1, extra), -1)], axis=1)
    assert model.score_samples(padded)[0] == pytest.approx(model.score_samples(bare)[0], rel=1e-12)
    beliefs = model.filter(padded)[0]
    n = len(seq)
    assert np.all(beliefs[:n] >= 0)
    np.testing.assert_allclose(beliefs[:n].sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(beliefs[:n], model.filter(bare)[0], rtol=1e-12, atol=1e-300)
    assert np.isnan(beliefs[n:]).all()


def test_rows_do_not_interact():
    model = true_model()
    obs, _ = model.sample(40, 10, rng=2)
    seqs = ragged(obs, np.random.default_rng(3).integers(1, 11, size=40))
    seqs = np.concatenate([seqs, seqs[:5]])  # duplicates are merged internally
    batch_scores = model.score_samples(seqs)
    single = [model.score_samples(s[None])[0] for s in seqs]
    np.testing.assert_allclose(batch_scores, single, rtol=1e-12)
    paths = model.predict(seqs)
    np.testing.assert_array_equal(paths[-5:], paths[:5])


# --------------------------------------------------------------------------
# EM
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampled() -> np.ndarray:
    obs, _ = true_model().sample(2000, 60, rng=11)
    lengths = np.random.default_rng(12).integers(40, 61, size=2000)
    return ragged(obs, lengths)


@pytest.fixture(scope="module")
def recovered(sampled) -> PurchaseHMM:
    return PurchaseHMM(n_states=3, n_restarts=3, max_iter=300, tol=1e-8, seed=0).fit(sampled)


def test_em_recovers_known_parameters(recovered):
    np.testing.assert_allclose(recovered.emissionprob_, TRUE_EMIS, atol=0.03)
    np.testing.assert_allclose(recovered.transmat_, TRUE_TRANS, atol=0.03)
    np.testing.assert_allclose(recovered.startprob_, TRUE_START, atol=0.06)


def test_fit_is_at_least_as_likely_as_the_truth(recovered, sampled):
    assert recovered.loglik_ >= true_model().score(sampled) - 1e-6
    assert recovered.loglik_ == pytest.approx(recovered.score(sampled), rel=1e-12)
    assert recovered.loglik_ == pytest.approx(recovered.restart_logliks_.max(), rel=1e-12)


def test_loglik_never_decreases_over_iterations(sampled):
    model = PurchaseHMM(n_states=3, n_restarts=1, max_iter=60, tol=0.0, seed=5).fit(sampled[:300])
    history = model.loglik_history_
    assert len(history) == model.n_iter_ + 1
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))
    assert history[-1] > history[0]


def test_states_are_ordered_and_named(recovered):
    assert np.all(np.diff(recovered.purchase_prob_) > 0)
    np.testing.assert_allclose(recovered.purchase_prob_, 1 - recovered.emissionprob_[:, 0])
    assert recovered.state_names_ == ("state_0", "state_1", "state_2")
    emission = np.array([[0.9, 0.1], [0.5, 0.5], [0.99, 0.01], [0.7, 0.3], [0.2, 0.8]])
    five = PurchaseHMM.from_params(np.full(5, 0.2), np.full((5, 5), 0.2), emission)
    assert five.state_names_ == STATE_NAMES
    assert np.all(np.diff(five.purchase_prob_) > 0)


def test_fit_is_deterministic_given_seed(sampled):
    kw = dict(n_states=2, n_restarts=2, max_iter=30, seed=7)
    a = PurchaseHMM(**kw).fit(sampled[:200])
    b = PurchaseHMM(**kw).fit(sampled[:200])
    np.testing.assert_array_equal(a.transmat_, b.transmat_)
    np.testing.assert_array_equal(a.restart_logliks_, b.restart_logliks_)
    c = clone(a)
    assert c.get_params() == a.get_params() and not hasattr(c, "transmat_")


def test_init_params_start_the_first_restart(sampled):
    init = {"startprob": TRUE_START, "transmat": TRUE_TRANS, "emissionprob": TRUE_EMIS}
    model = PurchaseHMM(n_states=3, n_restarts=1, max_iter=0, init_params=init).fit(sampled)
    np.testing.assert_allclose(model.transmat_, TRUE_TRANS)
    assert model.n_iter_ == 0
    assert model.loglik_ == pytest.approx(true_model().score(sampled), rel=1e-12)
    with pytest.raises(DataValidationError, match="shape"):
        PurchaseHMM(n_states=2, init_params=init).fit(sampled)


def test_matches_hmmlearn_from_the_same_start(sampled):
    hmmlearn = pytest.importorskip("hmmlearn.hmm")
    data = sampled[:300]
    rng = np.random.default_rng(8)
    init = {
        "startprob": rng.dirichlet(np.ones(3)),
        "transmat": rng.dirichlet(np.ones(3), size=3) * 0.2 + np.eye(3) * 0.8,
        "emissionprob": rng.dirichlet(np.ones(3), size=3),
    }
    ours = PurchaseHMM(n_states=3, n_restarts=1, max_iter=15, tol=0.0, init_params=init).fit(data)
    theirs = hmmlearn.CategoricalHMM(n_components=3, n_features=3, n_iter=15, tol=-np.inf,
                                     init_params="", params="ste", implementation="scaling")
    theirs.startprob_, theirs.transmat_, theirs.emissionprob_ = (
        init["startprob"].copy(), init["transmat"].copy(), init["emissionprob"].copy())
    lengths = (data >= 0).sum(axis=1)
    theirs.fit(data[data >= 0].reshape(-1, 1), lengths)
    order = np.argsort(1 - theirs.emissionprob_[:, 0])
    np.testing.assert_allclose(ours.emissionprob_, theirs.emissionprob_[order], atol=1e-8)
    np.testing.assert_allclose(ours.transmat_, theirs.transmat_[np.ix_(order, order)], atol=1e-8)
    their_loglik = theirs.score(data[data >= 0].reshape(-1, 1), lengths)
    assert ours.loglik_ == pytest.approx(their_loglik, rel=1e-10)


# --------------------------------------------------------------------------
# the rest of the API
# --------------------------------------------------------------------------


def test_sample_shapes_and_reproducibility():
    model = true_model()
    obs, states = model.sample(4000, 3, rng=1)
    assert obs.shape == states.shape == (4000, 3) and obs.dtype == np.int8
    again, _ = model.sample(4000, 3, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(obs, again)
    np.testing.assert_allclose(np.bincount(states[:, 0], minlength=3) / 4000, TRUE_START, atol=0.03)
    buyers = obs[states == 2]
    frequencies = np.bincount(buyers, minlength=3) / len(buyers)
    np.testing.assert_allclose(frequencies, TRUE_EMIS[2], atol=0.04)


def test_fit_on_weekly_sequences_keeps_three_symbols():
    from journeygym.datasets.transactions import load_transactions
    from journeygym.calibration.weekly import weekly_observations

    log = load_transactions(pd.DataFrame({
        "customer_id": [1, 1, 2, 3, 3, 3],
        "date": ["2020-01-01", "2020-02-05", "2020-01-03",
                 "2020-01-02", "2020-01-20", "2020-03-01"],
        "amount": [10.0, 20.0, 5.0, 7.0, 7.0, 30.0],
    }))
    seqs = weekly_observations(log, start="after_first_purchase", median_amount=100.0)
    assert seqs.obs.max() == 1  # no week above the median
    model = PurchaseHMM(n_states=2, n_restarts=2, max_iter=20).fit(seqs)
    assert model.n_symbols_ == 3 and model.emissionprob_.shape == (2, 3)
    assert model.filter(seqs).shape == (*seqs.obs.shape, 2)


def test_bic_and_state_selection(sampled):
    data = sampled[:200]
    model = true_model()
    n_obs = (data >= 0).sum()
    assert model.n_params_ == 2 + 6 + 6
    assert model.bic(data) == pytest.approx(-2 * model.score(data) + 14 * np.log(n_obs))
    report = select_n_states(data, ks=(1, 2), n_restarts=1, max_iter=20)
    assert list(report.columns) == ["K", "loglik", "n_params", "BIC"]
    assert report["K"].tolist() == [1, 2] and report["n_params"].tolist() == [2, 7]
    assert isinstance(report, pd.DataFrame) and report["loglik"].is_monotonic_increasing


def test_initial_state_given_recency_equals_filtering():
    rng = np.random.default_rng(9)
    model = random_model(rng)
    # The same chain with the purchase classes merged into one symbol.
    merged = PurchaseHMM.from_params(
        model.startprob_, model.transmat_,
        np.column_stack([model.emissionprob_[:, 0], model.purchase_prob_]),
    )
    beliefs = initial_state_given_recency(model, np.array([0, 3, 1.4, 3]))
    assert beliefs.shape == (4, 3)
    filtered = merged.filter(np.array([[1, 0, 0, 0]]))[0]
    np.testing.assert_allclose(beliefs[[0, 1, 2]], filtered[[0, 3, 1]], rtol=1e-12)
    np.testing.assert_allclose(beliefs[3], beliefs[1])


def test_initial_state_drifts_to_dormant_with_recency():
    beliefs = initial_state_given_recency(true_model(), np.arange(0, 60, 5))
    assert np.all(np.diff(beliefs[:, 0]) > 0)
    np.testing.assert_allclose(beliefs.sum(axis=1), 1.0)
    with pytest.raises(DataValidationError, match=">= 0"):
        initial_state_given_recency(true_model(), np.array([-1.0]))


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[0, -1, 1]]), "after the observed weeks"),
        (np.array([[0, -2, 1]]), ">= 0"),
        (np.array([[0.5, 1.0]]), "integer"),
        (np.full((2, 3), -1), "at least one observed week"),
        (np.zeros((2, 2, 2), dtype=int), "2-D"),
    ],
)
def test_bad_sequences_are_refused(bad, match):
    with pytest.raises(DataValidationError, match=match):
        PurchaseHMM(n_states=2, n_restarts=1).fit(bad)


def test_unknown_symbol_at_scoring_time():
    with pytest.raises(DataValidationError, match="symbol 3"):
        true_model().score(np.array([[0, 3]]))


def test_unfitted_model_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PurchaseHMM().score(np.array([[0, 1]]))


def test_invalid_hyperparameters():
    with pytest.raises(ValueError, match="n_restarts"):
        PurchaseHMM(n_restarts=0).fit(np.array([[0, 1]]))


# --------------------------------------------------------------------------
# the real CDNOW sequences
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_cdnow_hmm_states(cdnow_hmm, cdnow_weekly):
    m = cdnow_hmm
    assert m.state_names_ == STATE_NAMES
    assert np.all(np.diff(m.purchase_prob_) > 0)
    assert m.purchase_prob_[-1] > 0.2  # Buyer
    assert m.purchase_prob_[0] < 0.01  # Dormant
    assert np.all(np.diag(m.transmat_) > 0.9)
    assert m.loglik_ == pytest.approx(m.restart_logliks_.max())
    # EM's purchase-to-purchase pass agrees with the week-by-week one
    assert m.loglik_ == pytest.approx(m.score(cdnow_weekly), rel=1e-9)


@pytest.mark.slow
def test_cdnow_ours_vs_hmmlearn_from_the_same_start(cdnow_weekly):
    hmmlearn = pytest.importorskip("hmmlearn.hmm")
    rng = np.random.default_rng(2024)
    data = cdnow_weekly.obs[np.sort(rng.choice(len(cdnow_weekly), 1000, replace=False))]
    p = random_params(rng, 5, 3)
    init = {"startprob": p.startprob, "transmat": p.transmat, "emissionprob": p.emission}
    ours = PurchaseHMM(n_states=5, n_restarts=1, max_iter=30, tol=0.0, init_params=init).fit(data)
    theirs = hmmlearn.CategoricalHMM(n_components=5, n_features=3, n_iter=30, tol=-np.inf,
                                     init_params="", params="ste", implementation="scaling")
    theirs.startprob_, theirs.transmat_, theirs.emissionprob_ = (
        p.startprob.copy(), p.transmat.copy(), p.emission.copy())
    x, lengths = data[data >= 0].reshape(-1, 1).astype(np.int64), (data >= 0).sum(axis=1)
    theirs.fit(x, lengths)
    their_loglik = theirs.score(x, lengths)
    assert ours.loglik_ >= their_loglik - 1e-6 * abs(their_loglik)
