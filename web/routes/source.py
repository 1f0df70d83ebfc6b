"""A stored version's original file (`/versions/{id}/source`), served from the evidence kept when it was stored —
the bytes its findings were made on — never from the share."""

from __future__ import annotations

from pathlib import PurePath

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

from storage import read_model
from web.deps import DbDep, Id, SiteDep

router = APIRouter()


@router.get("/versions/{version_id}/source")
def source(site: SiteDep, db: DbDep, version_id: Id) -> Response:
    found = read_model.version_source(db, version_id)
    if found is None:
        raise HTTPException(404, f"没有编号为 {version_id} 的版本")
    source_path, sha256 = found
    kept = site.evidence.verified(sha256)
    if kept is None:
        raise HTTPException(404, f"版本 {version_id} 的原始文件没有保留（入库早于存档、文件过大或已超过保留期限）")
    return FileResponse(kept, filename=PurePath(source_path).name)
