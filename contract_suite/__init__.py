"""aqid-contracts: the contract-suite engine, a pytest plugin (see plugin.py)."""
