"""A chain of providers (LLM_FALLBACK): when one cannot answer, the next one does.

A provider counts as failed only when it raises ModelUnavailable before its first chunk: once text
has reached the user, switching models would mix two answers, so a failure after that is reported
as it is. The answer's Completion names the provider that wrote it and, in `fallback_from`, those
that failed before it.
"""

from __future__ import annotations

import logging

from .base import AnswerRequest, Completion, ModelProvider, ModelUnavailable, Stream, collect

log = logging.getLogger(__name__)


class FallbackProvider:
    def __init__(self, providers: list[ModelProvider]):
        if not providers:
            raise ValueError("a fallback chain needs at least one provider")
        self.providers = providers
        self.name = providers[0].name

    @property
    def chain(self) -> list[str]:
        return [p.name for p in self.providers]

    def status(self) -> str:
        return self.providers[0].status()

    def generate(self, request: AnswerRequest) -> Completion:
        return collect(self.stream(request))

    def stream(self, request: AnswerRequest) -> Stream:
        return Stream(self._stream(request))

    def _stream(self, request: AnswerRequest):
        failed: list[str] = []
        reasons: list[str] = []
        for provider in self.providers:
            stream = None
            try:
                stream = provider.stream(request)
                chunks = iter(stream)
                first = next(chunks)
            except StopIteration:  # answered with no text at all: nothing to fall back from
                completion = stream.completion
                completion.fallback_from = failed
                return completion
            except ModelUnavailable as exc:
                log.warning("model %s unavailable (%s); trying the next in LLM_FALLBACK", provider.name, exc)
                failed.append(provider.name)
                reasons.append(f"{provider.name}: {exc}")
                continue
            try:
                yield first
                yield from chunks
            finally:
                stream.close()
            completion = stream.completion
            completion.fallback_from = failed
            return completion
        raise ModelUnavailable("no model could answer: " + "; ".join(reasons))
