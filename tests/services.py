"""A throwaway Redis server and a local HTTP receiver of notifications, for the pipeline tests and benchmark.

Nothing here is a test. `running_redis()` starts `redis-server` on a free 127.0.0.1 port without persistence;
`receiving()` serves an HTTP endpoint that records every JSON body POSTed to it (Apprise `json://`), answering
with a status and body the test can change (500 = a notifier that is down; 200 with an `errcode` = a chat bot
that rejects the message).
"""

from __future__ import annotations

import json
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_binary() -> str | None:
    return shutil.which("redis-server")


class RedisServer:
    """`redis-server` on a free 127.0.0.1 port, without persistence: `kill()` loses every message it held, and
    `start()` after it brings up an empty server at the same URL (a Redis restarted by its supervisor)."""

    def __init__(self, binary: str, directory: str) -> None:
        self.binary, self.directory = binary, directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*argv, "--dir", self.directory], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_for(lambda: _answers(self.port), 10, "redis-server to accept connections")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """Start a Redis server, yield it (its `url` is database 0), stop it afterwards."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    with tempfile.TemporaryDirectory(prefix="nianbao-redis-") as directory:
        server = RedisServer(binary, directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll until `condition()` is truthy and return its value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class Delivery:
    path: str
    body: dict[str, Any]
    at: float  # time.time() when it arrived


class Receiver:
    """Records the JSON POSTed to it. `status`/`answer` set what it replies; only answers with status 200 count
    as `accepted` (what a real notifier would have shown)."""

    def __init__(self) -> None:
        self.status = 200
        self.answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        self.accepted: list[Delivery] = []
        self.refused = 0
        self.refused_bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status, answer = receiver.status, json.dumps(receiver.answer).encode()
                    if status == 200:
                        receiver.accepted.append(Delivery(self.path, json.loads(raw or b"{}"), time.time()))
                    else:
                        receiver.refused += 1
                        receiver.refused_bodies.append(json.loads(raw or b"{}"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    @property
    def url(self) -> str:
        """The Apprise URL that posts JSON here."""
        return f"json://127.0.0.1:{self.port}/"

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [delivery.body for delivery in self.accepted]


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that accepts every message and keeps its raw text (`messages`)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self) -> None:
                self.reply("220 sink")
                while line := self.rfile.readline():
                    verb = line.decode("ascii", "replace").strip().split(" ")[0].upper()
                    if verb == "EHLO":
                        self.reply("250-sink")
                        self.reply("250 8BITMIME")
                    elif verb == "DATA":
                        self.reply("354 go on")
                        data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                        sink.messages.append(data.decode("utf-8", "replace"))
                        self.reply("250 kept")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # HELO, MAIL, RCPT, RSET, NOOP
                        self.reply("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    thread = threading.Thread(target=sink.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.server.shutdown()
        sink.server.server_close()
