"""The seed documents' metrics of the scoring models, measured on a held-out campaign log."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from journeygym.baselines.metrics import (
    auuc,
    classification_metrics,
    cross_validated_roc_auc,
    effect_errors,
    permutation_importances,
    qini_coefficient,
    regression_metrics,
    uplift_at_k,
)
from journeygym.baselines.scoring import CHURN_WINDOW, ScoringModels, churn_labels, ltv_labels, response_labels
from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.experiments.campaign_logs import campaign_settings, logged_data
from journeygym.experiments.cell_spec import HOLDOUT, CellSpec, derived_seed

__all__ = ["logged_model_metrics", "metric_components", "scoring_metrics"]

_UPLIFT_K = (0.1, 0.3)


def metric_components(horizon: int) -> tuple[str, ...]:
    """Every scoring model whose metrics are reported (churn only when a full window fits in the horizon)."""
    components = ("response", "ltv", "t_learner", "class_transformation")
    return components + ("churn",) if horizon >= CHURN_WINDOW else components


def scoring_metrics(
    models: ScoringModels,
    train_log: pd.DataFrame,
    holdout_log: pd.DataFrame,
    *,
    cv_folds: int = 5,
    importance_rows: int = 20_000,
    random_state: int = 0,
) -> dict[str, Any]:
    """The seed documents' metrics of every fitted scoring model on a held-out log.

    Classification metrics are reported at the seed's 0.5 threshold and at
    the threshold that flags as many rows as there are positives (the
    informative one for rare outcomes).  Cross-validated ROC-AUC refits the
    model on the training log, 5 folds grouped by customer.  Uplift metrics
    use the held-out rows of subscribed customers that received the arm or
    no action; errors against the true effect need the log's truth columns.
    """
    columns = list(models.observation_names_)
    out: dict[str, Any] = {}
    rng = np.random.default_rng(random_state)

    def importance(model: Any, X: pd.DataFrame, y: np.ndarray, scoring: str) -> list[dict[str, Any]]:
        rows = rng.choice(len(X), size=min(importance_rows, len(X)), replace=False)
        table = permutation_importances(
            model, X.iloc[rows], y[rows], scoring=scoring, n_repeats=3, random_state=random_state
        )
        return table.head(5).to_dict("records")

    def classifier_report(name: str, labels_of: Any, model: Any) -> None:
        y_train = labels_of(train_log).to_numpy()
        y = labels_of(holdout_log).to_numpy()
        keep, keep_train = ~np.isnan(y), ~np.isnan(y_train)
        X = holdout_log.loc[keep, columns]
        p = model.predict_proba(X)[:, 1]
        y = y[keep].astype(np.int64)
        prevalence_threshold = float(np.quantile(p, 1.0 - y.mean()))
        cv = cross_validated_roc_auc(
            model,
            train_log.loc[keep_train, columns],
            y_train[keep_train].astype(np.int64),
            n_splits=cv_folds,
            groups=train_log.loc[keep_train, "customer_id"].to_numpy(),
            random_state=random_state,
        )
        out[name] = {
            "rows": int(keep.sum()),
            "at_0.5": classification_metrics(y, p, 0.5),
            "at_prevalence": classification_metrics(y, p, prevalence_threshold),
            "cv_roc_auc_mean": cv["mean"],
            "cv_roc_auc_std": cv["std"],
            "permutation_importance_roc_auc": importance(model, X, y, "roc_auc"),
        }

    if hasattr(models, "response_"):
        classifier_report("response", lambda f: response_labels(f, models.response_window), models.response_)
    if hasattr(models, "churn_"):
        classifier_report("churn", lambda f: churn_labels(f, models.churn_window), models.churn_)
    if hasattr(models, "ltv_"):
        y = ltv_labels(holdout_log, models.horizon_).to_numpy()
        keep = ~np.isnan(y)
        X = holdout_log.loc[keep, columns]
        out["ltv"] = {
            "rows": int(keep.sum()),
            **regression_metrics(y[keep], models.predict_ltv(X)),
            "permutation_importance_r2": importance(models.ltv_, X, y[keep], "r2"),
        }
    learners = [name for name in ("t_learner", "class_transformation") if hasattr(models, f"{name}_")]
    if learners:
        y_all = response_labels(holdout_log, models.response_window).to_numpy()
        action = holdout_log["action"].to_numpy()
        subscribed = holdout_log["subscribed"].to_numpy() > 0.5
        uplift_report: dict[str, Any] = {}
        for learner in learners:
            uplift_all = models.predict_uplift(holdout_log[columns], learner)
            for arm in range(1, len(models.action_names_)):
                arm_name = models.action_names_[arm]
                rows = ~np.isnan(y_all) & subscribed & ((action == arm) | (action == 0))
                y, w, u = y_all[rows], (action[rows] == arm).astype(np.float64), uplift_all[rows, arm]
                report: dict[str, Any] = {
                    "rows": int(rows.sum()),
                    "qini": qini_coefficient(y, u, w),
                    "auuc": auuc(y, u, w),
                    **{f"uplift_at_{int(k * 100)}": uplift_at_k(y, u, w, k) for k in _UPLIFT_K},
                    "observed_uplift": float(y[w == 1].mean() - y[w == 0].mean()),
                }
                truth_rows = ~np.isnan(y_all) & subscribed
                for truth in ("true_effect", "true_logged_effect"):
                    column = f"{truth}_{arm_name}"
                    if column in holdout_log.columns:
                        report[f"vs_{truth}"] = effect_errors(
                            uplift_all[truth_rows, arm], holdout_log[column].to_numpy()[truth_rows]
                        )
                uplift_report[f"{learner}/{arm_name}"] = report
        out["uplift"] = uplift_report
    return out


def logged_model_metrics(spec: CellSpec, holdout_customers: int) -> dict[str, Any]:
    """Fit every scoring model on the campaign log of a seed-baseline cell and measure it on a held-out log.

    The training log is the cell's own (:func:`~journeygym.experiments.campaign_logs.logged_data`,
    read from the results directory's cache when present); the held-out log
    is simulated like it (behavior policy, training draws) with the seed
    ``derived_seed(spec.seed, HOLDOUT)`` and carries the true effects.
    """
    train_log = logged_data(spec)
    models = ScoringModels(components=metric_components(spec.assumptions.horizon), random_state=spec.seed)
    models.fit(train_log)
    holdout = simulate_logged_data(
        holdout_customers, derived_seed(spec.seed, HOLDOUT), include_truth=True, **campaign_settings(spec)
    )
    out = scoring_metrics(models, train_log, holdout, random_state=spec.seed)
    out["training_rows"] = models.n_rows_
    out["arm_response_rates"] = dict(zip(models.action_names_, models.arm_response_rates_.tolist()))
    return out
