"""A teacher that scales: distillation answers from any OpenAI-compatible server (vLLM, llama.cpp server, …)
through POST /v1/completions, with prompts rendered here by our chat template (`textpro.text_llm.render_chat`).

Why raw completions and not /v1/chat/completions: a chat endpoint applies the *server's* template and may add its
own default system prompt, which would change the targets the student learns. Here the text sent is exactly what
the local teacher reads, token for token, and `template_sha256` beside every answer records which framing it was.
(A template that starts with the BOS token loses it in the text sent when the tokenizer adds BOS itself: the server
tokenizes the prompt with the same tokenizer and would otherwise double it.)

Greedy decoding (temperature 0), at most `concurrency` requests in flight (threads; the server batches them);
each request is retried on connection errors, timeouts, HTTP 429 and 5xx, with exponential backoff and jitter
(backoff · 2^attempt, at most max_backoff seconds), up to `retries` times; other HTTP errors stop the run with a
one-line message. Answers are appended and flushed as they arrive (any order): a stopped run resumes where it was.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from textpro.errors import ConfigError, TextproError

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class EndpointError(TextproError):
    """The teacher endpoint failed (after retries) or answered something that is not a completion."""


def base_url(url: str) -> str:
    """http://host:8000, http://host:8000/ and http://host:8000/v1 all mean the server at http://host:8000."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--teacher-endpoint must be an http(s) URL, got {url!r}")
    return url[:-3] if url.endswith("/v1") else url


class CompletionsClient:
    def __init__(self, url: str, *, model: str | None = None, api_key: str | None = None, timeout: float = 600.0,
                 retries: int = 5, backoff: float = 1.0, max_backoff: float = 60.0):
        self.url = base_url(url)
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.model = model or self._first_model()

    def _request(self, path: str, body: dict | None = None) -> dict:
        """One call with retries; the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url + path, data=data, headers=headers,
                                             method="GET" if body is None else "POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:200].decode(errors="replace").replace("\n", " ")
                if exc.code not in RETRY_STATUS or attempt == self.retries:
                    raise EndpointError(f"{self.url}{path}: HTTP {exc.code} {detail}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                if attempt == self.retries:
                    reason = getattr(exc, "reason", exc)
                    raise EndpointError(f"{self.url}{path}: unreachable after {self.retries + 1} tries "
                                        f"({reason})") from None
            except json.JSONDecodeError:
                raise EndpointError(f"{self.url}{path}: the answer is not JSON") from None
            delay = min(self.max_backoff, self.backoff * 2 ** attempt)
            time.sleep(delay * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    def _first_model(self) -> str:
        models = self._request("/v1/models").get("data") or []
        if not models or "id" not in models[0]:
            raise EndpointError(f"{self.url}/v1/models lists no model: pass --teacher-model NAME")
        return models[0]["id"]

    def complete(self, prompt: str, max_tokens: int) -> tuple[str, str | None]:
        """(text, finish_reason) of a greedy completion of `prompt`."""
        answer = self._request("/v1/completions", {"model": self.model, "prompt": prompt, "max_tokens": max_tokens,
                                                   "temperature": 0.0, "top_p": 1.0, "n": 1, "stream": False})
        try:
            choice = answer["choices"][0]
            return str(choice["text"]), choice.get("finish_reason")
        except (KeyError, IndexError, TypeError):
            raise EndpointError(f"{self.url}/v1/completions: no choices[0].text in the answer") from None


def prompt_text(tokenizer, question: str, system_prompt: str | None) -> str:
    """`render_chat`'s text as sent: without a leading BOS that the server's tokenizer adds itself."""
    from textpro.text_llm import render_chat

    text = render_chat(tokenizer, question, system_prompt)
    bos = tokenizer.bos_token
    if bos and text.startswith(bos) and tokenizer("x").input_ids[:1] == [tokenizer.bos_token_id]:
        text = text[len(bos):]
    return text


def distill_remote(questions: list[tuple[str, str]], tokenizer, url: str, out: Path, *, source: str,
                   template_sha256: str, max_new_tokens: int = 256, system_prompt: str | None = None,
                   model: str | None = None, api_key: str | None = None, concurrency: int = 8, retries: int = 5,
                   backoff: float = 1.0, timeout: float = 600.0, progress: bool = True, total: int | None = None,
                   client: CompletionsClient | None = None) -> int:
    """Answer (id, question) pairs through the endpoint into `out` (appended); returns how many were written."""
    from tqdm.auto import tqdm

    if concurrency < 1:
        raise ConfigError(f"--concurrency must be >= 1, got {concurrency}")
    client = client or CompletionsClient(url, model=model, api_key=api_key, timeout=timeout, retries=retries,
                                         backoff=backoff)
    eos = tokenizer.eos_token
    lock = threading.Lock()
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)

    def ask(qid: str, question: str) -> dict:
        text, finish = client.complete(prompt_text(tokenizer, question, system_prompt), max_new_tokens)
        if eos and eos in text:  # servers that return special tokens as text
            text = text[:text.index(eos)]
        return {"id": qid, "source": source, "question": question, "response": text.strip(),
                "template_sha256": template_sha256, "teacher": client.model, "finish_reason": finish}

    total = total if total is not None else len(questions)
    with open(out, "a", encoding="utf-8") as f, ThreadPoolExecutor(max_workers=concurrency) as pool, \
            tqdm(total=total, initial=total - len(questions), desc="distill (endpoint)", unit="utt",
                 disable=not progress) as bar:
        pending: set[Future] = set()
        queue = iter(questions)
        error: Exception | None = None
        while True:
            while error is None and len(pending) < 2 * concurrency:  # a bounded window: flat memory at any size
                item = next(queue, None)
                if item is None:
                    break
                pending.add(pool.submit(ask, *item))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                if future.cancelled():
                    continue
                if future.exception() is not None:
                    if error is None:  # stop asking; answers already on their way are still kept
                        error = future.exception()
                        for other in pending:
                            other.cancel()
                    continue
                with lock:
                    f.write(json.dumps(future.result(), ensure_ascii=False) + "\n")
                    f.flush()
                    written += 1
                bar.update(1)
        if error is not None:
            raise error
    return written
