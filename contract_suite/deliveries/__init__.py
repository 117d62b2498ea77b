"""Webhook deliveries: the loopback receiver, signature checks, payload checks against the
spec, and the fixtures delivery contracts use.
"""
