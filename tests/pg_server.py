"""A throwaway PostgreSQL server on 127.0.0.1 for the storage tests and the storage benchmark.

Runs the installed server binaries (`/usr/lib/postgresql/*/bin`) in a temporary directory: as the `postgres`
system user when run as root (initdb refuses root), trust authentication, a free port, the socket in the
temporary directory. Nothing here is a test.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_binaries() -> Path | None:
    """The bin directory of the newest installed PostgreSQL, or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0)
    return Path(newest).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_postgres(*, durable: bool = False) -> Iterator[str]:
    """Start a server, yield the URL of its `postgres` database, stop and delete it afterwards.

    `durable=False` (tests) turns fsync off; the benchmark keeps the server's defaults."""
    binaries = server_binaries()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="nianbao-pg-"))
    if as_postgres:
        shutil.chown(base, "postgres", "postgres")
    base.chmod(0o700)
    data = base / "data"
    port = _free_port()
    options = [f"-c port={port}", "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={base}"]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    pg_ctl = [*as_postgres, str(binaries / "pg_ctl"), "-D", str(data)]
    try:
        try:
            subprocess.run(
                [
                    *as_postgres,
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            subprocess.run(
                [*pg_ctl, "-l", str(base / "server.log"), "-o", " ".join(options), "-w", "-t", "60", "start"],
                check=True,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as error:
            log = base / "server.log"
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{detail}") from error
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)
