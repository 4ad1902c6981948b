"""The model-provider interface: one small class per provider behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

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


@dataclass
class Completion:
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ModelProvider(Protocol):
    name: str  # recorded as the answer's `model`

    def generate(self, request: AnswerRequest) -> Completion: ...

    def status(self) -> str:
        """A short health word: 'ready', 'not loaded', 'configured' or a reason it cannot run."""
