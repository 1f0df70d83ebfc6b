"""The web pages over HTTP (FastAPI's TestClient), on SQLite and PostgreSQL: what the pages list and count, the
filters, the exports, signing in, CSRF, triage and its survival across re-ingestion and new versions, and the
rules of `nianbao serve` about addresses.

Each test gets its own copy of a database loaded once per backend with the seeds and a generated multi-year set
(tests/web_samples.py), stored through `nianbao ingest`."""

from __future__ import annotations

import csv
import io
import pkgutil
import re
import secrets
import shutil
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx2 import Response
from openpyxl import load_workbook
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

import web.routes
from nianbao.cli import main
from nianbao.settings import Settings, get_settings
from report.identity import name_key
from storage import SaveResult, Store
from storage.tables import FindingRecord, OrganizationRecord, WebSessionRecord, utcnow
from tests.conftest import STORAGE_BACKENDS
from tests.storage_samples import judged, seed, variant
from tests.web_samples import add_reviewer, ingest, write_share
from web.app import create_app
from web.auth import exposure_problem, is_loopback
from worker.notify import messages_for

REVIEWER, PASSWORD = "审核员甲", "correct horse battery"
SECRET = secrets.token_urlsafe(32)
ROW = re.compile(r'<tr data-org="(\d+)">\s*<td><a href="/org/\d+">([^<]+)</a>')
FINDING_ROW = re.compile(r'<tr data-finding="(\d+)">')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOTAL = "requests.total[6]"  # 表三 （七）总计, column 总计


@pytest.fixture(scope="module", params=STORAGE_BACKENDS)
def template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(URL, share) of a database loaded with the share and one reviewer: copied for each test, never used."""
    folder = tmp_path_factory.mktemp(f"web-{request.param}")
    share = write_share(folder)
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'template.db'}"
    else:
        server: str = request.getfixturevalue("postgres_server")
        url = _create_database(server, f"nianbao_web_{uuid.uuid4().hex[:12]}")
    ingest(url, share)
    add_reviewer(url, REVIEWER, PASSWORD)
    if request.param == "sqlite":
        with sqlite3.connect(make_url(url).database) as connection:  # the whole database in the file, to copy it
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield url, share
    if request.param != "sqlite":
        _drop_database(url)


def _admin(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def _create_database(server: str, name: str, template: str | None = None) -> str:
    admin = create_engine(_admin(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if template:  # a template must have no other connections (the ingest's pool may still hold one)
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": template}
            )
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    admin = create_engine(_admin(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def database(template: tuple[str, Path], tmp_path: Path) -> Iterator[str]:
    """URL of this test's own copy of the loaded database."""
    url = template[0]
    if url.startswith("sqlite"):
        copy = tmp_path / "nianbao.db"
        shutil.copy(make_url(url).database or "", copy)
        yield f"sqlite:///{copy}"
        return
    copied = _create_database(url, f"nianbao_web_{uuid.uuid4().hex[:12]}", make_url(url).database)
    yield copied
    _drop_database(copied)


@pytest.fixture
def share(template: tuple[str, Path]) -> Path:
    return template[1]


@pytest.fixture
def client(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database))) as opened:
        yield opened


def organization_id(url: str, name: str, region: str) -> int:
    store = Store(url)
    with store.engine.connect() as connection:
        found = connection.execute(
            select(OrganizationRecord.id).where(
                OrganizationRecord.name_key == name_key(name), OrganizationRecord.region_key == region
            )
        ).scalar_one()
    store.dispose()
    return found


def finding_id(url: str, rule: str, name: str, region: str, year: int) -> int:
    """The finding of a rule in a body's report of a year whose last cell is in column 总计."""
    store = Store(url)
    (row,) = [
        row
        for row in store.findings(rule=rule, region=region, year=year, organization=name)
        if row.cells[-1:] == [TOTAL]
    ]
    store.dispose()
    return row.id


def listed(page: str) -> list[str]:
    return [name for _, name in ROW.findall(page)]


def body_total(page: str, body: int) -> int:
    """The overview's count of a body's findings (0 when it is not listed)."""
    row = re.search(rf'<tr data-org="{body}">.*?</tr>', page, re.S)
    found = re.findall(r'class="count" href="[^"]+">(\d+)</a>', row.group(0)) if row else []
    return int(found[-1]) if found else 0


def csrf(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, name: str = REVIEWER, password: str = PASSWORD) -> Response:
    token = csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return response


