"""What an answer costs: tokens times a per-model price, in US dollars.

Prices are per one million tokens, (input, output). The composer and local models cost nothing;
a model the table does not know costs `DEFAULT_PRICE`. The figures below are examples of the order
of magnitude of hosted inference; providers change them often, so set your own with LLM_PRICES
(JSON, merged over this table), e.g. `{"huggingface:meta-llama/Llama-3.1-8B-Instruct": [0.1, 0.1],
"default": [0, 0]}` (the second entry makes unknown models, such as a self-hosted server, free).
Keys are provider names as recorded in the `model` field; `*` and `?` match like shell patterns.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

PER = 1_000_000
DEFAULT_PRICE = (0.5, 1.5)
PRICES: dict[str, tuple[float, float]] = {
    "composer": (0.0, 0.0),
    "local:*": (0.0, 0.0),
    "huggingface:meta-llama/Llama-3.2-3B-Instruct": (0.06, 0.06),
    "huggingface:meta-llama/Llama-3.1-8B-Instruct": (0.1, 0.1),
    "huggingface:meta-llama/Llama-3.3-70B-Instruct": (0.9, 0.9),
    "huggingface:mistralai/Mistral-7B-Instruct-v0.3": (0.2, 0.2),
    "huggingface:Qwen/Qwen2.5-7B-Instruct": (0.3, 0.3),
    "huggingface:Qwen/Qwen2.5-72B-Instruct": (1.2, 1.2),
    "huggingface:HuggingFaceTB/SmolLM2-1.7B-Instruct": (0.05, 0.05),
}


def parse_prices(raw: str) -> dict[str, tuple[float, float]]:
    """LLM_PRICES: a JSON object of model -> [input, output] dollars per 1M tokens (ValueError if not)."""
    if not raw or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError('must be a JSON object like {"model": [input, output]}')
    table = {}
    for model, price in data.items():
        if (not isinstance(price, (list, tuple)) or len(price) != 2
                or not all(isinstance(p, (int, float)) and not isinstance(p, bool) and p >= 0 for p in price)):
            raise ValueError(f"the price of {model!r} must be [input, output], two numbers >= 0 (dollars per 1M tokens)")
        table[str(model)] = (float(price[0]), float(price[1]))
    return table


def price_of(model: str, overrides: dict[str, tuple[float, float]] | None = None) -> tuple[float, float]:
    """($ input, $ output) per 1M tokens for `model`: exact name first, then patterns, then the default."""
    table = {**PRICES, **(overrides or {})}
    if model in table:
        return table[model]
    for pattern, price in table.items():
        if pattern != "default" and any(c in pattern for c in "*?[") and fnmatchcase(model, pattern):
            return price
    return table.get("default", DEFAULT_PRICE)


def cost(model: str, prompt_tokens: int, completion_tokens: int,
         overrides: dict[str, tuple[float, float]] | None = None) -> float:
    """Dollars for one call of `model`."""
    price_in, price_out = price_of(model, overrides)
    return round((prompt_tokens * price_in + completion_tokens * price_out) / PER, 10)
