"""Targeting baselines: scoring models and the policies built on them."""
