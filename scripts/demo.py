"""The one-command demo: dbt stream tables on pg_trickle, orchestrated by Airflow and Cosmos.

Run it through `scripts/demo.sh` (which installs everything into a virtualenv first) or
directly with `python scripts/demo.py` once `pip install -e '.[cosmos,testing]'` is done.

What happens:

1. A PostgreSQL 18 server: by default a throwaway one with the pg_trickle *test double* (a
   pure-SQL stand-in without background scheduler); with `PGTRICKLE_DSN` set, a real pg_trickle
   server (a fresh database is created there and dropped at the end unless --keep-database).
2. A deterministic shop data set (2,000 customers, 10,000 orders, 30,000 events).
3. `dbt deps` + `dbt parse` for the example project (the manifest Cosmos renders from).
4. Airflow (SQLite metadata in .demo/airflow) runs `pgtrickle_cosmos_example` with
   `dag.test()`: dbt creates the stream tables and runs the tests, the health sensors pass,
   the report task writes demo_output/report.md.
5. `pgtrickle_maintenance_example` suspends the stream tables, loads a new batch of rows,
   resumes and refreshes them in dependency order, and waits until they are healthy.
6. The Cosmos DAG runs again; the summary shows what moved.

Exit status 0 only when every step succeeded. Airflow's and dbt's own output goes to
.demo/demo.log (use --verbose to see it live).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
COSMOS_DAG_ID = "pgtrickle_cosmos_example"
MAINTENANCE_DAG_ID = "pgtrickle_maintenance_example"
MARTS_SCHEMA = "jaffle_marts"
STREAM_TABLE_SCHEMAS = ["jaffle_staging", MARTS_SCHEMA]
FIRST_BATCH = {"customers": 2000, "orders": 10000, "events": 30000}
SECOND_BATCH = {"customers": 100, "orders": 800, "events": 2000}


class DemoError(Exception):
    """A step failed; the message says which and where to look."""


@dataclass(frozen=True)
class TableState:
    name: str
    status: str
    refresh_mode: str
    schedule: str
    rows: int
    staleness: timedelta | None
    last_action: str | None
    last_delta: tuple[int, int] | None


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, TableState]
    customers: int
    revenue: Decimal
    order_days: int
    last_order_day: Any
    events: int


@dataclass
class Console:
    """Progress for the user on the real stdout, whatever Airflow does with fds 1 and 2."""

    stream: IO[str]
    timings: list[tuple[str, float]] = field(default_factory=list)

    def say(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.say(f"-> {title} ...")
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        self.timings.append((title, elapsed))
        self.say(f"   done in {elapsed:.1f} s")


class Demo:
    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self.args = args
        self.console = console
        self.workdir: Path = args.workdir.resolve()
        self.state_dir = self.workdir / ".demo"
        self.output_dir: Path = (args.output or self.workdir / "demo_output").resolve()
        self.dags_folder: Path = args.dags_folder.resolve()
        self.project_dir = self.dags_folder / "dbt" / "jaffle_stream"
        self.log_path = self.state_dir / "demo.log"
        self.report_path = self.output_dir / "report.md"
        self.is_double = True
        # True when this process started the server (and so stops it); False with PGTRICKLE_DSN.
        self.owns_server = True
        self.failure_reported = False
        self.airflow: Any = None  # the test kit's AirflowHome, set by _configure_airflow

    # -- steps ---------------------------------------------------------------------------

    def run(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text("", encoding="utf-8")
        self._configure_airflow()
        with self._database() as db:
            try:
                self._steps(db)
            except DemoError as exc:
                if self.args.keep_server:
                    # Say what failed before holding the server, so the user knows what to
                    # look for while it runs.
                    self.console.say(f"\nDEMO FAILED: {exc}")
                    self.failure_reported = True
                    self._hold(db)
                raise
            if self.args.keep_server:
                self._hold(db)

    def _steps(self, db: Any) -> None:
        self._configure_connection(db)
        self._load_sources(db)
        self._build_manifest()
        self._migrate_airflow()
        with self.console.step(f"Run `{COSMOS_DAG_ID}` (dbt builds the stream tables)"):
            self._run_dag(COSMOS_DAG_ID)
        first_report = self.output_dir / "report_first_run.md"
        shutil.copyfile(self.report_path, first_report)
        before = self._snapshot(db)
        with self.console.step(
            f"Run `{MAINTENANCE_DAG_ID}` (suspend, load "
            f"{SECOND_BATCH['orders']} orders, resume, refresh, wait)"
        ):
            self._run_dag(MAINTENANCE_DAG_ID, {"schemas": STREAM_TABLE_SCHEMAS, **SECOND_BATCH})
        with self.console.step(f"Run `{COSMOS_DAG_ID}` again"):
            self._run_dag(COSMOS_DAG_ID)
        after = self._snapshot(db)
        self._summary(before, after, first_report)

    def _hold(self, db: Any) -> None:
        """--keep-server: leave the server up for a look, until Ctrl-C."""
        from airflow_provider_pgtrickle.testing.__main__ import connection_help

        say = self.console.say
        say()
        if not self.owns_server:
            say(f"Kept database `{db.dbname}` on your pg_trickle server (--keep-server):")
            say(connection_help(db))
            return
        say("The demo's PostgreSQL server keeps running (--keep-server). Connect with:")
        say(connection_help(db, psql=_psql_path()))
        say("Press Ctrl-C to stop the server and delete it.")
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            say("\nStopping and deleting the server ...")

    @contextlib.contextmanager
    def _database(self) -> Iterator[Any]:
        import psycopg

        from airflow_provider_pgtrickle.testing.server import (
            TestServer,
            connect_server,
            start_double_server,
        )

        dsn = os.environ.get("PGTRICKLE_DSN")
        with contextlib.ExitStack() as stack:
            server: TestServer
            if dsn:
                title = "Connect to the pg_trickle server in PGTRICKLE_DSN"
                with self.console.step(title):
                    server = connect_server(dsn)
                    name = self.args.database or f"pgtrickle_demo_{uuid.uuid4().hex[:8]}"
                    try:
                        db = server.create_database(name)
                    except psycopg.Error as exc:
                        # The DSN may hold a password: name only where we tried to go.
                        raise DemoError(
                            f"could not create database `{name}` with pg_trickle on "
                            f"{server.host}:{server.port}: {str(exc).strip()}; check "
                            "PGTRICKLE_DSN (the role needs CREATEDB and must be allowed to "
                            "CREATE EXTENSION pg_trickle)"
                        ) from exc
            else:
                title = "Start PostgreSQL 18 with the pg_trickle TEST DOUBLE"
                with self.console.step(title):
                    server = stack.enter_context(
                        start_double_server(
                            log_statements=False, base_dir=None, version=self.args.double_version
                        )
                    )
                    db = server.create_database(self.args.database or "jaffle_stream")
            self.is_double = server.is_double or self._detect_double(db)
            self.owns_server = server.is_double
            self._describe_server(db)
            try:
                yield db
            finally:
                if not server.is_double and not (self.args.keep_database or self.args.keep_server):
                    with contextlib.suppress(Exception):
                        server.drop_database(db.dbname)
                elif not server.is_double:
                    self.console.say(f"   kept database `{db.dbname}` (--keep-database)")

    def _detect_double(self, db: Any) -> bool:
        # With PGTRICKLE_DSN the server may still be a test server running the double: it says
        # so in its extension comment and ships test helpers no real installation has.
        with db.connect() as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions"
                "  WHERE name = 'pg_trickle' AND strpos(lower(comment), 'test double') > 0)"
                " OR EXISTS (SELECT 1 FROM pg_available_extensions"
                "  WHERE name = 'pg_trickle_test')"
                " OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'pgtrickle_test')"
            ).fetchone()
        return bool(row and row[0])

    def _describe_server(self, db: Any) -> None:
        with db.connect() as conn:
            version = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'"
            ).fetchone()
            pg = conn.execute("SHOW server_version").fetchone()
            scheduler = conn.execute(
                "SELECT severity FROM pgtrickle.health_check()"
                " WHERE check_name = 'scheduler_running'"
            ).fetchone()
        where = f"{db.host}:{db.port}/{db.dbname}"
        if self.is_double:
            self.console.say(
                f"   NOTE: this is the pg_trickle TEST DOUBLE {version[0] if version else '?'} "
                f"(pure SQL, no background scheduler) on PostgreSQL {pg[0] if pg else '?'} at "
                f"{where}. Set PGTRICKLE_DSN to run the same demo on a real pg_trickle."
            )
        else:
            self.console.say(
                f"   real pg_trickle {version[0] if version else '?'} on PostgreSQL "
                f"{pg[0] if pg else '?'} at {where}"
            )
        if scheduler and scheduler[0] != "OK":
            self.console.say(
                "   no pg_trickle scheduler is running: stream tables refresh only when the "
                "DAGs refresh them."
            )

    def _configure_airflow(self) -> None:
        from airflow_provider_pgtrickle.testing.airflow import AirflowHome

        airflow_home = self.state_dir / "airflow"
        # DAG runs happen in child processes (the test kit's AirflowHome); these variables
        # reach them through this process's environment. AIRFLOW_HOME is set here too because
        # Airflow configures itself on first import (the provider's exceptions import it), and
        # this process must not write to the user's ~/airflow.
        os.environ.update(
            {
                "AIRFLOW_HOME": str(airflow_home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                # Cosmos caches generated profiles (which hold no password) and partial parses.
                "AIRFLOW__COSMOS__CACHE_DIR": str(self.state_dir / "cosmos"),
                "DBT_LOG_PATH": str(self.state_dir / "dbt-logs"),
                "JAFFLE_STREAM_REPORT": str(self.report_path),
                "DO_NOT_TRACK": "1",
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
                # Cosmos looks for the `dbt` executable on PATH; use this environment's.
                "PATH": os.pathsep.join(
                    [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
                ),
            }
        )
        # A manifest or connection left in the caller's environment must not steer this run.
        os.environ.pop("JAFFLE_STREAM_MANIFEST", None)
        self.airflow = AirflowHome(airflow_home)

    def _configure_connection(self, db: Any) -> None:
        from airflow_provider_pgtrickle.cosmos import dbt_package_env

        os.environ.update({**db.airflow_env("postgres_default"), **dbt_package_env()})

    def _load_sources(self, db: Any) -> None:
        sql_dir = self.dags_folder / "sql" / "jaffle_stream"
        with self.console.step("Create the shop's raw tables and load a deterministic data set"):
            with db.connect() as conn:
                conn.execute((sql_dir / "create_sources.sql").read_text(encoding="utf-8"))
                loaded = conn.execute(
                    (sql_dir / "load_batch.sql").read_text(encoding="utf-8"), FIRST_BATCH
                ).fetchone()
            if loaded is None:
                raise DemoError("loading the data set returned no row counts")
            self.console.say(
                f"   {loaded[0]:,} customers, {loaded[1]:,} orders, {loaded[2]:,} events "
                "in schema jaffle_raw"
            )

    def _build_manifest(self) -> None:
        dbt = Path(sys.executable).with_name("dbt")
        command = str(dbt) if dbt.exists() else (shutil.which("dbt") or "dbt")
        with self.console.step("dbt deps + dbt parse (the manifest Cosmos renders the DAG from)"):
            for verb in ("deps", "parse"):
                self._subprocess(
                    [
                        command,
                        verb,
                        "--project-dir",
                        str(self.project_dir),
                        "--profiles-dir",
                        str(self.project_dir),
                    ],
                    f"dbt {verb}",
                )

    def _migrate_airflow(self) -> None:
        with self.console.step("Prepare Airflow's SQLite metadata database (.demo/airflow)"):
            self.airflow.migrate()

    def _subprocess(self, command: list[str], what: str) -> None:
        with self.log_path.open("ab") as log:
            done = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, check=False, cwd=self.workdir
            )
        if done.returncode != 0:
            raise DemoError(f"`{what}` failed (exit {done.returncode}); see {self.log_path}")

    def _run_dag(self, dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, str | None]:
        # Each run is a child process in its own process group (the test kit's `run_dag`), so
        # Ctrl-C reaches only this process, which stops the child at once instead of letting
        # Airflow turn the interrupt into a failed task and carry on.
        from airflow_provider_pgtrickle.testing.airflow import TaskProgress

        def progress(task: TaskProgress) -> None:
            seconds = "" if task.seconds is None else f" {task.seconds:.1f} s"
            word = "ok" if task.state == "success" else task.state.upper()
            # Tasks, not task instances: a mapped task's instances appear only as it runs, so
            # counting them made the total grow while the DAG ran ([6/6] ... [13/13]). The
            # instances of a mapped task share its count and are named by index.
            counter = f"[{task.tasks_finished}/{task.total}]"
            self.console.say(f"   {counter:>8} {task.task} ... {word}{seconds}")

        with self.log_path.open("a", encoding="utf-8", buffering=1) as log:

            def line(text: str) -> None:
                if self.args.verbose:
                    self.console.stream.write(text)
                log.write(text)

            result = self.airflow.run_dag(
                self.dags_folder / f"{dag_id}.py",
                dag_id,
                conf=conf,
                timeout=1800,
                on_line=line,
                on_task=progress,
            )
        if not result.succeeded:
            raise DemoError(
                f"DAG `{dag_id}` ended `{result.state}`; tasks not successful: "
                + (
                    ", ".join(f"{t} ({result.task_states[t]})" for t in result.failed_tasks)
                    or "none"
                )
                + f". Airflow and dbt output: {self.log_path}"
            )
        self.console.say(f"   {len(result.task_states)} tasks succeeded")
        return result.task_states

    # -- results -------------------------------------------------------------------------

    def _snapshot(self, db: Any) -> Snapshot:
        from psycopg import sql

        with db.connect() as conn:
            rows = conn.execute(
                "SELECT pgt_schema, pgt_name, status, refresh_mode,"
                " coalesce(schedule, 'calculated'), staleness"
                " FROM pgtrickle.pg_stat_stream_tables WHERE pgt_schema = ANY(%s)"
                " ORDER BY pgt_schema DESC, pgt_name",
                (STREAM_TABLE_SCHEMAS,),
            ).fetchall()
            tables: dict[str, TableState] = {}
            for schema, name, status, mode, schedule, staleness in rows:
                count = conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
                ).fetchone()
                last = conn.execute(
                    "SELECT action, rows_inserted, rows_deleted"
                    " FROM pgtrickle.get_refresh_history(%s, 1)",
                    (f"{schema}.{name}",),
                ).fetchone()
                tables[f"{schema}.{name}"] = TableState(
                    name=f"{schema}.{name}",
                    status=status,
                    refresh_mode=mode,
                    schedule=schedule,
                    rows=int(count[0]) if count else 0,
                    staleness=staleness,
                    last_action=last[0] if last else None,
                    last_delta=(int(last[1] or 0), int(last[2] or 0)) if last else None,
                )
            segments = conn.execute(
                sql.SQL(
                    "SELECT coalesce(sum(customers), 0), coalesce(sum(revenue), 0)"
                    " FROM {}.customer_segments"
                ).format(sql.Identifier(MARTS_SCHEMA))
            ).fetchone()
            days = conn.execute(
                sql.SQL("SELECT count(*), max(order_date) FROM {}.daily_revenue").format(
                    sql.Identifier(MARTS_SCHEMA)
                )
            ).fetchone()
            events = conn.execute(
                sql.SQL("SELECT coalesce(sum(events), 0) FROM {}.event_counts").format(
                    sql.Identifier(MARTS_SCHEMA)
                )
            ).fetchone()
        if segments is None or days is None or events is None:
            raise DemoError("the marts returned no aggregate row")
        return Snapshot(
            tables=tables,
            customers=int(segments[0]),
            revenue=Decimal(segments[1]),
            order_days=int(days[0]),
            last_order_day=days[1],
            events=int(events[0]),
        )

    def _summary(self, before: Snapshot, after: Snapshot, first_report: Path) -> None:
        say = self.console.say
        say()
        say("=" * 78)
        say("Stream tables (after the second run)")
        say("=" * 78)
        say(
            f"{'stream table':<32} {'status':<8} {'mode':<12} {'schedule':<10} "
            f"{'rows':>12} {'staleness':>10}  last refresh"
        )
        for name, state in after.tables.items():
            old = before.tables.get(name)
            rows = f"{old.rows if old else 0}->{state.rows}"
            staleness = _seconds(state.staleness)
            last = state.last_action or "-"
            if state.last_delta is not None:
                last += f" +{state.last_delta[0]} -{state.last_delta[1]}"
            say(
                f"{name:<32} {state.status:<8} {state.refresh_mode:<12} {state.schedule:<10} "
                f"{rows:>12} {staleness:>10}  {last}"
            )
        say()
        say("What changed after loading the second batch and refreshing:")
        say(f"  customers with completed orders: {before.customers:,} -> {after.customers:,}")
        say(f"  revenue:                         {before.revenue:,.2f} -> {after.revenue:,.2f}")
        say(
            f"  days with orders:                {before.order_days} -> {after.order_days} "
            f"(last day {before.last_order_day} -> {after.last_order_day})"
        )
        say(f"  events counted:                  {before.events:,} -> {after.events:,}")
        say()
        say("Timings:")
        for title, seconds in self.console.timings:
            say(f"  {seconds:6.1f} s  {title}")
        say()
        say(f"Report (second run): {self.report_path}")
        say(f"Report (first run):  {first_report}")
        say(f"Airflow/dbt output:  {self.log_path}")
        if self.is_double:
            say()
            say(
                "This ran on the pg_trickle TEST DOUBLE. To use a real pg_trickle server, e.g.\n"
                "  docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=postgres "
                "ghcr.io/trickle-labs/pg_trickle\n"
                "  PGTRICKLE_DSN=postgresql://postgres:postgres@localhost:5432/postgres "
                "bash scripts/demo.sh"
            )
        if before.customers >= after.customers or before.revenue >= after.revenue:
            raise DemoError("the stream tables did not move after the second batch was loaded")
        if any(state.status != "ACTIVE" for state in after.tables.values()):
            raise DemoError("not every stream table is ACTIVE at the end")


def _psql_path() -> str | None:
    from airflow_provider_pgtrickle.testing.__main__ import _psql_path as find

    return find()


def _seconds(value: timedelta | None) -> str:
    return "-" if value is None else f"{value.total_seconds():.0f} s"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="dbt stream tables on pg_trickle, orchestrated by Airflow and Cosmos.",
        epilog="Set PGTRICKLE_DSN to use a real pg_trickle server instead of the test double.",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path.cwd(),
        help="where .demo/ (Airflow home, log) and demo_output/ go (default: current directory)",
    )
    parser.add_argument("--output", type=Path, help="report directory (default: demo_output/)")
    parser.add_argument(
        "--dags-folder",
        type=Path,
        default=REPO_ROOT / "dags",
        help="folder with the example DAGs and dbt project (default: the repository's dags/)",
    )
    parser.add_argument(
        "--database", help="name of the database to create (default: a fresh random name)"
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="with PGTRICKLE_DSN: keep the demo database instead of dropping it",
    )
    parser.add_argument(
        "--keep-server",
        action="store_true",
        help="after the demo, keep the PostgreSQL server (or, with PGTRICKLE_DSN, the database) "
        "and print how to connect; Ctrl-C stops and deletes it",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show Airflow's and dbt's output live"
    )
    from airflow_provider_pgtrickle.testing.versions import (
        DEFAULT_VERSION,
        VERSION_ENV,
        accepted_versions,
    )

    parser.add_argument(
        "--double-version",
        choices=accepted_versions(),
        default=None,
        help=f"pg_trickle version the test double plays (default: ${VERSION_ENV}, else "
        f"{DEFAULT_VERSION.value}); ignored with PGTRICKLE_DSN",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8"))
    console.say("airflow-provider-pgtrickle demo: dbt stream tables, Cosmos, health sensors")
    started = time.perf_counter()
    demo = Demo(args, console)
    try:
        demo.run()
    except KeyboardInterrupt:
        # The DAG's child process was stopped and the server deleted on the way out.
        console.say("\ninterrupted")
        return 130
    except DemoError as exc:
        if not demo.failure_reported:
            console.say(f"\nDEMO FAILED: {exc}")
        return 1
    except Exception as exc:
        console.say(f"\nDEMO FAILED: {type(exc).__name__}: {exc}\nDetails: {demo.log_path}")
        raise
    console.say(f"\nDemo finished in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
