"""Model providers: `composer` (no model), `local` (llama.cpp GGUF), `huggingface` (InferenceClient)."""

from __future__ import annotations

from ..config import Settings
from .base import AnswerRequest, Completion, ModelProvider, ModelUnavailable


def open_provider(settings: Settings, kind: str | None = None, model: str | None = None) -> ModelProvider:
    """The provider `kind` (default: LLM_PROVIDER); heavy libraries load only when chosen."""
    kind = kind or settings.llm_provider
    if kind == "huggingface":
        from .huggingface import HuggingFaceProvider

        return HuggingFaceProvider(
            model=model or settings.llm_model,
            token=settings.huggingface_token,
            base_url=settings.llm_base_url,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
        )
    if kind == "local":
        from .local import LocalProvider

        return LocalProvider(model or settings.local_model_path, max_tokens=settings.llm_max_tokens)
    from .composer import Composer

    return Composer()


__all__ = ["AnswerRequest", "Completion", "ModelProvider", "ModelUnavailable", "open_provider"]