def triage(client: TestClient, finding: int, decision: str, comment: str = "") -> int:
    token = csrf(client.get("/login").text)  # the session's token, on every form
    data = {"decision": decision, "comment": comment, "csrf_token": token}
    return client.post(f"/findings/{finding}/triage", data=data, follow_redirects=False).status_code


# -- reading ------------------------------------------------------------------------------------------------


def test_overview_lists_bodies_by_region_with_their_open_findings(client: TestClient, database: str) -> None:
    page = client.get("/").text
    store = Store(database)
    open_rows = store.findings(open_only=True)
    expected = sorted({(row.region or "", name_key(row.organization)) for row in open_rows if row.organization})
    names = listed(page)
    assert len(names) == len(expected) and sorted(map(name_key, names)) == sorted(key for _, key in expected)
    assert "白鹤镇人民政府" in names and "房县" in page and "加格达奇区" in page
    # Counts per body and severity, each a link to the findings behind it.
    body = organization_id(database, "白鹤镇", "房县")
    errors = sum(
        row.severity == "error" for row in store.findings(region="房县", organization="白鹤镇", open_only=True)
    )
    row = re.search(rf'<tr data-org="{body}">.*?</tr>', page, re.S)
    assert row
    link = re.search(r'class="count sev-error" href="([^"]+)">(\d+)</a>', row.group(0))
    assert link and int(link.group(2)) == errors
    behind = client.get(link.group(1).replace("&amp;", "&")).text
    assert len(FINDING_ROW.findall(behind)) == errors
    # All bodies, also those without findings.
    everyone = listed(client.get("/?show=all").text)
    assert len(everyone) == len(store.known_identities()) > len(names)
    store.dispose()


def test_failed_files_and_reports_without_a_body_are_shown(client: TestClient) -> None:
    overview = client.get("/").text
    assert '<a class="sev-error" href="/files">2 个文件未能处理</a>' in overview
    unidentified = overview[overview.index('id="unidentified"') :]
    assert "未识别机关（1 份报告）" in unidentified and "001.txt" in unidentified
    assert "房县白鹤镇人民政府" in unidentified and "房县/白鹤镇/2023.pdf" in unidentified  # how to fix it
    files = client.get("/files").text
    assert "共 2 个文件" in files and files.count("<tr data-file>") == 2
    assert "坏文件.pdf" in files and "PDF 文件已损坏" in files
    assert "随机.docx" in files and "不是有效的 docx" in files


def test_findings_list_names_rules_by_their_titles(client: TestClient) -> None:
    page = client.get("/findings?rule=requests.total_row").text
    title = "表三每一列：（七）总计 = 21 个办理结果行之和"
    assert f'<a href="/rules/requests.total_row">{title}</a><br><code class="rule-id">requests.total_row</code>' in page
    assert re.search(r'<td class="nowrap"><a href="/findings/\d+">#\d+</a></td>\s*<td class="nowrap">房县</td>', page)


def test_filters(client: TestClient, database: str) -> None:
    store = Store(database)

    def bodies(**filters: object) -> list[str]:
        rows = store.findings(open_only=True, **filters)  # type: ignore[arg-type]
        return sorted({name_key(row.organization) for row in rows if row.organization})

    assert sorted(map(name_key, listed(client.get("/?year=2023").text))) == bodies(year=2023)
    assert sorted(map(name_key, listed(client.get("/?severity=error").text))) == bodies(severity="error")
    by_rule = listed(client.get("/?rule=requests.total_row").text)
    assert sorted(map(name_key, by_rule)) == bodies(rule="requests.total_row") and "白鹤镇人民政府" in by_rule
    assert listed(client.get("/?region=房县").text) == ["白鹤镇人民政府"]
    assert sorted(listed(client.get("/?q=白鹤&show=all").text)) == ["白鹤镇人民政府", "白鹤镇人民政府"]  # 房县, 孟津区
    assert listed(client.get("/?q=不存在的机关").text) == []
    # The findings list: filtered and counted the same way.
    page = client.get("/findings?rule=requests.total_row&year=2023&severity=error").text
    assert len(FINDING_ROW.findall(page)) == len(store.findings(rule="requests.total_row", year=2023, open_only=True))
    resolved = client.get("/findings?status=resolved").text
    assert len(FINDING_ROW.findall(resolved)) == sum(row.status == "resolved" for row in store.findings())
    store.dispose()


