"""The relevance judge: an LLM labels each answer RELEVANT / PARTLY_RELEVANT / NON_RELEVANT.

It runs on a background thread after the answer is logged, so it never adds latency to a reply.
Its model is its own (JUDGE_PROVIDER, JUDGE_MODEL), so a small answer model can be judged by a
bigger one, or the other way round. A reply that is not the JSON asked for gets one more turn that
says so; the judge only stores a verdict it could parse, otherwise the answer stays UNJUDGED. At
most MAX_PENDING answers wait for a verdict: beyond that, new ones stay UNJUDGED (logged) rather
than pile up behind a slow model.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from .llm import AnswerRequest, ModelProvider
from .logstore import LogStore
from .prompts import JUDGE_PROMPT, JUDGE_RETRY
from .query import Understanding

log = logging.getLogger(__name__)
LABELS = ("PARTLY_RELEVANT", "NON_RELEVANT", "RELEVANT")  # longest first for matching
MAX_PENDING = 1000


def parse_verdict(text: str, strict: bool = False) -> tuple[str, str] | None:
    """(label, explanation) from the judge's reply; None when it names no label.

    `strict` accepts only the JSON object asked for (code fences allowed); otherwise a reply that
    names exactly one label in words is read too (the judge's last attempt).
    """
    match = re.search(r"\{.*\}", text, re.S)
    if match:
        try:
            data = json.loads(match.group(0))
            label = str(data.get("Relevance", "")).strip().upper()
            if label in LABELS:
                return label, str(data.get("Explanation", "")).strip()
        except (json.JSONDecodeError, AttributeError):
            pass
    if strict:
        return None
    for label in LABELS:
        if re.search(rf"\b{label}\b", text.upper()):
            return label, text.strip()[:500]
    return None


class Judge:
    def __init__(self, provider: ModelProvider, log_store: LogStore, attempts: int = 2,
                 max_pending: int = MAX_PENDING):
        self.provider, self.log_store, self.attempts = provider, log_store, attempts
        self.max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge")

    def submit(self, answer_id: str, question: str, answer: str) -> Future | None:
        """Queue a verdict for the answer; returns at once (None when the queue is full)."""
        with self._lock:
            if self._pending >= self.max_pending:
                log.warning("judge queue full (%d answers waiting); answer %s stays UNJUDGED", self._pending,
                            answer_id)
                return None
            self._pending += 1
        return self._pool.submit(self._run, answer_id, question, answer)

    def _run(self, answer_id: str, question: str, answer: str) -> str:
        try:
            return self._judge(answer_id, question, answer)
        finally:
            with self._lock:
                self._pending -= 1

    def _judge(self, answer_id: str, question: str, answer: str) -> str:
        prompt = JUDGE_PROMPT.format(question=question, answer=answer)
        messages = [{"role": "user", "content": prompt}]
        prompt_tokens = completion_tokens = 0
        try:
            for attempt in range(self.attempts):
                request = AnswerRequest(question, Understanding("general"), [], list(messages))
                completion = self.provider.generate(request)
                prompt_tokens += completion.prompt_tokens
                completion_tokens += completion.completion_tokens
                verdict = parse_verdict(completion.text, strict=attempt < self.attempts - 1)
                # the retry shows the model its reply and asks again for the JSON alone
                messages += [{"role": "assistant", "content": completion.text[:500]},
                             {"role": "user", "content": JUDGE_RETRY}]
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
