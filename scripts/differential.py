"""The conformance suite on the double and on a real pg_trickle, side by side.

    python scripts/differential.py --real-dsn postgresql://postgres@127.0.0.1:5432/postgres
    python scripts/differential.py --compare double.json real.json   # two earlier records

Runs `tests/conformance` twice with `PGTRICKLE_OBSERVE` set (see `tests/conformance/_observe.py`):
once on the double playing the server's pg_trickle version (a throwaway server), once with
`PGTRICKLE_TEST_DSN` set to the real server.
Each run records, per test, every catalog row, result, error and SQLSTATE the helpers saw and
the outcome. The report lists every test whose record differs, with the first difference side
by side and the explanation from `tests/conformance/divergences.toml`. It exits 1 when a
difference has no explanation there, so the check can be rerun after every change.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import tomllib

ROOT = Path(__file__).resolve().parent.parent
EXPLAINED = ROOT / "tests" / "conformance" / "divergences.toml"


@dataclass(frozen=True)
class Difference:
    test: str
    double: str
    real: str
    explanation: str | None


def server_version(dsn: str) -> str:
    """The pg_trickle version a real server installs, so the double plays the same one."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'pg_trickle'"
        ).fetchone()
    if row is None:
        raise SystemExit(f"differential: no pg_trickle available on the server at {dsn!r}")
    return str(row[0])


def run_suite(out: Path, dsn: str | None, pytest_args: list[str], version: str) -> None:
    env = {**os.environ, "PGTRICKLE_OBSERVE": str(out), "PGTRICKLE_TEST_VERSION": version}
    env.pop("PGTRICKLE_TEST_DSN", None)
    if dsn:
        env["PGTRICKLE_TEST_DSN"] = dsn
    cmd = [sys.executable, "-m", "pytest", "tests/conformance", "-q", "-p", "no:randomly"]
    print("differential:", "real server" if dsn else "double", "…", flush=True)
    subprocess.run([*cmd, *pytest_args], cwd=ROOT, env=env, check=False)


def outcome(entries: list[dict[str, Any]]) -> str:
    ends = [e for e in entries if "outcome" in e]
    return ends[-1]["outcome"] if ends else "not run"


def first_difference(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> tuple[str, str]:
    for left, right in zip(a, b, strict=False):
        if left != right:
            return _show(left), _show(right)
    if len(a) != len(b):
        longer, shorter = (a, b) if len(a) > len(b) else (b, a)
        extra = _show(longer[len(shorter)])
        return (extra, "(nothing more)") if longer is a else ("(nothing more)", extra)
    return "", ""


def _show(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, default=str)[:400]


def explanation_for(test: str, rules: list[dict[str, str]]) -> str | None:
    for rule in rules:
        if fnmatch(test, rule["tests"]):
            return rule["why"]
    return None


def compare(double: dict[str, Any], real: dict[str, Any]) -> list[Difference]:
    rules = tomllib.loads(EXPLAINED.read_text(encoding="utf-8")).get("divergence", [])
    found = []
    for test in sorted(set(double) | set(real)):
        a, b = double.get(test, []), real.get(test, [])
        if a == b:
            continue
        left, right = first_difference(a, b)
        found.append(
            Difference(
                test,
                f"[{outcome(a)}] {left}",
                f"[{outcome(b)}] {right}",
                explanation_for(test, rules),
            )
        )
    return found


def report(found: list[Difference], double: dict[str, Any], real: dict[str, Any]) -> str:
    def count(rec: dict[str, Any], word: str) -> int:
        return sum(1 for entries in rec.values() if outcome(entries) == word)

    lines = [
        "# Conformance: double versus real server",
        "",
        "| run | passed | failed | skipped |",
        "|---|---|---|---|",
        *(
            f"| {name} | {count(rec, 'passed')} | {count(rec, 'failed')} "
            f"| {count(rec, 'skipped')} |"
            for name, rec in (("double", double), ("real", real))
        ),
        "",
        f"{len(double.keys() & real.keys()) - len(found)} tests observed the same results; "
        f"{len(found)} differ ({sum(d.explanation is None for d in found)} unexplained).",
        "",
    ]
    for diff in found:
        lines += [
            f"## {diff.test}",
            f"- double: `{diff.double}`",
            f"- real:   `{diff.real}`",
            f"- why: {diff.explanation or '**UNEXPLAINED**'}",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-dsn", help="libpq DSN of a real pg_trickle server (superuser)")
    parser.add_argument("--compare", nargs=2, metavar=("DOUBLE_JSON", "REAL_JSON"))
    parser.add_argument("--out", type=Path, help="also write the report (Markdown) here")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, e.g. -k notify")
    args = parser.parse_args(argv)
    if args.compare:
        paths = [Path(p) for p in args.compare]
    elif args.real_dsn:
        work = Path(tempfile.mkdtemp(prefix="pgtrickle-differential-"))
        paths = [work / "double.json", work / "real.json"]
        version = server_version(args.real_dsn)
        run_suite(paths[0], None, args.pytest_args, version)
        run_suite(paths[1], args.real_dsn, args.pytest_args, version)
        print(f"differential: records in {work}")
    else:
        parser.error("give --real-dsn, or --compare with two records")
    double, real = (json.loads(p.read_text(encoding="utf-8")) for p in paths)
    found = compare(double, real)
    text = report(found, double, real)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 1 if any(d.explanation is None for d in found) else 0


if __name__ == "__main__":
    raise SystemExit(main())
