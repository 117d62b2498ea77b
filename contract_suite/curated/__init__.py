"""Curated contracts: the YAML contract format, its pytest collector, the step runner, matchers,
pagination walks and the v1/v2 webhook mapping.
"""
