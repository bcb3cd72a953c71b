"""Exceptions shared by the layers: bad input data (loaders, models) and warnings about changed data."""


class DataValidationError(ValueError):
    """Input data do not match what a loader or model expects.

    The message says what was received, what was expected and how to fix it.
    Subclasses :class:`ValueError`, so callers that already catch bad-value
    errors keep working.
    """


class DataWarning(UserWarning):
    """Input data were used after a change asked for (e.g. rows dropped); the message says which rows and why."""
