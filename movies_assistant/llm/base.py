"""The model-provider interface: one small class per provider behind it.

A provider streams: `stream(request)` returns a `Stream`, an iterable of text chunks in the order
the model produces them; once it is exhausted, `stream.completion` holds the whole `Completion`
(text, the model that answered, token counts). `generate(request)` is the same answer in one piece.
Errors are `ModelUnavailable`, raised from `stream()`, from the iteration (before or after the first
chunk) or from `generate()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generator, Iterator, Protocol

from ..movies import Movie
from ..query import Understanding


class ModelUnavailable(RuntimeError):
    """The model cannot answer now (not configured, file missing, server down or timing out)."""


@dataclass
class AnswerRequest:
    """Everything a provider may use: chat messages for language models, structure for the composer."""

    question: str
    understanding: Understanding
    movies: list[Movie]
    messages: list[dict] = field(default_factory=list)
    # what the conversation adds: "similar_to" (a film label), "excluded" (how many films were left out)
    context: dict = field(default_factory=dict)


@dataclass
class Completion:
    text: str
    model: str  # the provider that wrote the text
    prompt_tokens: int = 0
    completion_tokens: int = 0
    fallback_from: list[str] = field(default_factory=list)  # providers that failed before this one answered


class Stream:
    """The chunks of one answer as the model produces them; `completion` is set once they are all read.

    Wraps a generator that yields `str` chunks and *returns* the final `Completion`.
    """

    def __init__(self, chunks: Generator[str, None, Completion]):
        self._chunks = chunks
        self.completion: Completion | None = None

    def __iter__(self) -> Iterator[str]:
        self.completion = yield from self._chunks

    def close(self) -> None:
        """Stop early (the client went away): releases the model or the HTTP connection."""
        self._chunks.close()


def collect(stream: Stream) -> Completion:
    """Read a whole stream; its Completion."""
    for _ in stream:
        pass
    assert stream.completion is not None
    return stream.completion


class ModelProvider(Protocol):
    name: str  # recorded as the answer's `model`

    def generate(self, request: AnswerRequest) -> Completion: ...

    def stream(self, request: AnswerRequest) -> Stream: ...

    def status(self) -> str:
        """A short health word: 'ready', 'not loaded', 'configured' or a reason it cannot run."""
