"""The web pages in a real browser: Debian's chromium, headless, driven through Selenium and chromedriver, against
`uvicorn` serving the application on 127.0.0.1 over a database loaded with the seeds and a generated multi-year
set (tests/web_samples.py).

Skipped when chromium or chromedriver is missing, unless NIANBAO_REQUIRE_SERVICES=1 (CI), where that fails.
With NIANBAO_SCREENSHOTS=<folder> the main pages are saved there as PNG (the README's are in docs/screenshots).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from openpyxl import load_workbook

from nianbao.settings import Settings
from storage import Store
from tests.services import free_port, wait_for
from tests.web_samples import add_reviewer, ingest, write_share
from web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)
REVIEWER, PASSWORD = "审核员甲", "correct horse battery"
TOTAL = "requests.total[6]"


def _browser_missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(URL, share) of a SQLite database loaded with the seeds and the generated set, with one reviewer."""
    folder = tmp_path_factory.mktemp("browser")
    share = write_share(folder)
    url = f"sqlite:///{folder / 'nianbao.db'}"
    ingest(url, share)
    add_reviewer(url, REVIEWER, PASSWORD)
    return url, share


@pytest.fixture(scope="module")
def site(loaded: tuple[str, Path]) -> Iterator[str]:
    """The base URL of the application served by uvicorn in a thread."""
    port = free_port()
    config = uvicorn.Config(
        create_app(Settings(database_url=loaded[0])), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "uvicorn to start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("NIANBAO_REQUIRE_SERVICES") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="nianbao-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def by_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def screenshot(driver: Any, name: str) -> None:
    """Save the whole page as NIANBAO_SCREENSHOTS/<name>.png, when that folder is given."""
    folder = os.environ.get("NIANBAO_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(height + 40, 700), 3600))
    driver.save_screenshot(str(Path(folder) / f"{name}.png"))
    driver.set_window_size(1400, 1000)


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    assert "政府信息公开年报合规监测" in driver.title


def listed(driver: Any) -> list[str]:
    return [row.find_element("css selector", "td a").text for row in by_css(driver, "tr[data-org]")]


def test_overview_lists_the_bodies_and_its_filters_work(browser: Any, site: str, loaded: tuple[str, Path]) -> None:
    from selenium.webdriver.support.ui import Select

    store = Store(loaded[0])
    flagged = {row.organization for row in store.findings(open_only=True) if row.organization}
    in_2023 = {row.organization for row in store.findings(year=2023, open_only=True) if row.organization}
    store.dispose()
    open_page(browser, site + "/")
    assert set(listed(browser)) == flagged and len(listed(browser)) >= 8
    assert {"房县", "加格达奇区"} <= {cell.text for cell in by_css(browser, "tr.region th")}
    screenshot(browser, "overview")
    Select(by_css(browser, "select[name=year]")[0]).select_by_visible_text("2023")
    by_css(browser, "form.filters button[type=submit]")[0].click()
    wait_for(lambda: "year=2023" in browser.current_url, 10, "the filtered overview")
    assert set(listed(browser)) == in_2023
    Select(by_css(browser, "select[name=year]")[0]).select_by_visible_text("全部年度")
    Select(by_css(browser, "select[name=show]")[0]).select_by_value("all")
    by_css(browser, "input[name=q]")[0].send_keys("白鹤")
    by_css(browser, "form.filters button[type=submit]")[0].click()
    wait_for(lambda: "show=all" in browser.current_url, 10, "the search")
    assert listed(browser) == ["白鹤镇人民政府", "白鹤镇人民政府"]  # of 房县 and of 孟津区
    # A count links to the findings behind it.
    by_css(browser, "tr[data-org] a.count")[0].click()
    wait_for(lambda: "/findings" in browser.current_url, 10, "the findings behind a count")
    assert by_css(browser, "tr[data-finding]")


def test_organization_page_highlights_the_cell_of_a_failing_total(browser: Any, site: str) -> None:
    open_page(browser, site + "/?q=白鹤&region=房县")
    by_css(browser, "tr[data-org] td a")[0].click()
    wait_for(lambda: "/org/" in browser.current_url, 10, "the organization page")
    by_css(browser, "p.years a")[-1].click()  # the latest year: 2023
    wait_for(lambda: "year=2023" in browser.current_url, 10, "the 2023 report")
    (cell,) = by_css(browser, f'td[data-cell="{TOTAL}"]')
    assert "hit-error" in cell.get_attribute("class").split()
    assert cell.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "rgba(255, 255, 255, 1)")
    assert "（七）总计" in cell.get_attribute("title")
    assert by_css(browser, "table.grid td.fired")
    screenshot(browser, "organization")
    cell.find_element("css selector", "a").click()
    wait_for(lambda: "/findings/" in browser.current_url, 10, "the finding of the cell")
    assert "requests." in browser.find_element("css selector", "dl.facts").text


def test_rule_page_chart_renders(browser: Any, site: str) -> None:
    open_page(browser, site + "/rules/requests.total_row")
    (chart,) = by_css(browser, "svg.chart")
    assert chart.is_displayed() and chart.size["width"] > 300 and chart.size["height"] > 150
    bars = by_css(browser, "svg.chart rect.bar")
    assert bars and all(bar.size["height"] > 0 for bar in bars)
    assert by_css(browser, "table.hits tr td a")
    screenshot(browser, "rule")


def _finished_download(folder: Path, pattern: str) -> Path | None:
    """The downloaded file once Chromium has finished it: a file can stand under the final name before it is whole
    (CI once read one that was no zip yet), while Chromium writes into a `.crdownload` beside it."""
    if any(folder.glob("*.crdownload")):
        return None
    return next((path for path in folder.glob(pattern) if zipfile.is_zipfile(path)), None)


def test_export_downloads_a_valid_xlsx(browser: Any, site: str, downloads: Path) -> None:
    open_page(browser, site + "/?year=2023")
    screen = listed(browser)
    for link in by_css(browser, "div.exports a"):
        if "xlsx" in link.text:
            link.click()
            break
    done = wait_for(lambda: _finished_download(downloads, "*.xlsx"), 20, "xlsx")
    sheet = load_workbook(done).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("地区", "机关") and [row[1] for row in rows[1:]] == screen


def test_anonymous_request_cannot_triage(browser: Any, site: str, loaded: tuple[str, Path]) -> None:
    store = Store(loaded[0])
    finding = next(row for row in store.findings(rule="requests.total_row", region="房县") if row.cells[-1:] == [TOTAL])
    open_page(browser, f"{site}/findings/{finding.id}")
    assert not by_css(browser, "form.triage") and "审核需要登录" in browser.page_source
    status = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0], {method: 'POST', body: new URLSearchParams({decision: 'dismiss', csrf_token: 'x'})})
          .then(response => done(response.status));""",
        f"{site}/findings/{finding.id}/triage",
    )
    assert status == 403
    assert store.triage_history(finding.id) == []
    store.dispose()


def test_a_dismissal_survives_reingesting_the_file(
    browser: Any, site: str, loaded: tuple[str, Path], tmp_path: Path
) -> None:
    url, share = loaded
    store = Store(url)
    finding = next(row for row in store.findings(rule="requests.total_row", region="房县") if row.cells[-1:] == [TOTAL])
    open_page(browser, f"{site}/login?next=/findings/{finding.id}")
    by_css(browser, "input[name=name]")[0].send_keys(REVIEWER)
    by_css(browser, "input[name=password]")[0].send_keys(PASSWORD)
    by_css(browser, "form.login button")[0].click()
    wait_for(lambda: by_css(browser, "form.triage"), 10, "signing in")  # back on the finding, with the form
    by_css(browser, "input[name=decision][value=dismiss]")[0].click()
    by_css(browser, "textarea[name=comment]")[0].send_keys("表格原文无误，系解析问题")
    by_css(browser, "form.triage button")[0].click()
    wait_for(lambda: by_css(browser, "table.triage-history"), 10, "the decision")
    assert "已驳回" in by_css(browser, "h1")[0].text
    # The same file again, and a corrected version with the same mistake: still dismissed.
    ingest(url, share)
    corrected = tmp_path / "房县" / "白鹤镇"
    corrected.mkdir(parents=True)
    original = (share / "房县" / "白鹤镇" / "2023.txt").read_text(encoding="utf-8")
    (corrected / "2023.txt").write_text(original + "\n（更正版）\n", encoding="utf-8")
    assert "其中更正版本 1 份" in ingest(url, tmp_path)
    browser.refresh()
    assert "已驳回" in by_css(browser, "h1")[0].text
    assert "表格原文无误，系解析问题" in by_css(browser, "table.triage-history")[0].text
    (again,) = [row for row in store.findings(rule="requests.total_row", region="房县") if row.id == finding.id]
    assert again.last_version_id != finding.last_version_id  # carried forward to the new version
    screenshot(browser, "finding")
    open_page(browser, site + "/regions")
    screenshot(browser, "regions")
    store.dispose()
