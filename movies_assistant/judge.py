"""The relevance judge: an LLM labels each answer RELEVANT / PARTLY_RELEVANT / NON_RELEVANT.

It runs on a background thread after the answer is logged, so it never adds latency to a reply,
and it only stores a verdict it could parse: otherwise the answer stays UNJUDGED.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor

from .llm import AnswerRequest, ModelProvider
from .logstore import LogStore
from .prompts import JUDGE_PROMPT
from .query import Understanding

log = logging.getLogger(__name__)
LABELS = ("PARTLY_RELEVANT", "NON_RELEVANT", "RELEVANT")  # longest first for matching


def parse_verdict(text: str) -> tuple[str, str] | None:
    """(label, explanation) from the judge's reply, JSON or not; None when it names no label."""
    match = re.search(r"\{.*\}", text, re.S)
    if match:
        try:
            data = json.loads(match.group(0))
            label = str(data.get("Relevance", "")).strip().upper()
            if label in LABELS:
                return label, str(data.get("Explanation", "")).strip()
        except (json.JSONDecodeError, AttributeError):
            pass
    for label in LABELS:
        if re.search(rf"\b{label}\b", text.upper()):
            return label, text.strip()[:500]
    return None


class Judge:
    def __init__(self, provider: ModelProvider, log_store: LogStore, attempts: int = 2):
        self.provider, self.log_store, self.attempts = provider, log_store, attempts
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge")

    def submit(self, answer_id: str, question: str, answer: str) -> Future:
        return self._pool.submit(self._judge, answer_id, question, answer)

    def _judge(self, answer_id: str, question: str, answer: str) -> str:
        prompt = JUDGE_PROMPT.format(question=question, answer=answer)
        request = AnswerRequest(question, Understanding("general"), [], [{"role": "user", "content": prompt}])
        prompt_tokens = completion_tokens = 0
        try:
            for _ in range(self.attempts):
                completion = self.provider.generate(request)
                prompt_tokens += completion.prompt_tokens
                completion_tokens += completion.completion_tokens
                verdict = parse_verdict(completion.text)
                if verdict:
                    label, explanation = verdict
                    self.log_store.set_relevance(answer_id, label, explanation, completion.model,
                                                 prompt_tokens, completion_tokens)
                    return label
            self.log_store.set_relevance(answer_id, "UNJUDGED", "judge reply could not be parsed",
                                         self.provider.name, prompt_tokens, completion_tokens)
        except Exception:  # the judge must never break serving; the answer simply stays UNJUDGED
            log.exception("relevance judge failed for answer %s", answer_id)
        return "UNJUDGED"

    def wait(self) -> None:
        """Finish queued verdicts (tests and shutdown)."""
        self._pool.shutdown(wait=True)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge")
