"""Shared pytest fixtures. Each helper's fixtures live in their own marked block."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from storage import Store
from tests.pg_server import running_postgres, server_binaries

# ---- storage: database backends (a SQLite file; a real PostgreSQL on 127.0.0.1) ---------------------------

STORAGE_BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of the maintenance database of a PostgreSQL server started for this test session.

    Without an installed server the PostgreSQL tests are skipped, or fail when NIANBAO_REQUIRE_SERVICES=1 (CI)."""
    if server_binaries() is None:
        reason = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)"
        if os.environ.get("NIANBAO_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with running_postgres() as url:
        yield url


@pytest.fixture(params=STORAGE_BACKENDS)
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nianbao.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"nianbao_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def store(storage_url: str) -> Iterator[Store]:
    """A store on an empty database upgraded to the latest schema."""
    opened = Store.open(storage_url)
    yield opened
    opened.dispose()


# ---- end of storage fixtures ------------------------------------------------------------------------------


# ---- pipeline: a real Redis server and a local HTTP receiver of notifications ---------------------------

from tests.services import Receiver, RedisServer, receiving, redis_binary, running_redis  # noqa: E402


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis server started for this test (no persistence, 127.0.0.1, a free port).

    Without redis-server the test is skipped, or fails when NIANBAO_REQUIRE_SERVICES=1 (CI)."""
    if redis_binary() is None:
        if os.environ.get("NIANBAO_REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP endpoint on 127.0.0.1 that records the notifications POSTed to it (Apprise `receiver.url`)."""
    with receiving() as running:
        yield running


# ---- end of pipeline fixtures -----------------------------------------------------------------------------


# ---- hardening: nothing a test runs writes into the working directory ------------------------------------


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """NIANBAO_DATA_DIR for the whole session (the evidence `ingest` keeps, read back by the web tests), unless the
    environment names one; a test that needs its own sets its own."""
    from nianbao.settings import get_settings

    folder = tmp_path_factory.mktemp("nianbao-data")
    previous = os.environ.setdefault("NIANBAO_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield Path(previous)
    get_settings.cache_clear()


# ---- end of hardening fixtures ----------------------------------------------------------------------------
