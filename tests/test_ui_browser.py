"""The drift dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

The README demo runs the example DAG ``drift_monitoring`` twice; the hostile-names DAG runs twice
on the same home.  ``airflow api-server`` + ``airflow dag-processor`` serve it with SimpleAuthManager
users; the browser logs in through the login form, opens the DAG's "Drift" tab, checks the
per-column table and the charts inside the tab's frame, follows a report link, opens the "Drift"
page of the navigation, and saves screenshots under ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_ui_api import DAG_ID as HOSTILE_DAG
from tests.test_ui_api import HOSTILE, ROLES, USERS, hostile_home
from tests.ui_server import AirflowUI, free_port

pytestmark = [pytest.mark.airflow, pytest.mark.demo]

CHROMIUM = os.environ.get("DRIFT_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
DAG = "drift_monitoring"


@pytest.fixture(scope="module")
def server(demo_run, airflow_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui_browser")
    env = dict(airflow_env, AIRFLOW_HOME=str(demo_run["home"]))
    port = free_port()
    # adds the hostile-names DAG (and its two runs) to the demo's home; its workers know the UI's URL
    env = hostile_home(tmp, env, base_url=f"http://127.0.0.1:{port}")
    for f in (ROOT / "example_dags").glob("*.py"):
        shutil.copy(f, Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) / f.name)
    with AirflowUI(env, users=USERS, roles=ROLES, dags=[DAG, HOSTILE_DAG], log_dir=tmp / "logs", port=port) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (the CI script does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []  # any alert() from injected markup would land here
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(server.url)
    page.locator("input[name=username]").fill("viewer")
    page.locator("input[name=password]").fill("viewer")
    page.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "login" not in url, timeout=30_000)
    yield page
    context.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def shot_frame(page, name: str) -> Path:
    """Full-length screenshot of what the UI's iframe shows (opened on its own, same login)."""
    frame = next(f for f in page.frames if f != page.main_frame)
    other = page.context.new_page()
    other.goto(frame.url)
    other.wait_for_load_state("load")
    path = shot(other, name)
    other.close()
    return path


def open_tab(page, server, dag_id: str):
    page.goto(f"{server.url}dags/{dag_id}")
    tab = page.get_by_role("link", name="Drift", exact=True).and_(page.locator("a[href$='plugin/drift']"))
    tab.click()
    page.wait_for_url(f"**/dags/{dag_id}/plugin/drift", timeout=30_000)
    frame = page.frame_locator("iframe")
    frame.locator("table.drift-columns").first.wait_for(timeout=60_000)
    return frame


def test_drift_tab_table_charts_and_report(page, server):
    frame = open_tab(page, server, DAG)
    rows = frame.locator("table.drift-columns tbody tr")
    names = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert {"mean radius", "mean perimeter", "site"} <= set(names)
    # two runs of the demo: two cells per column, the seeded drift red in both
    radius = frame.locator("table.drift-columns tbody tr", has=frame.locator("td.col-name", has_text="mean radius"))
    assert radius.locator("td.d1").count() == 2
    charts = frame.locator("svg.chart")
    assert charts.count() >= 3
    assert charts.first.locator("circle").count() == 2  # share drifted: one point per run
    box = charts.first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100  # rendered, not just present
    assert frame.locator("table.alerts tbody tr").count() == 2
    shot(page, "drift-tab.png")
    shot_frame(page, "drift-tab-full.png")

    frame.locator("a.report-link").first.click()
    frame.locator("h1", has_text="Drift report").wait_for(timeout=30_000)
    assert frame.locator("svg").count() >= 3
    assert frame.get_by_text("mean radius").first.is_visible()
    shot(page, "drift-report.png")
    shot_frame(page, "drift-report-full.png")
    assert page.dialogs == []


def test_drift_nav_page(page, server):
    page.goto(f"{server.url}plugin/drift-overview")
    frame = page.frame_locator("iframe")
    frame.locator("table.drift-dags").wait_for(timeout=60_000)
    links = frame.locator("a.dag-link")
    assert {links.nth(i).inner_text() for i in range(links.count())} >= {DAG, HOSTILE_DAG}
    shot(page, "drift-nav.png")
    frame.locator("a.dag-link", has_text=DAG).click()  # the DAG's drift page, inside the same frame
    frame.locator("h1", has_text=f"Drift: {DAG}").wait_for(timeout=30_000)
    assert frame.locator("table.drift-columns tbody tr").count() >= 7


def test_hostile_column_names_render_as_text(page, server):
    frame = open_tab(page, server, HOSTILE_DAG)
    cells = frame.locator("table.drift-columns td.col-name")
    assert sorted(cells.nth(i).inner_text() for i in range(cells.count())) == sorted(HOSTILE)
    assert frame.locator("img").count() == 0
    assert frame.locator("[onmouseover], [onerror]").count() == 0
    assert frame.locator("script").count() == 1
    shot(page, "drift-tab-hostile.png")
    frame.locator("a.report-link").first.click()
    frame.locator("h1", has_text="Drift report").wait_for(timeout=30_000)
    assert frame.get_by_text(HOSTILE[0]).first.is_visible()
    assert frame.locator("img").count() == 0
    assert page.dialogs == []


def test_drift_report_extra_link_of_a_task_instance(page, server):
    """The task instance page shows the "Drift report" link; following it opens the run's report."""
    status, resp = server.request("GET", f"api/v2/dags/{HOSTILE_DAG}/dagRuns?order_by=-run_after", user="viewer")
    run_id = json.loads(resp["body"])["dag_runs"][0]["dag_run_id"]
    page.goto(f"{server.url}dags/{HOSTILE_DAG}/runs/{run_id}/tasks/data_drift/details")
    link = page.locator("a", has_text="Drift report")
    link.wait_for(timeout=60_000)
    href = link.get_attribute("href")
    assert href.startswith(f"{server.url}drift/dags/{HOSTILE_DAG}/report?run_id=")
    shot(page, "drift-extra-link.png")
    # Airflow opens a same-origin extra link in the same tab (target=_self), others in a new one
    if link.get_attribute("target") == "_blank":
        with page.context.expect_page() as new_page:
            link.click()
        report = new_page.value
    else:
        link.click()
        report = page
    report.wait_for_url("**/drift/dags/*/report?*", timeout=30_000)
    report.locator("h1", has_text="Drift report").wait_for(timeout=30_000)
    assert report.get_by_text(HOSTILE[0]).first.is_visible()
