"""A chat model behind an HTTP API, through `huggingface_hub.InferenceClient`.

Without LLM_BASE_URL it calls the Hugging Face Inference API with LLM_MODEL and HUGGINGFACE_TOKEN.
With LLM_BASE_URL it talks to any OpenAI-compatible server (llama.cpp server, Ollama, vLLM, TGI):
the client posts to `<base_url>/chat/completions` (`/v1` is added when missing) and LLM_MODEL is
sent as the request's `model`.

`stream()` asks for `stream=True` (with `stream_options.include_usage`, so the server's last chunk
carries the token counts) and yields the text as it arrives. Both paths retry HTTP 429/502/503/504
and refused connections with exponential backoff (LLM_RETRIES; a short Retry-After wins), never a
timeout (LLM_TIMEOUT, which also bounds the wait between two streamed chunks), and turn every failure
into ModelUnavailable (a 503 for the client, or the next provider in LLM_FALLBACK).

The token is never logged and never appears in an error message.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from .base import AnswerRequest, Completion, ModelUnavailable, Stream

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 502, 503, 504)  # worth another try: rate limited, model loading, gateway trouble
MAX_RETRY_AFTER = 5.0  # seconds; a longer Retry-After is not worth holding a request for


class HuggingFaceProvider:
    def __init__(self, model: str = "", token: str = "", base_url: str = "", max_tokens: int = 400,
                 timeout: float = 60.0, retries: int = 2, retry_delay: float = 0.5):
        self.model = (model or "").strip()
        self.base_url = (base_url or "").strip()
        self._token = token or ""
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.retries = max(0, retries)
        self.retry_delay = retry_delay
        self.name = f"huggingface:{self.model or self._where_short()}"
        self._client = None
        self._client_lock = threading.Lock()

    def __repr__(self) -> str:  # never shows the token
        return f"HuggingFaceProvider(model={self.model!r}, base_url={_display_url(self.base_url)!r})"

    # -- configuration -----------------------------------------------------
    def _problem(self) -> str | None:
        """Why this provider cannot be used at all, or None."""
        if not self.model and not self.base_url:
            return ("the huggingface provider needs a model: set LLM_MODEL (a Hugging Face model id) "
                    "or LLM_BASE_URL (an OpenAI-compatible server)")
        if not self.base_url and not self._token:
            return "the Hugging Face Inference API needs a token: set HUGGINGFACE_TOKEN (or use LLM_BASE_URL)"
        return None

    def status(self) -> str:
        return self._problem() or "configured"

    def _where(self) -> str:
        if self.base_url:
            return f"the model server at {_display_url(self.base_url)}"
        return f"the Hugging Face Inference API (model {self.model})"

    def _where_short(self) -> str:
        return _display_url(self.base_url) if self.base_url else ""

    @property
    def client(self):
        """The one InferenceClient of this provider, made on first use."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self):
        try:
            from huggingface_hub import InferenceClient
        except ImportError:  # pragma: no cover - a core dependency
            raise ModelUnavailable("huggingface_hub is not installed: run `make install`") from None
        # Only HUGGINGFACE_TOKEN is sent: a `None` header value makes the client drop the token it
        # would otherwise pick up from the machine (HF_TOKEN, the `hf auth login` file).
        headers = None if self._token else {"authorization": None}
        token = self._token or None
        if self.base_url:
            return InferenceClient(base_url=self.base_url, token=token, timeout=self.timeout, headers=headers)
        return InferenceClient(model=self.model, token=token, timeout=self.timeout, headers=headers)

    # -- generation --------------------------------------------------------
    def _prepare(self, request: AnswerRequest) -> tuple[list[dict], dict]:
        problem = self._problem()
        if problem:
            raise ModelUnavailable(problem)
        messages = request.messages or [{"role": "user", "content": request.question}]
        kwargs = {"max_tokens": self.max_tokens, "temperature": 0.0}
        if self.base_url and self.model:
            kwargs["model"] = self.model  # the URL picks the server, `model` goes in the request body
        return messages, kwargs

    def _call(self, call, client=None):
        """`call(client)`, retried with backoff on 429/502/503/504 and refused connections.

        A timeout is not retried (it would multiply the wait); every failure becomes ModelUnavailable.
        """
        attempt = 0
        while True:
            try:
                return call(client if client is not None else self.client)
            except ModelUnavailable:
                raise
            except Exception as exc:  # every failure of the call becomes ModelUnavailable below
                status = _status_code(exc)
                retry = attempt < self.retries and (status in RETRY_STATUSES or _is_connect_error(exc)) \
                    and not _is_offline(exc)
                if not retry:
                    raise ModelUnavailable(self._explain(exc, status, attempt + 1)) from None
                delay = self._delay(exc, attempt)
                log.warning("%s answered %s; retrying in %.1f s", self._where(),
                            f"HTTP {status}" if status else type(exc).__name__, delay)
                time.sleep(delay)
                attempt += 1

    def generate(self, request: AnswerRequest) -> Completion:
        messages, kwargs = self._prepare(request)
        response = self._call(lambda client: client.chat_completion(messages, **kwargs))
        return self._completion(response)

    def stream(self, request: AnswerRequest) -> Stream:
        """Tokens as the server sends them (`stream=True`); usage from the server's last chunk."""
        return Stream(self._stream(request))

    def _stream(self, request: AnswerRequest):
        messages, kwargs = self._prepare(request)
        kwargs.update(stream=True, stream_options={"include_usage": True})
        # One client per stream: InferenceClient keeps each streamed response open until it is closed.
        client = self._make_client()
        parts: list[str] = []
        usage = None
        try:
            chunks = iter(self._call(lambda c: c.chat_completion(messages, **kwargs), client))
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except Exception as exc:  # a timeout or a broken connection in the middle of the answer
                    raise ModelUnavailable(self._explain(exc, _status_code(exc), 1)) from None
                usage = getattr(chunk, "usage", None) or usage
                piece = _delta_text(chunk)
                if piece:
                    parts.append(piece)
                    yield piece
        finally:
            client.close()
        text = "".join(parts).strip()
        if not text:
            raise ModelUnavailable(f"{self._where()} sent an empty reply")
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        if usage is None:  # a server that does not report usage: estimate (about 4 characters a token)
            prompt_tokens = sum(len(m.get("content") or "") for m in messages) // 4
            completion_tokens = len(parts)
        return Completion(text=text, model=self.name, prompt_tokens=prompt_tokens,
                          completion_tokens=completion_tokens)

    def _delay(self, exc: Exception, attempt: int) -> float:
        """Exponential backoff, or the server's Retry-After when it is short."""
        delay = self.retry_delay * (2 ** attempt)
        response = getattr(exc, "response", None)
        retry_after = getattr(response, "headers", {}).get("retry-after") if response is not None else None
        if retry_after:
            try:
                delay = min(max(float(retry_after), 0.0), MAX_RETRY_AFTER)
            except ValueError:
                pass
        return delay

    def _completion(self, response) -> Completion:
        try:
            choice = response.choices[0]
            text = (choice.message.content or "").strip()
        except (AttributeError, IndexError, TypeError, KeyError):
            raise ModelUnavailable(f"{self._where()} sent a reply without a message") from None
        if not text:
            raise ModelUnavailable(f"{self._where()} sent an empty reply")
        usage = getattr(response, "usage", None)
        return Completion(
            text=text,
            model=self.name,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )

    def _explain(self, exc: Exception, status: int | None, attempts: int) -> str:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if _is_offline(exc):
            message = f"cannot call {self._where()}: HF_HUB_OFFLINE is set, so huggingface_hub makes no requests"
        elif _is_timeout(exc):
            message = f"{self._where()} did not answer within {self.timeout:g} s"
        elif status in (401, 403):
            message = (f"{self._where()} refused the request (HTTP {status}): check HUGGINGFACE_TOKEN "
                       "and that it may call this model")
        elif status == 404:
            message = f"{self._where()} does not know this model or path (HTTP 404): check LLM_MODEL / LLM_BASE_URL"
        elif status == 429:
            message = f"{self._where()} is rate limiting requests (HTTP 429){tries}; try again later"
        elif status:
            message = f"{self._where()} answered HTTP {status}{tries}"
            detail = _server_message(exc)
            if detail:
                message += f": {detail}"
        elif _is_connect_error(exc):
            message = f"cannot connect to {self._where()}{tries}"
        elif isinstance(exc, ValueError):  # the client refused the configuration (unknown model, provider)
            message = f"{self._where()} cannot be used: {str(exc)[:300]}"
        else:
            message = f"{self._where()} failed: {type(exc).__name__}"
        return self._scrub(message)

    def _scrub(self, text: str) -> str:
        if self._token and self._token in text:
            text = text.replace(self._token, "***")
        return text


def _delta_text(chunk) -> str:
    try:
        return chunk.choices[0].delta.content or ""
    except (AttributeError, IndexError, TypeError):
        return ""  # e.g. the usage-only last chunk


def _status_code(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _is_timeout(exc: Exception) -> bool:
    if isinstance(exc, TimeoutError):  # InferenceTimeoutError is one
        return True
    return "Timeout" in type(exc).__name__


def _is_offline(exc: Exception) -> bool:
    return type(exc).__name__ == "OfflineModeIsEnabled"


def _is_connect_error(exc: Exception) -> bool:
    if isinstance(exc, ConnectionError):
        return True
    return any(cls.__name__ in ("ConnectError", "RemoteProtocolError", "ReadError")
               for cls in type(exc).__mro__)


def _server_message(exc: Exception) -> str:
    detail = getattr(exc, "server_message", None) or ""
    detail = " ".join(str(detail).split())
    return detail[:200]


def _display_url(url: str) -> str:
    """The URL without user info, query or fragment (they may carry credentials)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
