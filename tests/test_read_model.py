"""One meaning of a finding's status: after a reviewer dismisses a finding and a corrected version resolves another,
the command line's list, its csv and xlsx exports and the web's pages and downloads agree on every count."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from nianbao.cli import main
from nianbao.display import GRID_STATES
from nianbao.settings import Settings
from nianbao.spreadsheet import FINDING_COLUMNS
from storage import Store, read_model
from tests.generator import LAYOUTS, make_organization, make_series, plant_series
from web.app import create_app

STATUS_COLUMN = FINDING_COLUMNS.index("状态")


def nianbao(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def write_body(share: Path, seed: int, kind: str | None) -> Path:
    """Two years of a generated township, the later one with `kind` planted; the later year's file."""
    rng = random.Random(seed)
    organization = make_organization(rng, "township")
    series = make_series(rng, (2022, 2023), organization=organization)
    if kind is not None:
        series, _ = plant_series(series, kind, random.Random(seed + 1))
    folder = share / (organization.region or "无地区") / organization.name
    folder.mkdir(parents=True, exist_ok=True)
    for truth in series:
        text = LAYOUTS["spaces"](truth, random.Random(seed + truth.year))
        (folder / f"{truth.year}.txt").write_text(str(text), encoding="utf-8")
    return folder / "2023.txt"


def test_cli_exports_and_web_agree_after_a_dismissal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nianbao.db'}"
    share = tmp_path / "share"
    flawed = write_body(share, 41, "requests.total_row")
    write_body(share, 51, "requests.balance")
    clean = write_body(tmp_path / "clean", 41, None)  # the same body and years without the planted defect
    nianbao("ingest", str(share), "--db", url)
    nianbao("user", "add", "审核员甲", "--password-stdin", "--db", url, input="correct horse battery\n")

    store = Store(url)
    balance = next(row for row in store.findings(rule="requests.balance") if row.status == "pending")
    reviewer = store.reviewer("审核员甲")
    assert reviewer is not None
    store.triage(balance.id, "dismiss", "误报", reviewer.id)
    flawed.write_bytes(clean.read_bytes())  # a corrected version: the planted total row is resolved
    nianbao("ingest", str(flawed), "--db", url)

    rows = store.findings()
    statuses = Counter(row.status for row in rows)
    assert statuses["dismissed"] >= 1 and statuses["resolved"] >= 1 and statuses["pending"] >= 1
    open_ids = {row.id for row in store.findings(open_only=True)}
    assert balance.id not in open_ids
    assert open_ids == {row.id for row in rows if row.status in ("pending", "confirmed")}

    # The command line: its list and its summary line.
    listed = nianbao("findings", "--open", "--db", url).splitlines()
    assert listed[-2].startswith(f"共 {len(open_ids)} 项发现（未整改 {len(open_ids)} 项，已驳回 0 项，已整改 0 项）")
    summary = nianbao("findings", "--db", url).splitlines()[-2]
    assert summary == (
        f"共 {len(rows)} 项发现（未整改 {statuses['pending'] + statuses['confirmed']} 项，"
        f"已驳回 {statuses['dismissed']} 项，已整改 {statuses['resolved']} 项）"
    )

    # The command line's exports.
    workbook = tmp_path / "all.xlsx"
    nianbao("export", "--format", "xlsx", "-o", str(workbook), "--db", url)
    sheet = load_workbook(workbook).active
    assert sheet is not None
    exported = list(sheet.iter_rows(values_only=True))
    assert exported[0] == FINDING_COLUMNS
    cli_by_status = Counter(row[STATUS_COLUMN] for row in exported[1:])
    open_csv = list(csv.reader(io.StringIO(nianbao("export", "--format", "csv", "--open", "--db", url))))
    assert len(open_csv) - 1 == len(open_ids)

    # The web: the same columns and the same count for every status.
    with TestClient(create_app(Settings(database_url=url))) as client:
        web_by_status: Counter[str] = Counter()
        for status in ("pending", "confirmed", "dismissed", "resolved"):
            download = client.get(f"/findings?status={status}&format=xlsx")
            web_sheet = load_workbook(io.BytesIO(download.content)).active
            assert web_sheet is not None
            web_rows = list(web_sheet.iter_rows(values_only=True))
            assert web_rows[0] == FINDING_COLUMNS
            web_by_status += Counter(row[STATUS_COLUMN] for row in web_rows[1:])
        open_download = client.get("/findings?status=open&format=csv").content.decode("utf-8-sig")
        assert len(list(csv.reader(io.StringIO(open_download)))) - 1 == len(open_ids)
    assert web_by_status == cli_by_status
    # The rule page's reports count the rule's open findings: the dismissed one is not among them.
    with store.engine.connect() as connection:
        hits = read_model.rule_reports(connection, "requests.balance", limit=50)
    assert sum(hit.findings for hit in hits) == len(store.findings(rule="requests.balance", open_only=True))
    assert cli_by_status["已驳回"] == statuses["dismissed"] and cli_by_status["已整改"] == statuses["resolved"]

    # The body's history: once a reviewer has dismissed every finding of a rule in a year, that year is ○ on the
    # command line and on the web, with one legend.
    for row in store.findings(rule=balance.rule, year=balance.year, organization=balance.organization or ""):
        if row.region == balance.region and row.status == "pending":
            store.triage(row.id, "dismiss", "误报", reviewer.id)
    legend = [f"{symbol} {name}" for symbol, name in GRID_STATES.values()]
    history = nianbao("history", balance.organization or "", "--region", balance.region or "", "--db", url)
    (row,) = [line.split() for line in history.splitlines() if line.startswith("requests.balance")]
    years = history.splitlines()[1].split()[1:]
    assert row[1 + years.index(str(balance.year))] == GRID_STATES["dismissed"][0]
    assert "   ".join(legend) in history
    with TestClient(create_app(Settings(database_url=url))) as client:
        page = client.get(f"/org/{balance.organization_id}").text
    assert all(f"<span>{shown}</span>" in page for shown in legend)
    assert f'title="{balance.year} 年度：{GRID_STATES["dismissed"][1]}"' in page
    store.dispose()
