"""Customer covariates: the Hillstrom columns and the design vector built from them.

The covariate design is shared by the calibration (the Bayesian models fit their
covariate effects on it) and the simulator (the effects act on it, centred on
the population mean), so both sides agree on what each coefficient means.
"""

from __future__ import annotations

import numpy as np

HISTORY_SEGMENTS: tuple[str, ...] = (
    "1) $0 - $100",
    "2) $100 - $200",
    "3) $200 - $350",
    "4) $350 - $500",
    "5) $500 - $750",
    "6) $750 - $1,000",
    "7) $1,000 +",
)
ZIP_CODES: tuple[str, ...] = ("Urban", "Surburban", "Rural")  # the source spells it so
CHANNELS: tuple[str, ...] = ("Phone", "Web", "Multichannel")
RECENCY_MONTHS: tuple[int, ...] = tuple(range(1, 13))
#: Weeks per month of recency: the simulator's weeks since the last purchase at week 0
#: and the HMM belief given recency (calibration) must use the same conversion.
WEEKS_PER_MONTH = 4.35

#: Columns of the covariate design vector x (before centring).  Surburban and
#: Multichannel are the reference levels of the one-hot groups.
COVARIATE_NAMES: tuple[str, ...] = (
    "recency",
    "log_history",
    "mens",
    "womens",
    "newbie",
    "zip_urban",
    "zip_rural",
    "channel_phone",
    "channel_web",
)


def design_matrix(
    recency: np.ndarray,
    history: np.ndarray,
    mens: np.ndarray,
    womens: np.ndarray,
    newbie: np.ndarray,
    zip_code: np.ndarray,
    channel: np.ndarray,
) -> np.ndarray:
    """Build the covariate design matrix, one row per customer.

    Parameters
    ----------
    recency : array of int
        Months since last purchase, 1 to 12.
    history : array of float
        Dollars spent in the past year.
    mens, womens, newbie : array of {0, 1}
        Hillstrom indicator columns.
    zip_code : array of int
        Index into :data:`ZIP_CODES`.
    channel : array of int
        Index into :data:`CHANNELS`.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n, len(COVARIATE_NAMES))`` in the column
        order of :data:`COVARIATE_NAMES`.
    """
    zip_code = np.asarray(zip_code)
    channel = np.asarray(channel)
    columns = (
        np.asarray(recency, dtype=np.float64),
        np.log1p(np.asarray(history, dtype=np.float64)),
        np.asarray(mens, dtype=np.float64),
        np.asarray(womens, dtype=np.float64),
        np.asarray(newbie, dtype=np.float64),
        (zip_code == ZIP_CODES.index("Urban")).astype(np.float64),
        (zip_code == ZIP_CODES.index("Rural")).astype(np.float64),
        (channel == CHANNELS.index("Phone")).astype(np.float64),
        (channel == CHANNELS.index("Web")).astype(np.float64),
    )
    return np.stack(columns, axis=1)
