"""Model providers: `composer` (no model), `local` (llama.cpp GGUF), `huggingface` (InferenceClient).

`open_provider(settings)` is the answer model: LLM_PROVIDER, followed by the LLM_FALLBACK chain.
"""

from __future__ import annotations

from ..config import Settings
from .base import AnswerRequest, Completion, ModelProvider, ModelUnavailable, Stream, collect


def open_provider(settings: Settings, kind: str | None = None, model: str | None = None) -> ModelProvider:
    """The provider `kind`, or with no kind the answer model (LLM_PROVIDER, then LLM_FALLBACK in order).

    Heavy libraries load only when their provider is chosen.
    """
    if kind is None:
        chain = [settings.llm_provider] + [k for k in settings.fallback_chain if k != settings.llm_provider]
        providers = [_open(settings, k, model) for k in chain]
        if len(providers) == 1:
            return providers[0]
        from .fallback import FallbackProvider

        return FallbackProvider(providers)
    return _open(settings, kind, model)


def _open(settings: Settings, kind: str, model: str | None) -> ModelProvider:
    if kind == "huggingface":
        from .huggingface import HuggingFaceProvider

        return HuggingFaceProvider(
            model=model or settings.llm_model,
            token=settings.huggingface_token,
            base_url=settings.llm_base_url,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
            retries=settings.llm_retries,
        )
    if kind == "local":
        from .local import LocalProvider

        return LocalProvider(model or settings.local_model_path, max_tokens=settings.llm_max_tokens,
                             max_waiting=settings.llm_max_waiting, queue_timeout=settings.llm_queue_timeout)
    from .composer import Composer

    return Composer()


__all__ = ["AnswerRequest", "Completion", "ModelProvider", "ModelUnavailable", "Stream", "collect", "open_provider"]
