"""Experiments: running and summarizing policy comparisons."""
