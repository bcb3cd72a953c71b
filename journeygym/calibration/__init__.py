"""Calibration: data loaders, the HMM, the Bayesian uplift models, assembly and the parameter artifact."""
