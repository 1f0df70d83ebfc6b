"""Reports that never arrive: the registry of bodies, `nianbao overdue`, and one alert per body and year."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from openpyxl import Workbook
from sqlmodel import Session, select

from nianbao.cli import main
from nianbao.display import who
from nianbao.judge import judge, read_report
from nianbao.settings import Settings
from report.model import Report
from storage import Store
from storage.registry import overdue
from storage.tables import OutboxRecord
from tests.generator import LAYOUTS, Organization, make_truth
from worker.notify import load_targets
from worker.overdue import alert_overdue, alert_received

SETTINGS = Settings()
FANGXIAN = Organization("房县白鹤镇人民政府", "白鹤镇人民政府", "房县", "township", "我镇", "0719-3221234")
MENGJIN = Organization("孟津区白鹤镇人民政府", "白鹤镇人民政府", "孟津区", "township", "我镇", "0379-6791234")


def report_of(tmp_path: Path, organization: Organization, year: int, seed: int) -> Report:
    truth = make_truth(random.Random(seed), organization=organization, year=year, show_title=True)
    truth.published = f"{year + 1}-01-20"
    path = tmp_path / f"{organization.title_name}-{year}.txt"
    path.write_text(LAYOUTS["spaces"](truth, random.Random(seed)), encoding="utf-8")  # type: ignore[arg-type]
    return judge(read_report(path, SETTINGS), [], SETTINGS)


def seeded_store(tmp_path: Path) -> Store:
    """Like the seeds: 房县白鹤镇 filed 2023 (not 2024), 孟津区白鹤镇 filed 2024."""
    store = Store.open(f"sqlite:///{tmp_path / 'nianbao.db'}")
    store.save(report_of(tmp_path, FANGXIAN, 2023, 1))
    store.save(report_of(tmp_path, MENGJIN, 2023, 2))
    store.save(report_of(tmp_path, MENGJIN, 2024, 3))
    return store


def test_overdue_lists_the_body_that_filed_last_year_and_not_this_one(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    run = CliRunner().invoke(main, ["overdue", "--year", "2024", "--as-of", "2025-06-01", "--db", store.url])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0].startswith("白鹤镇人民政府（房县）\t乡镇（街道）\t期限 2025-03-31\t最近一次：2023 年度")
    assert not any("孟津区" in line for line in lines)
    assert lines[-1] == "2024 年度报告截至 2025-06-01 逾期未报：1 个机关"
    early = CliRunner().invoke(main, ["overdue", "--year", "2024", "--as-of", "2025-03-31", "--db", store.url])
    assert early.output.splitlines() == ["2024 年度报告截至 2025-03-31 逾期未报：0 个机关"]
    # a body first seen in 2024 was not watched in 2023: not overdue for 2023
    assert overdue(store, 2023, date(2024, 6, 1), SETTINGS.rules) == []
    store.dispose()


def test_imported_registry_adds_bodies_that_never_filed(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["机关名称", "地区", "层级", "上级"])
    sheet.append(["教育局", "房县", "部门", "房县人民政府"])
    sheet.append(["白鹤镇人民政府", "房县", "乡镇", "房县人民政府"])
    sheet.append([None, None, None, None])
    path = tmp_path / "orgs.xlsx"
    workbook.save(path)
    run = CliRunner().invoke(main, ["orgs", "import", str(path), "--db", store.url])
    assert run.exit_code == 0, run.output
    assert "2 个机关，新增 1 个，更新 1 个" in run.output
    found = {(body.name, body.region): body for body in overdue(store, 2024, date(2025, 2, 5), SETTINGS.rules)}
    assert list(found) == [("教育局", "房县")]  # a department is due by 31 January; the township by 31 March
    assert found[("教育局", "房县")].last_year is None and found[("教育局", "房县")].deadline == date(2025, 1, 31)
    listed = CliRunner().invoke(main, ["overdue", "--year", "2024", "--as-of", "2025-02-05", "--db", store.url])
    assert "教育局（房县）\t地方政府部门\t期限 2025-01-31\t从未报送" in listed.output
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    failed = CliRunner().invoke(main, ["orgs", "import", str(bad), "--db", store.url])
    assert failed.exit_code == 1 and "无法作为 Excel 工作簿读取" in failed.output and "Traceback" not in failed.output
    store.dispose()


def queued(store: Store) -> list[OutboxRecord]:
    """The outbox items waiting to be sent, in the order queued."""
    with Session(store.engine) as session:
        return list(session.exec(select(OutboxRecord).where(OutboxRecord.state == "pending").order_by(OutboxRecord.id)))


def test_one_alert_per_body_and_year_and_a_note_when_the_report_arrives(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    targets = load_targets(Settings(notify_urls=["json://127.0.0.1:9/alerts"]))
    assert alert_overdue(store, SETTINGS, targets, date(2025, 6, 1)) == (1, 1)
    assert alert_overdue(store, SETTINGS, targets, date(2025, 6, 2)) == (0, 0)  # alerted once
    (item,) = queued(store)
    assert item.version_id is None and item.kind.startswith("overdue:")
    assert item.title == "【逾期未报】白鹤镇人民政府（房县） 2024 年度政府信息公开工作年度报告"
    assert "应于 2025-03-31 前公布" in item.body and "最近收到的是 2023 年度报告" in item.body
    late = report_of(tmp_path, FANGXIAN, 2024, 4)
    result = store.save(late)
    assert alert_received(store, late, result, targets) == 1
    assert alert_received(store, late, result, targets) == 0  # the notice is closed
    received = [entry for entry in queued(store) if entry.kind.startswith("received:")]
    assert [entry.version_id for entry in received] == [result.version_id]
    assert received[0].title.startswith("【已收到】白鹤镇人民政府（房县） 2024 年度")
    assert overdue(store, 2024, date(2025, 6, 3), SETTINGS.rules) == []
    store.dispose()


def test_overview_and_regions_pages_show_overdue_bodies(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from web.app import create_app

    store = seeded_store(tmp_path)  # nothing filed for the year due this year: both bodies are overdue
    year = date.today().year - 1
    client = TestClient(create_app(Settings(database_url=store.url, data_dir=tmp_path)))
    overview = client.get("/").text
    assert f"逾期未报：{year} 年度报告" in overview
    assert overview.count("data-overdue=") == 2 and "2023 年度（" in overview and "2024 年度（" in overview
    only_fangxian = client.get("/?region=房县").text
    assert only_fangxian.count("data-overdue=") == 1
    regions = client.get("/regions").text
    assert f"逾期未报：{year} 年度报告" in regions and regions.count("data-overdue=") == 2
    store.dispose()


def test_the_overdue_list_kept_for_a_store_follows_every_change(tmp_path: Path) -> None:
    """`overdue` keeps its list per store and computes again only the bodies touched since it was asked: after
    each change it equals a list computed afresh, and asked again with nothing changed it reads no table."""
    import re
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import event

    from storage.registry import Body, import_bodies

    store = seeded_store(tmp_path)
    as_of = date(2025, 6, 1)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def listed() -> list[tuple[str, int | None, datetime | None]]:
        statements.clear()
        kept = overdue(store, 2024, as_of, SETTINGS.rules)
        assert not any(re.search(r"FROM organizations\s*$", statement) for statement in statements)  # no scan
        fresh = Store(store.url)  # another store: its list is computed afresh
        assert overdue(fresh, 2024, as_of, SETTINGS.rules) == kept
        fresh.dispose()
        return [(who(body.name, body.region), body.last_year, body.last_received) for body in kept]

    first = [
        (who(body.name, body.region), body.last_year, body.last_received)
        for body in overdue(store, 2024, as_of, SETTINGS.rules)
    ]
    assert [(name, year) for name, year, _ in first] == [("白鹤镇人民政府（房县）", 2023)]
    statements.clear()
    again = overdue(store, 2024, as_of, SETTINGS.rules)
    assert [(who(body.name, body.region), body.last_year, body.last_received) for body in again] == first
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1  # the stamp: nothing changed, nothing read again

    import_bodies(store, [Body("教育局", "房县", "department"), Body("教育局")])  # the region-less one: a namesake
    assert [name for name, _, _ in listed()] == ["教育局（房县）", "白鹤镇人民政府（房县）"]
    corrected = report_of(tmp_path, FANGXIAN, 2023, 5)  # a corrected 2023 report, received later
    later = datetime.now(UTC) + timedelta(minutes=5)
    store.save(corrected, received_at=later)
    assert listed()[1] == ("白鹤镇人民政府（房县）", 2023, later)
    store.save(report_of(tmp_path, FANGXIAN, 2024, 4))  # the overdue report arrives
    assert [name for name, _, _ in listed()] == ["教育局（房县）"]
    store.dispose()


def test_the_kept_overdue_list_sees_a_report_move_to_its_regions_body(tmp_path: Path) -> None:
    """The same content again from its region's folder moves a stored report to that region's body, with no new
    version and no body added or removed when both bodies have other reports: the kept list sees it too."""
    from storage.registry import Body, import_bodies

    store = Store.open(f"sqlite:///{tmp_path / 'nianbao.db'}")
    loose = Organization("白鹤镇人民政府", "白鹤镇人民政府", None, "township", "我镇", "0719-3221234")
    store.save(report_of(tmp_path, loose, 2023, 1))
    unplaced = report_of(tmp_path, loose, 2024, 2)
    store.save(unplaced)
    import_bodies(store, [Body("白鹤镇人民政府", "房县", "township")])
    store.save(report_of(tmp_path, FANGXIAN, 2022, 3))
    as_of = date(2025, 6, 1)
    assert [who(body.name, body.region) for body in overdue(store, 2024, as_of, SETTINGS.rules)] == [
        "白鹤镇人民政府（房县）"
    ]
    placed = unplaced.model_copy(deep=True)
    placed.organization.region = placed.evidence.folder_region = "房县"
    assert not store.save(placed).created  # moved: 房县白鹤镇 has its 2024 report now
    assert overdue(store, 2024, as_of, SETTINGS.rules) == []
    store.dispose()
