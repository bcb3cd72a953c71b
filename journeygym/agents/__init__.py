"""Agents: the policy interface and learning agents."""
