"""Which organization a report belongs to, and which other reports are its earlier years.

Two bodies are the same organization only when name and region both agree. A report whose identity is
ambiguous — no name, or a name without region that other regions' bodies also bear — is compared with
nothing, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from report.metadata import organization_from_name, zone_of
from report.model import Report

_GOVERNMENT = "人民政府"


def name_key(name: str) -> str:
    """白鹤镇人民政府 and 白鹤镇 name the same body; so do 平潭综合实验区管委会 and 平潭综合实验区."""
    if name.endswith(_GOVERNMENT) and len(name) > len(_GOVERNMENT):
        return name[: -len(_GOVERNMENT)]
    return zone_of(name) or name


def identity(report: Report) -> tuple[str, str | None] | None:
    """(name key, region) of the report's organization, or None when it does not name itself."""
    if not report.organization.name:
        return None
    return name_key(report.organization.name), report.organization.region


def region_from_folder(path: Path, own_name: str | None, root: Path | None = None) -> str | None:
    """The region a folder names: `<share>/房县/白鹤镇/2023.pdf` -> 房县 (the innermost county-level folder)."""
    parents = path.parent.relative_to(root).parts if root and path.is_relative_to(root) else path.parent.parts[-3:]
    own = name_key(own_name) if own_name else None
    for folder in reversed(parents):
        organization = organization_from_name(folder)
        if organization.level in ("county", "city", "province") and name_key(organization.name or "") != own:
            return folder
    return None


def apply_folder_region(report: Report, root: Path | None = None) -> None:
    """Fill a missing region from the folder the file came from."""
    if report.organization.region is None and report.organization.name:
        region = region_from_folder(Path(report.source.path), report.organization.name, root)
        if region:
            report.organization.region = region
            report.evidence.folder_region = region


def ambiguity(report: Report, known: Iterable[tuple[str, str | None]]) -> str | None:
    """Why this report cannot be matched with earlier years, or None when it can (or when it is no report)."""
    if report.evidence.rejected:
        return None  # its rejection is the one thing to say about it
    key = identity(report)
    if key is None:
        return "报告没有写明机关名称，无法与往年报告比较"
    name, region = key
    if region is None and any(other_name == name and other_region for other_name, other_region in known):
        return f"报告没有写明“{report.organization.name}”所属的县（区），与其他地区的同名机关无法区分，未与往年报告比较"
    return None


def earlier_reports(report: Report, candidates: Iterable[Report]) -> list[Report]:
    """The same organization's reports of earlier years, newest first (one per year: the last given wins),
    preceded by an earlier version of the same year when one with other content is given (a revision)."""
    key = identity(report)
    if key is None or report.year is None:
        return []
    by_year: dict[int, Report] = {}
    for other in candidates:
        if other is report or other.year is None or other.year > report.year or identity(other) != key:
            continue
        if other.year < report.year or other.source.sha256 != report.source.sha256:
            by_year[other.year] = other
    return [by_year[year] for year in sorted(by_year, reverse=True)]
