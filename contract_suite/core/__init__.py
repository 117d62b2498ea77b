"""The run's foundation, used by every kind of check: options and profiles, the target and its
guards, run bootstrap and the per-process session, the governed HTTP client, the probe, the
embedded reference server, cleanup, secret masking, reporting and the spec index.
"""
