"""Stored bodies looked up by name: by identity (name key and region), or by a name a user typed."""

from __future__ import annotations

from sqlmodel import Session, select

from report.identity import name_key
from storage.errors import AmbiguousOrganization
from storage.tables import OrganizationRecord


def stored_organization(session: Session, name: str, region: str | None) -> OrganizationRecord | None:
    """The body of this identity (name, region), if stored."""
    return session.exec(
        select(OrganizationRecord).where(
            OrganizationRecord.name_key == name_key(name), OrganizationRecord.region_key == (region or "")
        )
    ).first()


def named_organization(session: Session, name: str, region: str | None) -> OrganizationRecord | None:
    """The body named `name` in `region` ('' = stored without region); with region None, the only body of
    that name, whatever its region."""
    query = select(OrganizationRecord).where(OrganizationRecord.name_key == name_key(name))
    if region is not None:
        query = query.where(OrganizationRecord.region_key == region)
    candidates = session.exec(query.order_by(OrganizationRecord.region_key)).all()
    if len(candidates) > 1:
        raise AmbiguousOrganization(name, [candidate.region for candidate in candidates])
    return candidates[0] if candidates else None
