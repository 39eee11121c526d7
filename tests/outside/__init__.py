"""The outside verifier, written from the docs alone, run against `sceau verify`."""
