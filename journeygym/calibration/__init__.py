"""Calibration: data loaders, the HMM, the Bayesian uplift models, matching, assembly and validation; it writes the
parameter artifact whose format and loader live in :mod:`journeygym.envs.artifact`."""
