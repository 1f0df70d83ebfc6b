"""The prose index: each current version's LSH bands of its narrative parts, and the other bodies' reports of
the same year that share bands with a report (candidates for narrative.copied_from_peer). Bands common to more
than `COMMON_BAND_VERSIONS` versions of a year are boilerplate and find no peers.

Both sides work a batch at a time: `index_prose` writes the bands of all the versions a batch stored in one
statement, and `peer_reports_of` finds the peers of all the reports a batch judges in one ranking query (the
reports' bands sent along as one JSON parameter), one look-up of their bodies and one read of the peers' versions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
)
from sqlmodel import Session, col

from report.identity import identity
from report.model import Report
from rules.similarity import PEER_PARTS, report_bands
from storage.engine import StoreBase, insert_rows
from storage.rows import report_from
from storage.tables import OrganizationRecord, ProseBandRecord, ReportRecord, VersionRecord

BANDS: Table = ProseBandRecord.__table__  # type: ignore[attr-defined]
VERSIONS: Table = VersionRecord.__table__  # type: ignore[attr-defined]
REPORTS: Table = ReportRecord.__table__  # type: ignore[attr-defined]
ORGANIZATIONS: Table = OrganizationRecord.__table__  # type: ignore[attr-defined]
ASKED_PER_QUERY = 100  # reports whose peers one query ranks: keeps its bound parameters within any database's limit
# A band found in more than this many indexed versions of a year is boilerplate (a template many bodies share), not
# a sign that one body copied another: it is not used to find peers. Without the cap a report whose prose follows
# a template all bodies use would rank every other report of its year, a look-up that grows with the year.
COMMON_BAND_VERSIONS = 50


class PeerStore(StoreBase):
    """Other bodies' reports whose prose shares LSH bands with a report."""

    def peer_reports(self, report: Report, limit: int = 20, *, whole: bool = True) -> list[Report]:
        """Other bodies' current versions of the same year whose prose shares an LSH band with the report's
        (candidates for narrative.copied_from_peer), most shared bands first. With `whole=False` each holds only
        its source, body, year and prose parts (`PEER_PARTS`), all that the built-in rule reads
        (`rules.engine.whole_peers`): reading back whole reports was most of the look-up's time."""
        return self.peer_reports_of([report], limit, whole=whole)[0]

    def peer_reports_of(self, reports: Sequence[Report], limit: int = 20, *, whole: bool = True) -> list[list[Report]]:
        """`peer_reports` of each report, in the order given, with a few statements for all of them (a batch)."""
        asked: list[tuple[int, Report, list[int]]] = []
        for index, report in enumerate(reports):
            bands = sorted({band for _, band in report_bands(report)})
            if report.year is not None and bands:
                asked.append((index, report, bands))
        found: list[list[Report]] = [[] for _ in reports]
        if not asked:
            return found
        with self._session() as session:
            connection = session.connection()
            own = _organization_ids(session, [report for _, report, _ in asked])
            ranked: list[tuple[int, int]] = []  # (index of the report, peer's version id), best first
            for start in range(0, len(asked), ASKED_PER_QUERY):
                chunk = asked[start : start + ASKED_PER_QUERY]
                asked_bands = [
                    [
                        index,
                        report.year,
                        own.get(key) if (key := identity(report)) else None,
                        report.source.sha256,
                        band,
                    ]
                    for index, report, bands in chunk
                    for band in bands
                ]
                statement = _ranking(connection.dialect.name, limit, COMMON_BAND_VERSIONS)
                ranked += [
                    (asked_index, version_id)
                    for asked_index, version_id in connection.execute(
                        statement, {"asked_bands": json.dumps(asked_bands)}
                    )
                ]
            ids = sorted({version_id for _, version_id in ranked})
            peers: dict[int, Report] = {}
            for start in range(0, len(ids), 500):
                chunk_ids = ids[start : start + 500]
                if whole:
                    query = select(VersionRecord).where(col(VersionRecord.id).in_(chunk_ids))
                    peers |= {version.id: report_from(version) for version in session.scalars(query)}  # type: ignore[misc]
                else:
                    peers |= {
                        version_id: _prose_of(*read)
                        for version_id, *read in connection.execute(_prose_query(chunk_ids))
                    }
        for index, version_id in ranked:
            if version_id in peers:
                found[index].append(peers[version_id])
        return found


def _prose_query(ids: Sequence[int]) -> Any:
    """Of each version, the parts of the stored JSON a peer's prose is, as text: its source and body (JSON), its
    year and its parts' text."""
    contract, evidence = VERSIONS.c.contract, VERSIONS.c.evidence
    return select(
        VERSIONS.c.id,
        contract["source"].as_string(),
        contract["organization"].as_string(),
        contract["year"].as_integer(),
        *(evidence[("section_text", part)].as_string() for part in PEER_PARTS),
    ).where(VERSIONS.c.id.in_(ids))


# Remembered by what was read (a version read again with another region is decoded anew): the same stored
# versions are the peers of report after report. A few kB an entry.
@lru_cache(maxsize=2048)
def _prose_of(source: str, organization: str, year: int | None, *parts: str | None) -> Report:
    """The report of a `_prose_query` row, with nothing but what the query read. Shared between look-ups: not to be
    modified."""
    section_text = {part: text for part, text in zip(PEER_PARTS, parts, strict=True) if text is not None}
    return Report.model_validate(
        {
            "source": json.loads(source),
            "organization": json.loads(organization),
            "year": year,
            "evidence": {"section_text": section_text},
        }
    )


