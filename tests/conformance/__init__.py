"""Conformance suite: pg_trickle 0.67.0 behaviour as in the upstream source
(docs/pg_trickle-contract.md).

These tests describe *upstream* pg_trickle, not our test double. They run against the double
by default and unchanged against a real server when ``PGTRICKLE_TEST_DSN`` is set, e.g.::

    PGTRICKLE_TEST_DSN=postgresql://postgres:postgres@localhost:5432/postgres \
        python -m pytest tests/conformance

See ``README.md`` in this folder.
"""
