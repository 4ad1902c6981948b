"""The API served by gunicorn (the `serve` command): threaded workers whose own errors are JSON, whose
request heads must arrive in bounded time, and whose closing connections do not hold up the others.

gunicorn answers requests it cannot parse (400 bad request line or header, 414 request line too
long, 431 header fields too large) itself, before the app sees them, as an HTML page. Its workers
write that page with `gunicorn.util.write_error`, looked up when `handle_error` runs; the worker
class here puts a JSON writer in its place, in its own process, so those errors look like the app's.

gunicorn's threads read a request's line and headers with no time limit, so a client that sends half
a head holds a thread for good. The worker here gives each head REQUEST_HEAD_TIMEOUT from when a
thread takes the connection, and HEAD_GRACE only while fewer than RESERVED_THREADS threads are free,
so that stalled heads cannot starve the other requests either: its main loop, which wakes at least
once a second, shuts the reading side of a late connection, which ends the read, and the thread
answers 408.

gunicorn closes a connection gracefully (half-close, then wait for the client's own close for up to
2 s) on the worker's main loop, which also accepts and dispatches every connection: a client that
never closes, such as a stalled upload that got its 408, holds up all the others meanwhile. The worker
here lingers in the request's own thread, for LINGER seconds, and leaves the main loop nothing to
wait for.
"""

from __future__ import annotations

import json
import socket
import threading
import time

from flask import Flask
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

RESERVED_THREADS = 2  # threads per worker kept free of requests that wait for their bodies or heads
HEAD_GRACE = 1.0  # seconds a request head may take while the worker is short of free threads
LINGER = 0.5  # seconds a closing connection waits for the client to close first


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's error response, with a JSON body {"error": message} instead of its HTML page."""
    body = json.dumps({"error": mesg or reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


def linger(sock: socket.socket) -> None:
    """Half-close, read what the client still sends until it closes or LINGER passes, then stop reading.

    Closing a socket with unread input resets the connection, which can destroy the response before
    the client reads it; after this, gunicorn's own graceful close finds nothing to wait for.
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            if not sock.recv(65536):
                break
    except OSError:  # timed out, reset, or already closed
        pass
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass


class APIWorker(ThreadWorker):
    """gunicorn's threaded worker: its own parse errors as JSON, a deadline for request heads, lingering
    off its main loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_timeout = 0.0
        self.head_started: dict = {}  # connection -> when a thread began to read its head
        self.late_heads: dict = {}  # connection -> the seconds its head had, and missed
        self.busy_threads = 0
        self.busy_lock = threading.Lock()

    def init_process(self):
        util.write_error = write_json_error  # this process only: the worker's
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        self.head_timeout = self.wsgi.config["SETTINGS"].request_head_timeout

    def handle(self, conn):
        with self.busy_lock:
            self.busy_threads += 1
        self.head_started[conn] = time.monotonic()
        try:
            keepalive = super().handle(conn)
        finally:
            self.head_started.pop(conn, None)
            with self.busy_lock:
                self.busy_threads -= 1
        if (allowed := self.late_heads.pop(conn, None)) is not None:
            write_json_error(conn.sock, 408, "Request Timeout", f"the request head did not arrive within {allowed:g} s")
        if keepalive is False:  # not _DEFER (no request yet) nor a kept-alive connection
            linger(conn.sock)
        return keepalive

    def handle_request(self, req, conn):
        self.head_started.pop(conn, None)  # the head is in
        return super().handle_request(req, conn)

    def murder_pending(self):
        """gunicorn's sweep of idle connections, and the cut-off of heads past their deadline."""
        super().murder_pending()
        crowded = self.cfg.threads - self.busy_threads < RESERVED_THREADS
        allowed = HEAD_GRACE if crowded else self.head_timeout
        now = time.monotonic()
        for conn, started in self.head_started.copy().items():
            if started + allowed <= now and self.head_started.pop(conn, None) is not None:
                self.late_heads[conn] = allowed
                try:
                    conn.sock.shutdown(socket.SHUT_RD)  # the thread's read returns: no more data
                except OSError:
                    pass


class Server(BaseApplication):
    """gunicorn embedded: serves `app` with APIWorker on host:port."""

    def __init__(self, app: Flask, host: str, port: int, workers: int, threads: int):
        self.app, self.host, self.port, self.workers, self.threads = app, host, port, workers, threads
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", f"{self.host}:{self.port}")
        self.cfg.set("worker_class", f"{__name__}.APIWorker")
        self.cfg.set("workers", self.workers)
        self.cfg.set("threads", self.threads)
        self.cfg.set("timeout", 120)
        # idle keep-alive connections cost no thread in gthread workers; a short keepalive (the default
        # 2 s) races clients reusing a connection after a pause, whose request then dies unanswered
        self.cfg.set("keepalive", 75)
        self.cfg.set("accesslog", "-")

    def load(self):
        self.app.wsgi_app.limit_waiting(self.threads - RESERVED_THREADS)
        return self.app


def serve(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    Server(app, host, port, workers, threads).run()
