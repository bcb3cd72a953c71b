"""journeygym: a Gymnasium customer-journey simulator for marketing decisions, calibrated from real data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("journeygym")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from journeygym.envs.registration import ENV_ID, register_envs

register_envs()

__all__ = ["ENV_ID", "__version__", "register_envs"]