def _organization_ids(session: Session, reports: Sequence[Report]) -> dict[tuple[str, str | None], int]:
    """The stored body of each report's identity, by identity (those stored)."""
    keys = {key for report in reports if (key := identity(report))}
    names = sorted({name for name, _ in keys})
    found: dict[tuple[str, str | None], int] = {}
    for start in range(0, len(names), 500):
        query = select(ORGANIZATIONS.c.name_key, ORGANIZATIONS.c.region_key, ORGANIZATIONS.c.id).where(
            ORGANIZATIONS.c.name_key.in_(names[start : start + 500])
        )
        for name, region, organization_id in session.connection().execute(query):
            if (name, region or None) in keys:
                found[(name, region or None)] = organization_id
    return found


# Built once (a few ms of SQLAlchemy's time for each batch otherwise); the asked bands are its parameter.
@lru_cache(maxsize=16)
def _ranking(dialect: str, limit: int, common_band_versions: int) -> Any:
    """(index of the report, version id) of the `limit` current versions of another body and content that share
    the most bands of the same year with each asked report, most shared first (then oldest version first). The
    parameter `asked_bands`: [index of the report, year, its stored body's id or None, sha256, band key] each."""
    # The asked bands travel as one JSON parameter, not as a VALUES list: a VALUES list of thousands of bound rows
    # was compiled anew for every batch (half of this method's time), this statement compiles once.
    # One row per asked band, carrying its report's year, body and content, so the only table the database starts
    # from is this one and each row finds its postings through the (year, band_key) index: with the reports in a
    # table of their own, SQLite started from them and read every band of the year for each (quadratic in a year).
    wanted = _json_rows(
        dialect,
        "asked_bands",
        {"asked": Integer, "year": Integer, "organization_id": Integer, "sha256": String, "band_key": BigInteger},
    )
    postings = BANDS.alias("postings")
    common = (
        select(postings.c.id)
        .where(postings.c.year == wanted.c.year, postings.c.band_key == wanted.c.band_key)
        .limit(1)
        .offset(common_band_versions)  # the (cap + 1)-th posting: looked for in at most cap + 1 index steps
        .exists()
    )
    shared = func.count(BANDS.c.id)
    counted = (
        select(wanted.c.asked, BANDS.c.version_id, shared.label("shared"))
        .select_from(wanted)
        .join(BANDS, and_(BANDS.c.year == wanted.c.year, BANDS.c.band_key == wanted.c.band_key))
        .join(VERSIONS, VERSIONS.c.id == BANDS.c.version_id)
        .join(REPORTS, REPORTS.c.id == VERSIONS.c.report_id)
        .where(
            ~common,
            VERSIONS.c.superseded_by.is_(None),
            VERSIONS.c.sha256 != wanted.c.sha256,
            # As `!=` in SQL has it: a report of a stored body has no peers among reports of no body.
            or_(wanted.c.organization_id.is_(None), REPORTS.c.organization_id != wanted.c.organization_id),
        )
        .group_by(wanted.c.asked, BANDS.c.version_id)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(partition_by=counted.c.asked, order_by=(counted.c.shared.desc(), counted.c.version_id))
        .label("rank")
    )
    ranked = select(counted.c.asked, counted.c.version_id, counted.c.shared, rank).subquery()
    return (
        select(ranked.c.asked, ranked.c.version_id)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.asked, ranked.c.rank)
    )


_SQL_TYPES = {Integer: "integer", BigInteger: "bigint", String: "text"}


def _json_rows(dialect: str, name: str, columns: dict[str, type[Integer | String]]) -> Any:
    """A CTE `name` of rows (lists in the order of `columns`) sent as one JSON parameter, `name`, and unpacked by
    the database (json_each on SQLite, jsonb_array_elements on PostgreSQL)."""
    if dialect == "postgresql":
        selected = ", ".join(
            f"(value->>{i})::{_SQL_TYPES[kind]} AS {label}" for i, (label, kind) in enumerate(columns.items())
        )
        source = f"jsonb_array_elements(CAST(:{name} AS jsonb))"
    else:
        selected = ", ".join(f"json_extract(value, '$[{i}]') AS {label}" for i, label in enumerate(columns))
        source = f"json_each(:{name})"
    statement = text(f"SELECT {selected} FROM {source}").bindparams(bindparam(name, type_=String))
    # MATERIALIZED: unpacked once, and the planner starts from these rows rather than from the band index.
    return statement.columns(**{label: kind() for label, kind in columns.items()}).cte(name).prefix_with("MATERIALIZED")


def index_prose(connection: Connection, versions: Sequence[tuple[int, Report]]) -> None:
    """Index the prose of new versions, (version id, report) each, for later peers' look-ups, in one statement."""
    rows = [
        {"version_id": version_id, "year": report.year, "part": part, "band_key": key}
        for version_id, report in versions
        # A report of no known body and year is nobody's peer.
        if report.year is not None and identity(report) is not None
        for part, key in report_bands(report)
    ]
    if rows:
        insert_rows(connection, BANDS, rows)
