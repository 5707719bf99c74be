"""Responders: anything that answers benchmark items, as text or as speech.

The harness needs only two small interfaces, both batched (a list in, a list of the same length out):

    class TextResponder(Protocol):          # the original text LLM, answering the text version
        name: str
        batch_size: int                      # how many prompts the harness hands over at once
        def answer_text(self, prompts: list[str]) -> list[str]: ...

    class SpeechResponder(Protocol):        # the speech LLM under test, answering the spoken version
        name: str
        batch_size: int
        def answer_audio(self, queries: list[AudioQuery]) -> list[str]: ...

`AudioQuery` is (audio_path, instruction | None): instruction is the text sent with the audio (a paralinguistic
question such as "What is the speaker's gender?"), or None when the audio is the whole question (spoken MCQ).
`name` identifies the system in reports and in the response cache, so two different models must not share one.
Pair items (spoken StoryCloze, `eval.pairs`) are scored by likelihood, not answered: a text responder offers
`response_logprobs(list[(user, response)]) -> list[float]`, a speech responder `score_pairs(list[PairQuery])`
(`TextLLMResponder`, `SLMResponder` and `CascadeResponder` do; an endpoint gives no likelihoods).

Implemented here: `TextLLMResponder` (any HF causal LM directory), `EndpointResponder` (any OpenAI-compatible chat
server with audio input; it answers text too), `CascadeResponder` (ASR transcript → text responder: the cascade
baseline, no prosody), `SLMResponder` (a TextPro-SLM or continuous-adapter checkpoint, through
`textpro.pipeline`; `speech_responder_for_model`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from textpro.errors import ConfigError, DataError, ModelError
from textpro.eval import pairs
from textpro.text_llm import greedy_answers, greedy_config, render_chat, response_logprobs


@dataclass(frozen=True)
class AudioQuery:
    audio_path: Path
    instruction: str | None = None


@dataclass(frozen=True)
class PairQuery:
    clips: dict[str, Path]  # letter (a, b) → a clip of the whole story with that ending
    texts: dict[str, str] | None = None  # letter → the clip's text, when the record has it


@runtime_checkable
class TextResponder(Protocol):
    name: str
    batch_size: int

    def answer_text(self, prompts: list[str]) -> list[str]: ...


@runtime_checkable
class SpeechResponder(Protocol):
    name: str
    batch_size: int

    def answer_audio(self, queries: list[AudioQuery]) -> list[str]: ...


# --------------------------------------------------------------------------------------------------------------------
# A local HF causal LM


class TextLLMResponder:
    """Greedy answers from any HF causal LM directory (or textpro.hub name), through its chat template,
    batched with left padding so every prompt's answer starts at the same position (`textpro.text_llm`)."""

    def __init__(self, model, tokenizer, *, name: str, batch_size: int = 8, max_new_tokens: int = 48,
                 system_prompt: str | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.batch_size = batch_size
        self.system_prompt = system_prompt
        self.generation_config = greedy_config(model, tokenizer, max_new_tokens)  # evaluation must be deterministic

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs) -> TextLLMResponder:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from textpro.hub import resolve_model

        directory = resolve_model(name_or_path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(directory)
            model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load a causal LM from {directory}: {str(exc).splitlines()[0]}") from None
        kwargs.setdefault("name", Path(str(name_or_path)).name)
        return cls(model, tokenizer, **kwargs)

    def answer_text(self, prompts: list[str]) -> list[str]:
        chats = [render_chat(self.tokenizer, p, self.system_prompt) for p in prompts]
        return greedy_answers(self.model, self.tokenizer, chats, generation_config=self.generation_config)

    def response_logprobs(self, turns: list[tuple[str, str]]) -> list[float]:
        """Mean log-probability per token of each (user, response)'s response as this LLM's answer."""
        return response_logprobs(self.model, self.tokenizer, turns, self.system_prompt)


# --------------------------------------------------------------------------------------------------------------------
# Cascade: ASR transcript → text responder


def cascade_prompt(transcript: str, instruction: str | None) -> str:
    """What a cascade's text LLM reads: the transcript, then the instruction (if any) on its own line."""
    transcript = transcript.strip()
    return f"{transcript}\n{instruction}" if instruction else transcript


class CascadeResponder:
    """The cascade baseline: transcribe the audio, give the transcript (plus the instruction) to a text responder.
    No prosody reaches the LLM, so paralinguistic questions can only be guessed."""

    def __init__(self, transcribe: Callable[[Path], str], text: TextResponder, *, name: str | None = None):
        self.transcribe = transcribe
        self.text = text
        self.name = name or f"cascade+{text.name}"
        self.batch_size = text.batch_size

    def answer_audio(self, queries: list[AudioQuery]) -> list[str]:
        return self.text.answer_text([cascade_prompt(self.transcribe(query.audio_path), query.instruction)
                                      for query in queries])

    def score_pairs(self, queries: list[PairQuery], neutral: bool = False) -> list[dict]:
        """Per pair: {"speech": letter → score}: each clip's transcribed story into the text LLM, its ending scored
        (`eval.pairs`)."""
        if not hasattr(self.text, "response_logprobs"):
            raise ConfigError(f"{self.text.name} gives no likelihoods: it cannot score pair items")
        read = [pair_turns({letter: self.transcribe(query.clips[letter]) for letter in pairs.LETTERS}, query.texts)
                for query in queries]
        return [{"speech": scores} for scores in score_pair_turns(read, self.text.response_logprobs)]


def pair_turns(transcripts: dict[str, str], texts: dict[str, str] | None) -> dict[str, tuple[str, str]] | None:
    """Letter → (story, ending) of a pair's two clips as a text LLM reads them: each transcript's story, the ending
    from the record's texts (else from the transcripts); None when the transcripts differ in no word (the ASR heard
    no two endings)."""
    try:
        endings = pairs.story_and_endings(texts or transcripts)[1]  # the record's texts when it has them
    except DataError:
        return None
    return {letter: (pairs.without_last_words(transcripts[letter], len(endings[letter].split())), endings[letter])
            for letter in pairs.LETTERS}


def score_pair_turns(turns: Sequence[dict | None], score: Callable[[list], list[float]]) -> list[dict[str, float]]:
    """Letter → score per pair, from one call of `score` on every scorable pair's two requests; a pair without
    turns (None) scores a tie, which the harness counts as a failure."""
    requests = [turn[letter] for turn in turns if turn is not None for letter in pairs.LETTERS]
    scores = iter(score(requests) if requests else [])
    tie = dict.fromkeys(pairs.LETTERS, 0.0)
    return [{letter: next(scores) for letter in pairs.LETTERS} if turn is not None else dict(tie) for turn in turns]


# --------------------------------------------------------------------------------------------------------------------
# OpenAI-compatible chat server


def chat_completions_url(url: str) -> str:
    """Accept `http://host:port`, `.../v1` or the full `.../v1/chat/completions`."""
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def wav_base64(path: str | os.PathLike) -> str:
    """The audio as a 16 kHz mono 16-bit WAV, base64: every server that takes `input_audio` takes this."""
    import soundfile as sf

    from textpro.audio import SAMPLE_RATE, load_audio

    samples = load_audio(path, max_seconds=None)
    buffer = io.BytesIO()
    sf.write(buffer, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass(eq=False)  # compared and hashed by identity, as before it was a dataclass
class EndpointResponder:
    """Answers from an OpenAI-compatible `/v1/chat/completions` server; audio goes in as an `input_audio` part.

    Transient failures (connection refused, timeouts, HTTP 429 and 5xx) are retried with exponential backoff;
    anything else stops the run with a one-line ModelError (the harness has cached what was answered so far)."""

    url: str  # the server (or its /v1 base); the chat-completions URL after construction
    _: KW_ONLY
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)  # None: $OPENAI_API_KEY; never in a repr or a log
    name: str | None = None  # None: "endpoint:<model or url>"
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 1.0
    concurrency: int = 4  # requests in flight; also the harness's batch size
    max_tokens: int = 256
    temperature: float = 0.0
    system_prompt: str | None = None

    def __post_init__(self):
        self.url = chat_completions_url(self.url)
        if self.api_key is None:
            self.api_key = os.environ.get("OPENAI_API_KEY")
        self.name = self.name or f"endpoint:{self.model or self.url}"
        self.batch_size = self.concurrency

    def answer_audio(self, queries: list[AudioQuery]) -> list[str]:
        return self._map(self._audio_message, queries)

    def answer_text(self, prompts: list[str]) -> list[str]:
        return self._map(lambda prompt: {"role": "user", "content": prompt}, prompts)

    def _map(self, message_for, inputs: Sequence) -> list[str]:
        if len(inputs) <= 1 or self.concurrency <= 1:
            return [self._complete(message_for(x)) for x in inputs]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda x: self._complete(message_for(x)), inputs))

    @staticmethod
    def _audio_message(query: AudioQuery) -> dict:
        parts: list[dict] = [{"type": "input_audio", "input_audio": {"data": wav_base64(query.audio_path),
                                                                     "format": "wav"}}]
        if query.instruction:
            parts.append({"type": "text", "text": query.instruction})
        return {"role": "user", "content": parts}

    def _complete(self, message: dict) -> str:
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        body = {"messages": messages + [message], "max_tokens": self.max_tokens, "temperature": self.temperature,
                "stream": False}
        if self.model:
            body["model"] = self.model
        reply = self._post(json.dumps(body).encode("utf-8"))
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ModelError(f"endpoint {self.url} answered without choices[0].message.content: "
                             f"{json.dumps(reply)[:200]}") from None
        if isinstance(content, list):  # some servers answer with content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return (content or "").strip()

    def _post(self, data: bytes) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last_problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace").strip().replace("\n", " ")[:200]
                last_problem = f"HTTP {exc.code}" + (f": {detail}" if detail else "")
                if exc.code != 429 and exc.code < 500:
                    raise ModelError(f"endpoint {self.url} refused the request ({last_problem})") from None
            except json.JSONDecodeError:
                raise ModelError(f"endpoint {self.url} answered with something that is not JSON") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last_problem = str(reason) or type(exc).__name__
        raise ModelError(f"endpoint {self.url} failed after {self.retries + 1} tries ({last_problem})")


