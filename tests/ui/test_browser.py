"""The stream tables page in a real browser, served by a real `airflow api-server`.

The API server runs in a subprocess with its own AIRFLOW_HOME (SQLite metadata, migrated
first), Airflow's SimpleAuthManager with a known user and password, and an
`AIRFLOW_CONN_WAREHOUSE` connection to the test database. Headless Chromium (Debian's
`chromium` and `chromium-driver`, driven by Selenium) logs in through Airflow's own login
form, opens the page from Airflow's navigation and checks what a person sees. A screenshot
is saved to `artifacts/ui-stream-tables.png` (CI keeps it).

Without Chromium the test skips locally, but fails in CI (`CI` set): there `.ci/run`
installs it, so a missing browser is a broken setup, not a reason to skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_pgtrickle.testing.airflow import AirflowHome
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from ui._scenario import BROKEN, CHAINED, FAILURE, HEALTHY, SOURCES, STREAM_TABLES, build

pytestmark = [pytest.mark.slow, pytest.mark.requires_double]

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts"
AIRFLOW = (sys.executable, "-m", "airflow")
USER, PASSWORD = "admin", "pgtrickle-ui-test"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1480,1180",
)


def _browser_binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    reason = (
        "Chromium and chromedriver are needed for the browser test: "
        "apt-get install -y chromium chromium-driver"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must provide them; .ci/run installs them)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen[str], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"airflow api-server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"airflow api-server did not answer {url} in {timeout:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def warehouse(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    """One database for the module: starting an API server is the expensive part."""
    db = pgtrickle_server.create_database()
    try:
        with db.connect(autocommit=True) as conn:

            def tick() -> None:
                conn.execute("SELECT * FROM pgtrickle_test.run_scheduler_tick()")

            build(conn, tick)
        yield db
    finally:
        pgtrickle_server.drop_database(db.dbname)


@pytest.fixture(scope="module")
def chromium() -> tuple[str, str]:
    """Chromium and chromedriver paths, checked before anything expensive starts."""
    return _browser_binaries()


@pytest.fixture(scope="module")
def api_server(
    tmp_path_factory: pytest.TempPathFactory, warehouse: TestDatabase, chromium: tuple[str, str]
) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("api-server")
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    airflow_home = AirflowHome(
        home,
        {
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__API_AUTH__JWT_SECRET": "browser-test-only-" + "k" * 48,
            "AIRFLOW__API__EXPOSE_CONFIG": "False",
            **warehouse.airflow_env("warehouse"),
        },
    )
    airflow_home.migrate()
    env = airflow_home.env()
    log = tmp_path / "api-server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        _wait_for(f"{base}/pgtrickle/static/app.css", server, log, timeout=180)
        yield base
    finally:
        # The server runs in its own process group: stop it with its workers.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture
def browser(tmp_path: Path, chromium: tuple[str, str]) -> Iterator[Any]:
    # A fresh profile per test: no cookies carried from one test to the next.
    binary, driver_path = chromium
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_person_sees_stream_tables_their_graph_and_the_failed_one(
    api_server: str, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    # Airflow sends an anonymous visitor to its login form.
    browser.get(f"{api_server}/plugin/stream-tables")
    username = wait.until(ec.visibility_of_element_located((By.NAME, "username")))
    username.send_keys(USER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)

    # The page is in Airflow's navigation; it opens inside Airflow's layout.
    if "/plugin/stream-tables" not in browser.current_url:
        browser.get(f"{api_server}/plugin/stream-tables")
    nav = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "a[href$='stream-tables']")))
    assert "Streams" in nav.text
    frame = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe")))
    assert frame.get_attribute("src").endswith("/pgtrickle/")
    browser.switch_to.frame(frame)

    rows_css = "#tables tbody tr[data-name]"
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rows_css)) == len(STREAM_TABLES))
    rows = browser.find_elements(By.CSS_SELECTOR, rows_css)
    assert [r.find_element(By.CSS_SELECTOR, "td.name").text for r in rows] == list(STREAM_TABLES)
    by_name = {r.get_attribute("data-name"): r for r in rows}
    assert by_name[HEALTHY].find_element(By.CSS_SELECTOR, ".pill").text == "ACTIVE"

    # The failed table reads as failed: status ERROR in a red pill, its error on the row.
    broken = by_name[BROKEN]
    pill = broken.find_element(By.CSS_SELECTOR, ".pill")
    assert pill.text == "ERROR"
    assert "failed" in pill.get_attribute("class")
    assert pill.value_of_css_property("color") == "rgba(201, 42, 42, 1)"
    assert FAILURE[:40] in broken.text
    assert (
        by_name[HEALTHY].find_element(By.CSS_SELECTOR, ".pill").value_of_css_property("color")
        == "rgba(43, 138, 62, 1)"
    )

    # One graph node per stream table, plus the plain sources; the failed one is drawn red.
    nodes = browser.find_elements(By.CSS_SELECTOR, "#graph g.node")
    drawn = {n.get_attribute("data-id"): n for n in nodes}
    assert set(drawn) == set(STREAM_TABLES) | set(SOURCES)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#graph g.node.stream-table")) == 3
    broken_rect = drawn[BROKEN].find_element(By.CSS_SELECTOR, "rect")
    assert broken_rect.value_of_css_property("stroke") == "rgb(201, 42, 42)"
    assert (
        drawn[HEALTHY].find_element(By.CSS_SELECTOR, "rect").value_of_css_property("stroke")
        == "rgb(43, 138, 62)"
    )
    # Left to right: sources, then what reads them, then what reads those.
    x = {name: drawn[name].rect["x"] for name in drawn}
    assert x["public.orders"] < x[HEALTHY] < x[CHAINED]

    # The failed table's detail carries the full error text; its row offers it too.
    broken.find_element(By.CSS_SELECTOR, "button.linkish").click()
    wait.until(
        lambda d: FAILURE in d.find_element(By.CSS_SELECTOR, f"tr[data-name='{BROKEN}']").text
    )
    browser.find_element(By.CSS_SELECTOR, f"#tables tr[data-name='{BROKEN}'] td.name").click()
    wait.until(lambda d: FAILURE in d.find_element(By.ID, "detail").text)

    # Filtering by status leaves only the tables that need attention.
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "status")).select_by_value("unhealthy")
    names = [r.get_attribute("data-name") for r in browser.find_elements(By.CSS_SELECTOR, rows_css)]
    assert names == [BROKEN]
    Select(browser.find_element(By.ID, "status")).select_by_value("healthy")
    names = [r.get_attribute("data-name") for r in browser.find_elements(By.CSS_SELECTOR, rows_css)]
    assert names == [CHAINED, HEALTHY]
    Select(browser.find_element(By.ID, "status")).select_by_value("")

    # Clicking a node shows its refresh history as small charts.
    browser.find_element(By.CSS_SELECTOR, f"#graph g.node[data-id='{HEALTHY}']").click()
    panel = wait.until(ec.visibility_of_element_located((By.ID, "detail")))
    wait.until(lambda d: panel.find_elements(By.CSS_SELECTOR, ".chart svg rect"))
    assert HEALTHY in panel.text
    assert "Duration" in panel.text
    assert "Rows changed" in panel.text

    browser.switch_to.default_content()
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "ui-stream-tables.png"))


def test_the_page_refuses_data_to_a_visitor_who_is_not_logged_in(
    api_server: str, browser: Any
) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{api_server}/pgtrickle/api/connections/warehouse/overview")
    assert refused.value.code == 401
    browser.get(f"{api_server}/pgtrickle/")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(
        lambda d: "not logged in" in d.find_element(By.ID, "message").text
    )
    assert not browser.find_elements(By.CSS_SELECTOR, "#tables tbody tr[data-name]")
