"""Shared machinery: results, the iteration driver, oracles, backends and input checks."""