# --------------------------------------------------------------------------------------------------------------------
# TextPro-SLM checkpoints

SLM_CONFIG_NAME = "textpro_config.json"


class SLMResponder:
    """Implements textpro.eval's SpeechResponder: `answer_audio(list[AudioQuery]) -> list[str]`, greedy, batched
    (one padded WhisperPro batch and one left-padded LLM batch per call). An encoder-baseline checkpoint (config
    `audio_input: encoder_baseline`) runs through `slm.encoder_baseline.EncoderBaselinePipeline` instead: Whisper
    encoder, no decoding."""

    def __init__(self, pipeline, name: str, batch_size: int = 8, max_new_tokens: int = 64):
        self.pipeline = pipeline  # textpro.pipeline.TextPro
        self.name = name  # the eval cache key: a retrained checkpoint must not reuse old answers
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, batch_size: int = 8, max_new_tokens: int = 64,
                        whisperpro: str | os.PathLike | None = None) -> SLMResponder:
        from textpro.pipeline import TextPro
        from textpro.slm.config import CONFIG_NAME, TextProSLMConfig
        from textpro.slm.release import is_release_slm

        directory = Path(directory).resolve()
        is_encoder_baseline = ((directory / CONFIG_NAME).is_file() and not is_release_slm(directory)
                               and TextProSLMConfig.load(directory).audio_input == "encoder_baseline")
        if is_encoder_baseline:  # the continuous-encoder baseline
            from textpro.slm.encoder_baseline import EncoderBaselinePipeline

            pipeline = EncoderBaselinePipeline.from_pretrained(directory, whisper=whisperpro)
        else:
            pipeline = TextPro.from_pretrained(directory, whisperpro=whisperpro)  # ModelError unless a TextPro-SLM
        weights = sorted(p for p in directory.iterdir() if p.suffix in (".safetensors", ".json"))
        fingerprint = hashlib.sha256("".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                                             for p in weights).encode()).hexdigest()[:12]
        return cls(pipeline, f"textpro-slm:{directory.name}:{fingerprint}", batch_size, max_new_tokens)

    def answer_audio(self, queries: list) -> list[str]:
        turns = [(str(query.audio_path), query.instruction) for query in queries]
        results = self.pipeline.chat_batch(turns, max_new_tokens=self.max_new_tokens)
        return [result.answer for result in results]

    @property
    def has_transcript(self) -> bool:
        """Whether answers come from a WhisperPro transcript (not so for the continuous-adapter baseline)."""
        from textpro.pipeline import TextPro

        return isinstance(self.pipeline, TextPro)

    @property
    def has_neutral(self) -> bool:
        """Whether the model can answer with its prosody replaced by the training mean (`neutral_speech`)."""
        return self.has_transcript and hasattr(self.pipeline.slm, "neutral_speech")

    def answer_audio_variants(self, queries: list) -> list[dict]:
        """For `textpro eval`'s diagnostics: per query the answer as heard, the answer with the prosody replaced by the
        training mean and WhisperPro's transcript (None where the model has none), from one transcription per clip."""
        if not self.has_transcript:
            return [{"answer": answer, "neutral": None, "transcript": None} for answer in self.answer_audio(queries)]
        speech = self.pipeline.listen([str(query.audio_path) for query in queries])
        instructions = [query.instruction for query in queries]
        generate = self.pipeline.slm.generate
        answers = generate(list(zip(speech, instructions, strict=True)), max_new_tokens=self.max_new_tokens)
        neutral = [None] * len(queries)
        if self.has_neutral:
            calm = [self.pipeline.slm.neutral_speech(s) for s in speech]
            neutral = generate(list(zip(calm, instructions, strict=True)), max_new_tokens=self.max_new_tokens)
        return [{"answer": a, "neutral": n, "transcript": s.text}
                for a, n, s in zip(answers, neutral, speech, strict=True)]

    def score_pairs(self, queries: list[PairQuery], neutral: bool = True) -> list[dict]:
        """For `textpro eval`'s pair items, per pair from one transcription per clip: "speech", letter → the mean
        log-probability of that clip's ending after its story heard as speech (WhisperPro's tokens and prosody vectors
        before the ending); "neutral", the same with the prosody replaced by the training mean (None without it or
        when not asked); "transcript", letter → [story, ending] as the cascade reads them (`eval.pairs`)."""
        if not self.has_transcript:
            raise ConfigError(f"{self.name} reads no transcript: it cannot score pair items (spoken StoryCloze)")
        slm, transcriber = self.pipeline.slm, self.pipeline.transcriber
        heard = self.pipeline.listen([str(query.clips[letter]) for query in queries for letter in pairs.LETTERS])
        spoken, read = [], []
        for index, query in enumerate(queries):
            speech = dict(zip(pairs.LETTERS, heard[2 * index:2 * index + 2], strict=True))
            turns = pair_turns({letter: s.text for letter, s in speech.items()}, query.texts)
            read.append(turns)
            spoken.append(None if turns is None else {  # the story as heard: the clip up to its ending
                letter: (transcriber.without_last_words(speech[letter], len(ending.split())), None, ending)
                for letter, (_, ending) in turns.items()})
        scores = score_pair_turns(spoken, slm.response_logprobs)
        calm = [None] * len(queries)
        if neutral and self.has_neutral:
            calm = score_pair_turns([None if turns is None else {k: (slm.neutral_speech(s), i, e) for k, (s, i, e) in
                                                        turns.items()} for turns in spoken], slm.response_logprobs)
        return [{"speech": s, "neutral": n, "transcript": t} for s, n, t in zip(scores, calm, read, strict=True)]


def speech_responder_for_model(model_dir: str | os.PathLike, **kwargs) -> SpeechResponder:
    """The SpeechResponder for a TextPro-SLM checkpoint directory.

    `SLMResponder.from_pretrained(model_dir, **kwargs)`: an object with `name`, `batch_size` and
    `answer_audio(list[AudioQuery]) -> list[str]` (greedy decoding; the instruction, when given, goes after the
    transcript in the user turn; None means "answer the spoken question").
    """
    directory = Path(model_dir)
    if not (directory / SLM_CONFIG_NAME).is_file():
        raise ModelError(f"{directory} is not a TextPro-SLM checkpoint (no {SLM_CONFIG_NAME})")
    return SLMResponder.from_pretrained(directory, **kwargs)
