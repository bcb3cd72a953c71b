"""Parameter recovery: the calibration's own models fitted on data simulated from known parameters.

The known parameters are the posterior mean of the shipped artifact
(``load_artifact().mean``, the env's default ``params="mean"``) with its
scenario.  :mod:`journeygym.calibration.recovery` simulates a Hillstrom-like
trial and a CDNOW-like transaction log from them; they are written to files, a
dataset spec names them, and the generic path reads them
(:func:`~journeygym.calibration.sources.calibration_inputs`); the uplift model
and the purchase HMM are fitted exactly as ``calibration/pipeline.py`` fits
them (``fit_uplift_model``, ``fit_hidden_state_model``), and their estimates
are held against the truth.

The fast tests check that the simulated data pass the package's own loaders
and that the exact truths agree with the simulator.  The slow tests are the
recovery checks (about 2 minutes on 2 cores in all, 1.5 of them sampling).
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest

from journeygym.datasets.hillstrom import ARMS, load_hillstrom
from journeygym.calibration.hmm import PurchaseHMM
from journeygym.calibration.pipeline import HMM_STATES, fit_hidden_state_model, fit_uplift_model
from journeygym.calibration.sources import calibration_inputs
from journeygym.datasets.spec import validate_spec
from journeygym.calibration.recovery import (
    simulate_trial,
    simulate_transaction_log,
    true_state_purchase_probabilities,
    true_two_week_uplift,
)
from journeygym.datasets.transactions import load_transactions
from journeygym.calibration.uplift import ConvergenceWarning, trial_from_hillstrom
from journeygym.calibration.weekly import weekly_observations
from journeygym.envs.artifact import load_artifact
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions

#: Sampler settings of the slow uplift fit: the pipeline's warm-up and draws per chain, two chains instead of four
#: (two cores); 2,000 draws leave the arm averages' effective sample sizes well above 400.
UPLIFT_SAMPLER = {"draws": 1000, "tune": 600, "chains": 2}
#: Relative tolerance of a recovered per-state purchase probability.
STATE_TOLERANCE = 0.25
START = "1997-01-01"


def spec_inputs(folder, trial: pd.DataFrame, log: pd.DataFrame):
    """The simulated trial and log written to ``folder`` and read back through a dataset spec (the generic path)."""
    trial.iloc[:, :12].to_csv(folder / "trial.csv", index=False)
    log.to_csv(folder / "log.csv", index=False)
    spec = validate_spec(
        {
            "trial": {"path": str(folder / "trial.csv"), "treatment": "segment", "control": "No E-Mail",
                      "arms": list(ARMS[1:]), "window_weeks": 2,
                      "outcomes": {"conversion": "conversion", "visit": "visit", "spend": "spend"},
                      "covariates": ["recency", "history", "mens", "womens", "newbie", "zip_code", "channel"],
                      "categorical": ["zip_code", "channel"], "segment": "history_segment",
                      "recency": {"column": "recency", "unit": "months"}, "design": "hillstrom"},
            "log": {"path": str(folder / "log.csv"), "customer_id": "customer_id", "timestamp": "date", "amount": "amount",
                    "time_format": "%Y-%m-%d"},
        },
        source="recovery spec",
    )
    return calibration_inputs(spec)


@pytest.fixture(scope="module")
def known() -> tuple[DynamicsParameters, ScenarioAssumptions]:
    draws = load_artifact()
    return draws.mean, draws.assumptions


# --------------------------------------------------------------------------
# fast: the simulated data are what the calibration reads
# --------------------------------------------------------------------------


def test_simulated_trial_reads_like_hillstrom(known, tmp_path) -> None:
    parameters, assumptions = known
    trial = simulate_trial(parameters, assumptions, n_customers=3_000, seed=1)
    path = tmp_path / "hillstrom.csv"
    trial.iloc[:, :12].to_csv(path, index=False)
    loaded = load_hillstrom(path)
    pd.testing.assert_frame_equal(trial, loaded, check_exact=False, rtol=1e-12)
    assert trial["segment"].value_counts().reindex(list(ARMS)).between(900, 1100).all()
    assert (trial["conversion"] == (trial["spend"] > 0)).all() and trial["visit"].max() == 1
    uplift_trial = trial_from_hillstrom(trial, outcome="conversion")
    assert uplift_trial.n_customers == 3_000 and tuple(uplift_trial.arm_names) == ARMS


def test_simulated_trial_is_reproducible_and_window_counts(known) -> None:
    parameters, assumptions = known
    first = simulate_trial(parameters, assumptions, n_customers=500, seed=3)
    pd.testing.assert_frame_equal(first, simulate_trial(parameters, assumptions, n_customers=500, seed=3))
    longer = simulate_trial(parameters, assumptions, n_customers=500, seed=3, window_weeks=4)
    covariates = ["recency", "history", "segment_idx", "zip_idx", "channel_idx", "arm"]
    pd.testing.assert_frame_equal(first[covariates], longer[covariates])
    assert (longer["conversion"] >= first["conversion"]).all() and (longer["spend"] >= first["spend"]).all()


def test_simulated_log_goes_through_load_transactions(known, tmp_path) -> None:
    parameters, assumptions = known
    log = simulate_transaction_log(parameters, assumptions, n_customers=3_000, weeks=30, seed=2, start=START, level="hmm")
    loaded = load_transactions(log)
    assert (loaded["n_rows"] == 1).all()  # at most one purchase per customer and week
    pd.testing.assert_frame_equal(loaded[["customer_id", "date", "amount"]], log)
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    from_file = load_transactions(path)  # ids come back as text, sorted as text
    from_file = from_file.astype({"customer_id": np.int64}).sort_values(["customer_id", "date"], ignore_index=True)
    pd.testing.assert_frame_equal(from_file, loaded, check_exact=False, rtol=1e-12)
    sequences = weekly_observations(loaded, start="after_first_purchase")
    # Each sequence starts on the first day of a simulated week, so the builder's weeks are the simulator's.
    offsets = (sequences.week0 - np.datetime64(START, "D")).astype(np.int64)
    assert (offsets % 7 == 0).all() and (offsets >= 7).all()
    assert (sequences.lengths == np.maximum(29 - offsets // 7, 0)).all()  # the last simulated week is incomplete


def test_state_truth_at_the_hmm_level_is_the_purchase_probability(known) -> None:
    parameters, assumptions = known
    truth = true_state_purchase_probabilities(parameters, assumptions, n_customers=2_000, weeks=20, seed=4, level="hmm")
    np.testing.assert_allclose(truth["observed"], parameters.purchase_prob, rtol=1e-10)
    np.testing.assert_allclose(truth["population"], parameters.purchase_prob, rtol=1e-10)
    assert truth["share"].sum() == pytest.approx(1.0)
    simulator = true_state_purchase_probabilities(parameters, assumptions, n_customers=2_000, weeks=20, seed=4)
    assert (simulator["population"] < parameters.purchase_prob).all()  # Hillstrom's level is below the HMM's source
    assert np.all(np.diff(simulator["population"]) > 0)


def test_true_uplift_agrees_with_the_simulated_trial(known) -> None:
    parameters, assumptions = known
    trial = simulate_trial(parameters, assumptions, n_customers=150_000, seed=5)
    for outcome in ("conversion", "visit"):
        truth = true_two_week_uplift(parameters, assumptions, trial, outcome=outcome)
        rates = trial.groupby("segment")[outcome].agg(["mean", "size"])
        control = rates.loc[ARMS[0]]
        for arm in ARMS[1:]:
            observed = rates.loc[arm, "mean"] - control["mean"]
            error = np.sqrt(sum(r["mean"] * (1 - r["mean"]) / r["size"] for r in (rates.loc[arm], control)))
            assert abs(observed - truth[arm]) < 4 * error, (outcome, arm, observed, truth[arm], error)


# --------------------------------------------------------------------------
# slow: the calibration's models recover the truth
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_uplift_model_recovers_each_arms_two_week_conversion_uplift(known, tmp_path) -> None:
    """The hierarchical conversion model, fitted as the pipeline does, brackets each arm's true uplift.

    60,000 simulated customers over two weeks; the model is
    ``fit_uplift_model(trial, "conversion", seed, UPLIFT_SAMPLER)``: the
    pipeline's sampler with two chains instead of four.  An arm's average
    uplift is the segments' uplift draws weighted by the segments' sizes (the
    mean over all the trial's customers), the same average treatment effect
    :func:`true_two_week_uplift` computes exactly; the truth must lie inside
    its central 90% posterior interval.  Convergence is held to R-hat and
    divergences for every parameter and to ESS >= 400 for the compared
    averages (the pipeline's ESS rule over all parameters needs its four
    chains).  Measured (seed 0): Mens truth 0.00618, interval
    [0.00466, 0.00780]; Womens truth 0.00252, interval [0.00059, 0.00344].
    """
    parameters, assumptions = known
    trial = simulate_trial(parameters, assumptions, n_customers=60_000, seed=0)
    truth = true_two_week_uplift(parameters, assumptions, trial)
    log = simulate_transaction_log(parameters, assumptions, n_customers=500, weeks=30, seed=1, start=START, level="hmm")
    inputs = spec_inputs(tmp_path, trial, log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fit_uplift_model(inputs.trial, "conversion", 0, UPLIFT_SAMPLER)
    assert model.diagnostics_["max_rhat"] <= 1.01 and model.diagnostics_["divergences"] == 0, model.diagnostics_
    weights = np.bincount(model.trial_.segment, minlength=model.trial_.n_segments) / model.trial_.n_customers
    for a, arm in enumerate(ARMS[1:]):
        average = model.uplift_draws_[:, :, a] @ weights
        ess = float(az.ess(average.reshape(UPLIFT_SAMPLER["chains"], -1)))
        low, high = np.quantile(average, [0.05, 0.95])
        assert ess >= 400, (arm, ess)
        assert low <= truth[arm] <= high, f"{arm}: truth {truth[arm]:.5f} outside [{low:.5f}, {high:.5f}]"


@pytest.fixture(scope="module")
def hmm_recovery(known, tmp_path_factory) -> dict:
    """The HMM fitted on a simulated 20,000 x 78-week log, by the pipeline and by EM started at the truth."""
    parameters, assumptions = known
    settings = {"n_customers": 20_000, "weeks": 78, "seed": 0, "start": START, "level": "hmm"}
    simulated = simulate_transaction_log(parameters, assumptions, **settings)
    log = load_transactions(simulated)
    truth = true_state_purchase_probabilities(parameters, assumptions, **settings)
    trial = simulate_trial(parameters, assumptions, n_customers=3_000, seed=1)
    pipeline, _ = fit_hidden_state_model(spec_inputs(tmp_path_factory.mktemp("hmm"), trial, simulated), seed=0)
    pi = parameters.purchase_prob
    at_truth = {
        "startprob": np.full(HMM_STATES, 1.0 / HMM_STATES),
        "transmat": parameters.transition,
        "emissionprob": np.column_stack([1.0 - pi, pi / 2, pi / 2]),  # spend does not depend on the state
    }
    sequences = weekly_observations(log, start="after_first_purchase")
    from_truth = PurchaseHMM(n_states=HMM_STATES, n_restarts=1, seed=0, init_params=at_truth).fit(sequences)
    return {"truth": truth["observed"].to_numpy(), "pipeline": pipeline, "from_truth": from_truth}


@pytest.mark.slow
def test_hmm_maximum_likelihood_recovers_the_state_purchase_probabilities(hmm_recovery) -> None:
    """The purchase HMM's likelihood identifies the five states' purchase probabilities at CDNOW's size.

    The log is simulated at ``level="hmm"``: every customer in state ``z``
    buys with the HMM's own ``pi_z``, as the customers of the log the
    pipeline fits it on; the simulator's customers (``level="simulator"``,
    Hillstrom's level, 11 times fewer purchases and a customer-level offset
    within each state) leave about 760 repeat-purchase weeks in 20,000 x 78
    weeks, too few for five states, and their per-state probability is not
    one number, so nothing per state is asserted for them.

    20,000 customers x 78 weeks at the HMM's level give about 9,500 customers
    in the log, 544,000 customer-weeks and 23,000 repeat-purchase weeks
    (CDNOW: 23,570 customers, 1.66 million weeks).  EM started at the truth
    converges to a fit whose log-likelihood is at least that of the
    pipeline's fit (eight random restarts), and whose states (ordered by
    purchase probability) are within 25% of the truth, except Dormant
    (``pi`` = 0.0019, about 420 purchases in its 224,000 weeks), held to 50%:
    over seeds 0..4 its error reached 35% while the others stayed within 17%.
    Measured (seed 0): relative errors +11%, -15%, -11%, -2%, -1%.
    """
    truth, from_truth, pipeline = hmm_recovery["truth"], hmm_recovery["from_truth"], hmm_recovery["pipeline"]
    assert from_truth.loglik_ >= pipeline.loglik_ - 1e-9 * abs(pipeline.loglik_)
    error = from_truth.purchase_prob_ / truth - 1.0
    assert abs(error[0]) <= 2 * STATE_TOLERANCE, error
    assert np.all(np.abs(error[1:]) <= STATE_TOLERANCE), error


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the pipeline's EM (eight random restarts) stops at a local optimum whose log-likelihood is below "
    "that of EM started at the truth; its middle states are off by up to 85%",
)
def test_pipeline_hmm_fit_recovers_every_state_purchase_probability(hmm_recovery) -> None:
    """The pipeline's own HMM fit, each state within 25% of the truth (fails today, see the reason).

    Measured (seed 0): fitted 0.0030, 0.0446, 0.1149, 0.1442, 0.3803 against
    0.0019, 0.0366, 0.0756, 0.1837, 0.4072 (+58%, +22%, +52%, -21%, -7%),
    log-likelihood -103,358.4 against -103,343.0 from the truth's start.
    """
    error = hmm_recovery["pipeline"].purchase_prob_ / hmm_recovery["truth"] - 1.0
    assert np.all(np.abs(error) <= STATE_TOLERANCE), error
