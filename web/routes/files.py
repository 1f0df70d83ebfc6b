"""The files the pipeline could not process (未能处理的文件, `/files`), newest first, with their reasons."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from storage import read_model
from web.deps import PAGE_SIZE, DbDep, paginate, render

router = APIRouter()


@router.get("/files", response_class=HTMLResponse)
def failed_files(request: Request, db: DbDep, page: int = 1) -> Response:
    paging = paginate(page, read_model.failed_file_count(db))
    return render(
        request,
        "files.html",
        files=read_model.failed_files(db, limit=PAGE_SIZE, offset=paging.offset),
        pages=paging,
        params={},
    )
