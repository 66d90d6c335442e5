"""pg_trickle's vocabulary, written once: the words, rules and defaults every part of the
product agrees on.

- `config`: the stream table arguments (types, defaults, closed word lists and their aliases),
  the identifier rule, the schedule grammar and the combinations pg_trickle refuses;
- `health`: what "healthy" means for a stream table, and the messages that say why not.

Python reads these modules directly. The dbt package cannot import Python, so
`scripts/generate_vocabulary.py` renders them into macros under `macros/generated/`, and into
the generated tables of docs/reference/configuration.md and docs/health.md (all checked in;
`--check`, run by `scripts/test.sh` and `tests/vocabulary/test_generated.py`, fails when one is
stale). Change a rule here, run the script, commit both.

Importing this package is cheap: no Airflow, no psycopg, no dbt.
"""

from __future__ import annotations