def test_exports_are_what_is_on_screen(client: TestClient, database: str) -> None:
    screen = listed(client.get("/?year=2023").text)
    workbook_file = client.get("/?year=2023&format=xlsx")
    assert workbook_file.status_code == 200
    assert workbook_file.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in workbook_file.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(workbook_file.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("地区", "机关", "级别")
    assert [row[1] for row in rows[1:]] == screen
    listing = client.get("/findings?severity=error&format=csv")
    assert listing.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with byte-order mark for Excel and WPS
    lines = list(csv.reader(io.StringIO(listing.content.decode("utf-8-sig"))))
    store = Store(database)
    assert lines[0][:4] == ["地区", "机关", "年度", "规则"]
    assert len(lines) - 1 == len(store.findings(severity="error", open_only=True))
    store.dispose()
    roll_up = load_workbook(io.BytesIO(client.get("/regions?format=xlsx").content)).active
    assert roll_up is not None and next(roll_up.iter_rows(values_only=True))[:2] == ("排名", "地区")


def test_organization_page_marks_the_cells_of_a_failing_total(client: TestClient, database: str) -> None:
    body = organization_id(database, "白鹤镇", "房县")
    page = client.get(f"/org/{body}?year=2023").text
    total = finding_id(database, "requests.total_row", "白鹤镇", "房县", 2023)
    cell = re.search(r'<td data-cell="requests\.total\[6\]"[^>]*>', page)
    assert cell and "hit-error" in cell.group(0)
    assert f'href="/findings/{total}"' in page
    # The grid: rules by year, and the changes since 2022.
    assert re.search(r"requests\.total_row.*?<td class=\"never\".*?<td class=\"fired\"", page, re.S)
    assert "2022 → 2023 年" in page
    side = client.get(f"/org/{body}/compare?a=2022&b=2023").text
    assert side.count('data-table="三"') == 2 and 'class="hit-error changed"' in side


def test_rule_and_region_pages(client: TestClient, database: str) -> None:
    page = client.get("/rules/requests.total_row").text
    assert "<svg" in page and page.count('class="bar"') >= 2 and "为何重要" in page
    assert "依据：国办公开办函〔2021〕30号 表三：每件办结的申请只计入一个办理结果" in page
    assert "检查内容" in page and "是否等于“（一）予以公开”至“（六）其他处理”各办理结果行" in page  # for reviewers
    chinese, developers = page.split('<details class="developer">')
    assert "What it does" not in chinese and "What it does" in developers  # the docstring, in a fold
    assert client.get("/rules/no.such.rule").status_code == 404
    regions = client.get("/regions").text
    store = Store(database)
    errors = Counter(row.region or "" for row in store.findings(severity="error", open_only=True))
    first = max(errors, key=lambda region: (errors[region], -ord(region[0]) if region else 0))
    ranked = re.findall(r'<td class="num">1</td>\s*<td><a [^>]*>([^<]+)</a>', regions)
    assert ranked and errors[ranked[0]] == errors[first]
    store.dispose()


def test_finding_page_and_source_download(client: TestClient, database: str, share: Path) -> None:
    total = finding_id(database, "requests.total_row", "白鹤镇", "房县", 2023)
    page = client.get(f"/findings/{total}").text
    for shown in ("（七）总计", "应为", "实为", "首次发现", "已发出的提醒", "审核人登录"):
        assert shown in page
    assert 'name="decision"' not in page  # no triage form for an anonymous reader
    version = re.search(r'href="/versions/(\d+)/source"', page)
    assert version
    download = client.get(f"/versions/{version.group(1)}/source")
    assert download.content == (share / "房县" / "白鹤镇" / "2023.txt").read_bytes()
    assert client.get("/findings/999999").status_code == 404
    assert "没有编号为 999999 的发现" in client.get("/findings/999999").text


# -- signing in and triage ----------------------------------------------------------------------------------


def test_anonymous_request_cannot_triage(client: TestClient, database: str) -> None:
    total = finding_id(database, "requests.total_row", "白鹤镇", "房县", 2023)
    token = csrf(client.get("/login").text)  # a session with a token of its own, but nobody signed in
    response = client.post(f"/findings/{total}/triage", data={"decision": "dismiss", "csrf_token": token})
    assert response.status_code == 403 and "请先登录" in response.text
    assert Store(database).triage_history(total) == []


def test_sign_in_csrf_and_sign_out(client: TestClient, database: str) -> None:
    token = csrf(client.get("/login").text)
    wrong = client.post("/login", data={"name": REVIEWER, "password": "wrong password", "csrf_token": token})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    forged = client.post("/login", data={"name": REVIEWER, "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 403
    sign_in(client)
    total = finding_id(database, "requests.total_row", "白鹤镇", "房县", 2023)
    no_token = client.post(f"/findings/{total}/triage", data={"decision": "confirm"})
    assert no_token.status_code == 403
    assert triage(client, total, "confirm", "核实属实") == 303
    page = client.get(f"/findings/{total}").text
    assert "已确认" in page and "核实属实" in page and REVIEWER in page
    token = csrf(page)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert triage(client, total, "dismiss") == 403
    (entry,) = Store(database).triage_history(total)
    assert (entry.decision, entry.reviewer, entry.comment) == ("confirm", REVIEWER, "核实属实")


def test_session_expires(database: str) -> None:
    # The idle time is made by ageing the server-side record, not by sleeping: a sleep just past a short window
    # failed under load, when the first request after signing in already took longer than the window.
    settings = Settings(database_url=database, web_session_seconds=600)
    with TestClient(create_app(settings)) as client:
        assert "max-age=600" in sign_in(client).headers["set-cookie"].lower()
        assert REVIEWER in client.get("/").text
        with Store(database).engine.begin() as connection:
            idle = utcnow() - timedelta(seconds=601)
            connection.execute(WebSessionRecord.__table__.update().values(last_seen_at=idle))  # type: ignore[attr-defined]
        page = client.get("/").text
        assert REVIEWER not in page and "审核人登录" in page
        with Store(database).engine.connect() as connection:
            assert connection.execute(select(WebSessionRecord.id)).all() == []  # type: ignore[call-overload]


def test_dismissal_survives_reingestion_and_new_versions(
    client: TestClient, database: str, share: Path, tmp_path: Path
) -> None:
    body = organization_id(database, "白鹤镇", "房县")
    total = finding_id(database, "requests.total_row", "白鹤镇", "房县", 2023)
    before = body_total(client.get("/?rule=requests.total_row").text, body)
    sign_in(client)
    assert triage(client, total, "dismiss", "解析错误，原表数字正确") == 303
    assert "已驳回" in client.get(f"/findings/{total}").text
    assert body_total(client.get("/?rule=requests.total_row").text, body) == before - 1
    assert str(total) in client.get("/findings?status=dismissed").text
    # The same files again: nothing changes.
    assert "新入库 0 份" in ingest(database, share)
    assert "已驳回" in client.get(f"/findings/{total}").text
    # A new version of the report with the same mistake: the finding is carried forward, still dismissed.
    folder = tmp_path / "房县" / "白鹤镇"
    folder.mkdir(parents=True)
    text_2023 = (share / "房县" / "白鹤镇" / "2023.txt").read_text(encoding="utf-8")
    (folder / "2023.txt").write_text(text_2023 + "\n（更正版）\n", encoding="utf-8")
    assert "其中更正版本 1 份" in ingest(database, tmp_path)
    page = client.get(f"/findings/{total}").text
    assert "已驳回" in page and "解析错误，原表数字正确" in page
    row = re.search(rf'<tr data-finding="{total}">.*?</tr>', client.get(f"/org/{body}?year=2023").text, re.S)
    assert row and "status-dismissed" in row.group(0)
    # The notifier leaves it out of alerts: a worker storing that version again finds it dismissed.
    store = Store(database)
    (version,) = [v for v in store.versions("白鹤镇", "房县") if v.year == 2023 and v.superseded_by is None]
    report = store.report(version.id)
    assert report is not None
    with store.engine.connect() as connection:  # as if the dismissed finding were new in this version
        connection.execute(
            FindingRecord.__table__.update().where(FindingRecord.id == total).values(first_version_id=version.id)  # type: ignore[attr-defined]
        )
        connection.commit()
    messages = messages_for(report, SaveResult(version.id, created=False), store, Settings())
    alerted = "\n".join(message.body for message in messages)
    assert "（七）总计/总计" not in alerted
    store.dispose()


def test_a_dismissal_ends_when_the_finding_changes(database: str) -> None:
    store = Store(database)
    reviewer = store.reviewer(REVIEWER)
    assert reviewer is not None
    base = judged(variant(seed("002"), "own-2023", name="测试镇人民政府", region="测试县"))
    store.save(base)
    (row,) = [r for r in store.findings(rule="requests.total_row", organization="测试镇") if r.cells[-1:] == [TOTAL]]
    store.triage(row.id, "dismiss", "误报", reviewer.id)
    assert [f.message for f in store.undismissed(base, base.findings)].count(row.message) == 0
    changed = variant(base, "own-2023-b", name="测试镇人民政府", region="测试县")
    assert changed.tables.requests is not None
    changed.tables.requests["total"][6] = 9  # same cell, other numbers: another message
    changed = judged(changed)
    store.save(changed)
    (again,) = [r for r in store.findings(rule="requests.total_row", organization="测试镇") if r.cells[-1:] == [TOTAL]]
    assert again.id == row.id and again.message != row.message
    kept = store.undismissed(changed, changed.findings)
    assert again.message in [finding.message for finding in kept]
    with TestClient(create_app(Settings(database_url=database))) as client:
        assert "待审核" in client.get(f"/findings/{row.id}").text
        assert "需要重新审核" in client.get(f"/findings/{row.id}").text
    store.dispose()


# -- accounts and addresses ---------------------------------------------------------------------------------


def test_reading_needs_signing_in_off_loopback(database: str) -> None:
    with TestClient(create_app(Settings(database_url=database), anonymous_read=False)) as client:
        response = client.get("/regions?year=2023", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
        sign_in(client)
        assert client.get("/regions").status_code == 200


def route_paths(method: str) -> list[str]:
    """The paths of every route that a page module of web/routes/ declares for `method`, with 1 for each id."""
    declared = [
        import_module(f"web.routes.{module.name}").router for module in pkgutil.iter_modules(web.routes.__path__)
    ]
    return sorted(
        re.sub(r"\{\w+\}", "1", route.path)
        for router in declared
        for route in router.routes
        if isinstance(route, APIRoute) and method in route.methods
    )


def test_every_page_but_signing_in_needs_a_reviewer_off_loopback_and_every_form_checks_csrf(database: str) -> None:
    """Read from the page modules themselves, so that one added later is held to the same rules (and served)."""
    pages, forms = route_paths("GET"), route_paths("POST")
    assert "/login" in pages and "/findings/1" in pages and "/logout" in forms
    with TestClient(create_app(Settings(database_url=database), anonymous_read=False)) as client:
        for path in pages:
            response = client.get(path, follow_redirects=False)
            if path == "/login":
                assert response.status_code == 200, path
            else:
                assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
        sign_in(client)
        for path in forms:
            response = client.post(path, data={"csrf_token": "forged"}, follow_redirects=False)
            assert response.status_code == 403 and "表单已过期" in response.text, path
        assert REVIEWER in client.get("/").text  # a refused form changed nothing: still signed in


def test_user_add(database: str) -> None:
    def add(*args: str, stdin: str | None = None) -> str:
        result = CliRunner().invoke(main, ["user", "add", *args, "--db", database], input=stdin)
        return result.output

    assert "已存在" in add(REVIEWER, "--password-stdin", stdin="another password\n")
    assert "至少需要 8 个字符" in add("审核员乙", "--password-stdin", stdin="short\n")
    assert "已创建审核人账号“审核员乙”" in add("审核员乙", stdin="a long password\na long password\n")
    stored = Store(database).reviewer("审核员乙")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert "a long password" not in stored.password_hash


def test_user_passwd_ends_the_sessions_of_the_old_password(client: TestClient, database: str) -> None:
    def passwd(name: str, stdin: str) -> str:
        return (
            CliRunner().invoke(main, ["user", "passwd", name, "--password-stdin", "--db", database], input=stdin).output
        )

    finding = finding_id(database, "requests.total_row", "白鹤镇", "房县", 2023)
    sign_in(client)
    assert triage(client, finding, "confirm") == 303
    assert "不存在" in passwd("无此人", "a long password\n")
    assert "至少需要 8 个字符" in passwd(REVIEWER, "short\n")
    assert triage(client, finding, "confirm") == 303  # a refused change changes nothing
    assert "已更改审核人“审核员甲”的密码" in passwd(REVIEWER, "a new long password\n")
    assert triage(client, finding, "dismiss") == 403  # the session of the old password has ended
    assert "审核人登录" in client.get("/").text  # shown to anyone not signed in
    denied = client.post(
        "/login", data={"name": REVIEWER, "password": PASSWORD, "csrf_token": csrf(client.get("/login").text)}
    )
    assert denied.status_code == 401
    sign_in(client, password="a new long password")
    assert triage(client, finding, "dismiss") == 303


def test_serve_refuses_other_addresses_without_a_secret_and_a_reviewer(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    store = Store(database)
    assert exposure_problem("127.0.0.1", Settings(database_url=database), store) is None
    problem = exposure_problem("0.0.0.0", Settings(database_url=database), store)
    assert problem and "NIANBAO_SECRET_KEY" in problem
    assert exposure_problem("0.0.0.0", Settings(database_url=database, secret_key=SECRET), store) is None
    store.dispose()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    Store.open(empty).dispose()
    no_reviewer = exposure_problem("0.0.0.0", Settings(database_url=empty, secret_key=SECRET), Store(empty))
    assert no_reviewer and "nianbao user add" in no_reviewer
    # The command itself refuses before listening.
    monkeypatch.delenv("NIANBAO_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    refused = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--db", database])
    assert refused.exit_code == 1 and "NIANBAO_SECRET_KEY" in refused.output
    monkeypatch.setenv("NIANBAO_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    refused = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--db", empty])
    get_settings.cache_clear()
    assert refused.exit_code == 1 and "nianbao user add" in refused.output


# -- hardening ----------------------------------------------------------------------------------------------


def test_signing_out_ends_the_session_server_side(client: TestClient, database: str) -> None:
    finding = finding_id(database, "requests.total_row", "白鹤镇", "房县", 2023)
    sign_in(client)
    copied = dict(client.cookies)  # what an onlooker copied before the reviewer signed out
    assert client.post("/logout", data={"csrf_token": csrf(client.get("/").text)}).status_code == 200
    with TestClient(client.app) as other:
        other.cookies.update(copied)
        assert REVIEWER not in other.get("/").text and triage(other, finding, "dismiss") == 403


def test_password_change_ends_every_session_server_side(client: TestClient, database: str) -> None:
    sign_in(client)
    store = Store(database)
    reviewer = store.reviewer(REVIEWER)
    assert reviewer is not None
    store.set_password(REVIEWER, reviewer.password_hash)  # the same password again: the sessions end all the same
    assert REVIEWER not in client.get("/").text
    store.dispose()


def test_sign_in_is_rate_limited_per_account_and_per_address(client: TestClient) -> None:
    def attempt(name: str, password: str) -> int:
        token = csrf(client.get("/login").text)
        return client.post("/login", data={"name": name, "password": password, "csrf_token": token}).status_code

    assert [attempt(REVIEWER, f"wrong {n}") for n in range(5)] == [401] * 5
    refused = client.post(
        "/login", data={"name": REVIEWER, "password": PASSWORD, "csrf_token": csrf(client.get("/login").text)}
    )
    assert refused.status_code == 429 and "登录失败次数过多" in refused.text and "分钟后再试" in refused.text
    # Other names from the same address: 15 more failures, then the address is refused whatever the name.
    assert [attempt(f"猜测{n}", "wrong") for n in range(15)] == [401] * 15
    assert attempt("另一个人", "wrong") == 429


def test_secure_cookie_and_a_random_secret_beyond_loopback(database: str) -> None:
    settings = Settings(database_url=database, secret_key=SECRET)
    for secure in (True, False):
        app = create_app(settings, anonymous_read=not secure, secure_cookie=secure)
        with TestClient(app, base_url="https://testserver") as client:
            cookie = client.get("/login").headers["set-cookie"].lower()
            assert ("; secure" in cookie) is secure
    store = Store(database)
    for weak in (" ", " " * 40, "k" * 40, "short-but-random"):
        problem = exposure_problem("0.0.0.0", Settings(database_url=database, secret_key=weak), store)
        assert problem and "至少 32 字节的随机密钥" in problem, weak
    assert exposure_problem("0.0.0.0", Settings(database_url=database, secret_key=SECRET), store) is None
    store.dispose()


def test_huge_ids_and_filters_are_not_found_and_head_works(client: TestClient) -> None:
    huge = "9" * 30
    for url in (
        f"/org/{huge}",
        f"/findings/{huge}",
        f"/versions/{huge}/source",
        f"/findings?year={huge}",
        f"/?org={huge}",
        f"/regions?year={2**63}",
        f"/org/{huge}/compare",
        f"/org/1?year={huge}&page={huge}",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404) and "Internal" not in response.text, url
    assert client.get(f"/findings/{2**63}").status_code == 404
    head = client.head("/")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
    assert client.head("/no/such/page").status_code == 404
