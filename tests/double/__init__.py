"""Tests of the pg_trickle test double's own helpers (`pgtrickle_test` schema)."""
