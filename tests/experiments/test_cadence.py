"""Cadence: the weeks between e-mails to the same customer, counted in every evaluation."""

from __future__ import annotations

import numpy as np

from journeygym.baselines.registry import make_policy
from journeygym.baselines.rollout import GAP_BIN_LABELS, count_gaps, rollout
from journeygym.experiments.cadence import cadence_rows
from journeygym.testing import make_synthetic_draws


def test_count_gaps_bins_weeks():
    """1, 2, 3-4, 5-8 and 9+ weeks."""
    np.testing.assert_array_equal(count_gaps(np.array([1, 2, 3, 4, 5, 8, 9, 40])), [1, 1, 2, 2, 2])
    np.testing.assert_array_equal(count_gaps(np.array([], dtype=np.int64)), [0, 0, 0, 0, 0])


def test_rollout_counts_the_gaps_of_a_fixed_cadence():
    """Biweekly e-mail to everyone: every gap is two weeks (none for customers who unsubscribed first)."""
    run = rollout(make_policy("biweekly_mens"), n_customers=200, seed=0, params=0, artifact=make_synthetic_draws())
    assert run.email_gaps[1] > 0
    assert run.email_gaps.sum() == run.email_gaps[1]
    assert run.email_gaps.sum() == int(np.sum(np.maximum(run.contacts - 1, 0)))
    weekly = rollout(make_policy("always_mens"), n_customers=200, seed=0, params=0, artifact=make_synthetic_draws())
    assert weekly.email_gaps.sum() == weekly.email_gaps[0] > 0


def test_cadence_rows_pool_the_gaps_of_each_policy():
    """Shares per bin and the median bin, per policy, in the given order."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "policy": ["a", "a", "b"],
            "contact_rate": [0.5, 0.5, 0.0],
            "repeat_contact_share": [1.0, 0.5, 0.0],
            "email_gaps": [[0, 3, 0, 0, 1], [0, 4, 0, 0, 0], [0, 0, 0, 0, 0]],
        }
    )
    headers, rows = cadence_rows(frame, ["b", "a"])
    assert headers[3 : 3 + len(GAP_BIN_LABELS)] == list(GAP_BIN_LABELS)
    assert rows[0][0] == "b" and rows[0][-1] == "-"
    assert rows[1][:3] == ["a", "0.500", "75%"] and rows[1][4] == "88%" and rows[1][-1] == "2 wks"
