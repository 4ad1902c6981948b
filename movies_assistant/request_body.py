"""Request bodies are read in full, within a size limit and a deadline, before the app sees them.

A body is counted as it is read, whatever its transfer encoding (Content-Length or chunked), so the
size limit holds for both: 413 as soon as it is passed. A body that does not arrive by the deadline
gets 408 and its connection is closed. Only a few requests may wait for their bodies at once
(`limit_waiting`), so stalled uploads leave the server's other threads to the rest; one more gets 503
with Retry-After. The app then reads the buffered body (`wsgi.input`, `CONTENT_LENGTH` set).

The deadline needs the client socket, which gunicorn puts in the environ (`gunicorn.socket`); other
servers get the limit and the buffering without it.
"""

from __future__ import annotations

import io
import json
import threading
import time

from werkzeug.wrappers import Response

READ_SIZE = 16 * 1024
WAIT_FOR_SLOT = 0.1  # seconds a request waits for a free body slot before its 503


class BufferedBody:
    """WSGI middleware: reads each request body into memory, bounded in bytes, time and concurrency."""

    def __init__(self, app, max_bytes: int, timeout: float):
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.slots: threading.BoundedSemaphore | None = None

    def limit_waiting(self, readers: int) -> None:
        """At most `readers` requests wait for their bodies at once (the server's threads minus a reserve)."""
        self.slots = threading.BoundedSemaphore(max(1, readers))

    def __call__(self, environ, start_response):
        length = _content_length(environ)
        if length is None and not (environ.get("HTTP_TRANSFER_ENCODING") and environ.get("wsgi.input_terminated")):
            length = 0  # neither a length nor a chunked body the server decodes: none at all
        if length == 0:
            return self.app(environ, start_response)
        if length is not None and length > self.max_bytes:
            return self.refuse(environ, start_response, 413, self.too_large())
        if self.slots is not None and not self.slots.acquire(timeout=WAIT_FOR_SLOT):
            return self.refuse(environ, start_response, 503, "too many uploads in progress; retry shortly",
                               [("Retry-After", "1")])
        try:
            body = self.read(environ, length)
        except TimeoutError:
            return _json(environ, start_response, 408,
                         f"the request body did not arrive within {self.timeout:g} s")
        except _TooLarge:
            return self.refuse(environ, start_response, 413, self.too_large())
        finally:
            if self.slots is not None:
                self.slots.release()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def too_large(self) -> str:
        return f"the request body is over {self.max_bytes // 1024} KB"

    def read(self, environ, length: int | None) -> bytes:
        """The body, read before the deadline (TimeoutError) and no larger than the limit (_TooLarge)."""
        stream, sock = environ["wsgi.input"], environ.get("gunicorn.socket")
        deadline = time.monotonic() + self.timeout
        wanted = length if length is not None else self.max_bytes + 1
        parts, received = [], 0
        prior = sock.gettimeout() if sock is not None else None
        try:
            while received < wanted:
                if sock is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError
                    sock.settimeout(remaining)  # bounds each wait for the client, so the whole read too
                chunk = stream.read(min(READ_SIZE, wanted - received))
                if not chunk:
                    break
                parts.append(chunk)
                received += len(chunk)
        finally:
            if sock is not None:
                sock.settimeout(prior)
        if received > self.max_bytes:
            raise _TooLarge
        return b"".join(parts)

    def refuse(self, environ, start_response, status: int, message: str, headers=()):
        """An error for a request whose body is left unread: its connection is not reused.

        gunicorn would otherwise drain the rest of the body (for up to seconds) to keep the connection
        alive; it skips that for a body whose reading failed (`failed`), which a refused one is too.
        """
        stream = environ.get("wsgi.input")
        if hasattr(stream, "failed"):
            stream.failed = True
        return _json(environ, start_response, status, message, headers)


class _TooLarge(Exception):
    """The body passed the size limit while it was read."""


def _content_length(environ) -> int | None:
    raw = environ.get("CONTENT_LENGTH", "")
    try:
        return max(0, int(raw)) if raw.strip() else None
    except ValueError:
        return None


def _json(environ, start_response, status: int, message: str, headers=()):
    response = Response(json.dumps({"error": message}), status, mimetype="application/json", headers=list(headers))
    return response(environ, start_response)
