"""The input builder: one spoken turn -> LLM token ids with prosody placeholders, inside the LLM's chat template.

Layout of the user turn (the rest is the LLM's own chat template, system prompt included):

    global:      <P> t_1 … t_T                      [sep instruction]
    interleave:  <P> t_1 … t_r <P> t_r+1 … t_2r …   [sep instruction]     (M = max(1, ⌈T/r⌉) placeholders)

t = the WhisperPro transcript re-tokenized by the LLM tokenizer, <P> = the placeholder token whose input embedding
the model replaces by a projected prosody vector (global: the utterance vector; interleave: the N WhisperPro vectors
split into M contiguous groups, each mean-pooled). Speech comes first and the optional instruction ("What emotion
does the speaker convey?") after it, so a spoken question with no instruction is exactly the text LLM's prompt with
the transcript as the user message, plus the placeholder(s): the text path the teacher sees in distillation.

The template is rendered once per instruction around a sentinel and split there; the pieces are tokenized apart
(`add_special_tokens=False`, the template holds its own special tokens), so T is the transcript's own token count
and the training prompt is token-for-token the generation prompt.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from textpro.errors import TextproError
from textpro.slm.config import TextProSLMConfig
from textpro.text_llm import render_chat
from textpro.train.kind import IGNORE_INDEX  # the label value the loss skips
from textpro.whisperpro.speech_tokens import SpeechTokens

TEMPLATE_CACHE_SIZE = 256  # rendered chat templates kept per builder (one per distinct instruction)
_SLOT = "\ue000"  # private-use character: marks where content goes in a rendered chat template


def as_speech_tokens(speech) -> SpeechTokens:
    """SpeechTokens as is; a cached feature record (mapping with `text`, `prosody` (N, d) and optionally `utterance`
    (d,)) becomes a SpeechTokens without times, which is all the LLM side needs."""
    if isinstance(speech, SpeechTokens):
        return speech
    if isinstance(speech, Mapping):
        prosody = np.asarray(speech["prosody"], dtype=np.float32).reshape(-1, np.shape(speech["prosody"])[-1])
        utterance = speech.get("utterance")
        if utterance is None:
            if len(prosody) == 0:
                raise TextproError("speech features have no prosody vectors and no utterance vector")
            utterance = prosody.mean(axis=0)
        n = len(prosody)
        acoustics, encoder_mean = speech.get("acoustics"), speech.get("encoder_mean")
        return SpeechTokens(text=str(speech["text"]), token_ids=list(speech.get("token_ids", [])),
                            starts=np.zeros(n, np.float32), ends=np.zeros(n, np.float32), prosody=prosody,
                            utterance=np.asarray(utterance, dtype=np.float32),
                            duration=float(speech.get("duration", 0)),
                            acoustics=None if acoustics is None else np.asarray(acoustics, dtype=np.float32),
                            encoder_mean=None if encoder_mean is None else np.asarray(encoder_mean, np.float32))
    raise TypeError(f"expected SpeechTokens or a mapping with 'text' and 'prosody', got {type(speech).__name__}")


def encoder_frames(speech) -> np.ndarray:
    """(K, d) float32 pooled encoder frames of an encoder-baseline input: a feature record with `encoder` (encoder
    cache, `textpro featurize --encoder-only`) or an object with `.frames` (slm.encoder_baseline.EncoderFrames)."""
    frames = speech.get("encoder") if isinstance(speech, Mapping) else getattr(speech, "frames", None)
    if frames is None:
        raise TextproError("encoder_baseline input needs Whisper encoder frames: featurize with --encoder-only "
                           "(a WhisperPro feature cache holds prosody vectors, not encoder states)")
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 2 or len(frames) == 0:
        raise TextproError(f"expected encoder frames of shape (K >= 1, d), got {frames.shape}")
    return frames


def positions_per_second(builder: InputBuilder, speeches) -> float:
    """LLM input positions per second of audio over some utterances (total positions / total seconds): the
    efficiency measure next to the adapter baseline. Each speech needs a `duration` (key or attribute)."""
    positions = seconds = 0.0
    for speech in speeches:
        positions += builder.speech_positions(speech)
        seconds += float(speech["duration"] if isinstance(speech, Mapping) else speech.duration)
    if seconds <= 0:
        raise TextproError("no audio duration to measure positions per second against")
    return positions / seconds


@dataclass
class Prompt:
    """One tokenized prompt (generation) or prompt + response (training)."""

    input_ids: list[int]  # (L,)
    labels: list[int] | None  # (L,) IGNORE_INDEX outside the response; None for a generation prompt
    prosody: np.ndarray  # (M, d_whisper) float32: one row per placeholder, in order


class InputBuilder:
    """Builds prompts and batches for one tokenizer + config. The placeholder token must already be in the tokenizer
    (TextProSLM.from_base adds it when needed)."""

    def __init__(self, tokenizer, config: TextProSLMConfig):
        if config.placeholder_token is None:
            raise TextproError("config.placeholder_token is unset: build the model with TextProSLM.from_base")
        if tokenizer.chat_template is None:
            raise TextproError("the LLM tokenizer has no chat template: use an instruct/chat model")
        self.tokenizer = tokenizer
        self.config = config
        self.placeholder_id = tokenizer.convert_tokens_to_ids(config.placeholder_token)
        token = tokenizer.convert_ids_to_tokens(self.placeholder_id) if self.placeholder_id is not None else None
        if token != config.placeholder_token:
            raise TextproError(f"placeholder token {config.placeholder_token!r} is not in the LLM tokenizer")
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.pad_id = pad if pad is not None else 0  # padded positions are masked, any id will do
        # rendered templates by (instruction, system prompt, separator), least recently used dropped first: a server
        # sees a new instruction with every request
        self._templates: OrderedDict[tuple, tuple[list[int], list[int], list[int], list[int]]] = OrderedDict()

    # ---- template pieces ------------------------------------------------------------------------------------------
    def _clean(self, text: str) -> str:
        # user text must not smuggle in placeholders (the count of vectors would no longer match) or our sentinel
        return text.replace(self.config.placeholder_token, "").replace(_SLOT, "").strip()

    def template(self, instruction: str | None) -> tuple[list[int], list[int], list[int], list[int]]:
        """Token ids (before speech, after speech up to the assistant's answer, answer head, answer tail).
        head: what the template puts before the answer inside the assistant turn (usually nothing);
        tail: the end-of-turn the model must learn to emit (e.g. `<|im_end|>`), whitespace after it dropped."""
        key = (instruction, self.config.system_prompt, self.config.instruction_separator)
        if key not in self._templates:
            user = _SLOT + (self.config.instruction_separator + self._clean(instruction) if instruction else "")
            system = self.config.system_prompt
            prompt = render_chat(self.tokenizer, user, system)
            full = render_chat(self.tokenizer, user, system, assistant=_SLOT)
            before, after = prompt.split(_SLOT)
            if full.startswith(prompt) and _SLOT in full[len(prompt):]:
                head, tail = full[len(prompt):].split(_SLOT)
                tail = tail.rstrip()
            else:  # a template that rewrites history (rare): answer, then EOS
                head, tail = "", ""
            encode = lambda s: self.tokenizer.encode(s, add_special_tokens=False) if s else []  # noqa: E731
            tail_ids = encode(tail) or [self.tokenizer.eos_token_id]
            self._templates[key] = (encode(before), encode(after), encode(head), tail_ids)
            if len(self._templates) > TEMPLATE_CACHE_SIZE:
                self._templates.popitem(last=False)
        self._templates.move_to_end(key)
        return self._templates[key]

    # ---- speech ---------------------------------------------------------------------------------------------------
    def speech(self, speech) -> tuple[list[int], np.ndarray]:
        """Placeholders + transcript ids, and the prosody rows (M, d) that go into the placeholders in order.
        Adapter mode: K placeholders and the K pooled encoder frames, no transcript."""
        if self.config.audio_input == "encoder_baseline":
            frames = encoder_frames(speech)  # (K, d)
            if frames.shape[-1] != self.config.d_whisper:
                raise TextproError(f"encoder frames have width {frames.shape[-1]}, "
                                   f"the model expects d_whisper = {self.config.d_whisper}")
            return [self.placeholder_id] * len(frames), frames
        speech = as_speech_tokens(speech)
        text_ids = self.tokenizer.encode(self._clean(speech.text), add_special_tokens=False)  # (T,)
        if speech.utterance.shape[-1] != self.config.d_whisper:
            raise TextproError(f"prosody vectors have width {speech.utterance.shape[-1]}, "
                               f"the model expects d_whisper = {self.config.d_whisper}")
        if self.config.injection == "global":
            return [self.placeholder_id] + text_ids, self._with_measured(speech, speech.utterance[None])  # (1, d')
        r = self.config.interleave_ratio
        groups = max(1, math.ceil(len(text_ids) / r))  # M; an empty transcript still carries its prosody
        ids = []
        for j in range(groups):
            ids += [self.placeholder_id] + text_ids[j * r:(j + 1) * r]
        return ids, self._with_measured(speech, speech.grouped(groups))  # (M, d')

    def _with_measured(self, speech: SpeechTokens, rows: np.ndarray) -> np.ndarray:
        """(M, d) learned rows -> (M, d + k + e): the utterance's measured acoustics (k) and its mean encoder state
        (e = d) appended to every row, each only for a model that reads it (config.n_acoustic, config.n_encoder)."""
        rows = rows.astype(np.float32)
        extra = []
        for wanted, value, width, what in (
                (self.config.acoustic_features, speech.acoustics, self.config.n_acoustic, "measured acoustics"),
                (self.config.encoder_summary, speech.encoder_mean, self.config.n_encoder, "the mean encoder state")):
            if not wanted:
                continue
            if value is None:
                raise TextproError(f"this model reads {what}, but the speech has none: featurize again with this "
                                   "version of textpro (older feature caches lack them)")
            extra.append(np.asarray(value, dtype=np.float32).reshape(1, -1))
            if extra[-1].shape[1] != width:
                raise TextproError(f"speech has {what} of width {extra[-1].shape[1]}, the model reads {width}")
        return np.concatenate([rows, *(np.repeat(x, len(rows), axis=0) for x in extra)], axis=1)

    def speech_positions(self, speech) -> int:
        """LLM input positions the audio takes (placeholders + transcript tokens; the chat template not counted)."""
        return len(self.speech(speech)[0])

    def prompt(self, speech, instruction: str | None = None) -> Prompt:
        before, after, _, _ = self.template(instruction)
        speech_ids, prosody = self.speech(speech)
        return Prompt(before + speech_ids + after, None, prosody)

    def example(self, speech, instruction: str | None, response: str, max_length: int | None = None) -> Prompt:
        """Prompt + response + end of turn; only the assistant's tokens (head, response, tail) are labelled."""
        _, _, head, tail = self.template(instruction)
        prompt = self.prompt(speech, instruction)
        answer = head + self.tokenizer.encode(response.strip(), add_special_tokens=False) + tail
        ids = prompt.input_ids + answer
        labels = [IGNORE_INDEX] * len(prompt.input_ids) + answer
        if max_length is not None and len(ids) > max_length:
            if len(prompt.input_ids) >= max_length:  # cutting the prompt could drop placeholders or the question
                raise TextproError(f"prompt of {len(prompt.input_ids)} tokens does not fit max_length {max_length}")
            ids, labels = ids[:max_length], labels[:max_length]
        return Prompt(ids, labels, prompt.prosody)

    # ---- batches --------------------------------------------------------------------------------------------------
    def collate(self, prompts: Sequence[Prompt], padding_side: str) -> dict[str, torch.Tensor]:
        """input_ids, attention_mask (B, L), [labels (B, L)], prosody_vectors (B, M_max, d + k + e), prosody_mask
        (B, M_max).
        Every tensor is batch-first, so a batch can be split or gathered along dim 0 like any other."""
        width = max(len(p.input_ids) for p in prompts)
        groups = max(len(p.prosody) for p in prompts)
        batch = len(prompts)
        input_ids = torch.full((batch, width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((batch, width), dtype=torch.long)
        labels = torch.full((batch, width), IGNORE_INDEX, dtype=torch.long)
        width_in = self.config.projector_width  # what the projector reads per row
        prosody = torch.zeros((batch, groups, width_in), dtype=torch.float32)
        prosody_mask = torch.zeros((batch, groups), dtype=torch.bool)
        for i, p in enumerate(prompts):
            n = len(p.input_ids)
            cols = slice(width - n, width) if padding_side == "left" else slice(0, n)
            input_ids[i, cols] = torch.tensor(p.input_ids)
            attention_mask[i, cols] = 1
            if p.labels is not None:
                labels[i, cols] = torch.tensor(p.labels)
            prosody[i, :len(p.prosody)] = torch.from_numpy(p.prosody)
            prosody_mask[i, :len(p.prosody)] = True
        out = {"input_ids": input_ids, "attention_mask": attention_mask,
               "prosody_vectors": prosody, "prosody_mask": prosody_mask}
        if any(p.labels is not None for p in prompts):
            out["labels"] = labels
        return out

    def build_training_batch(self, examples: Sequence, max_length: int | None = None) -> dict[str, torch.Tensor]:
        """examples: (speech, instruction or None, response) tuples or mappings with those keys; speech is
        SpeechTokens or a cached feature record. Right padding."""
        prompts = []
        for ex in examples:
            if isinstance(ex, Mapping):
                speech, instruction, response = ex["speech"], ex.get("instruction"), ex["response"]
            else:
                speech, instruction, response = ex
            prompts.append(self.example(speech, instruction, response, max_length))
        return self.collate(prompts, padding_side="right")

    def build_generation_batch(self, requests: Sequence) -> dict[str, torch.Tensor]:
        """requests: SpeechTokens (or feature records), or (speech, instruction) pairs. Left padding, so every row's
        next token is generated at the same column."""
        prompts = []
        for req in requests:
            speech, instruction = req if isinstance(req, tuple) else (req, None)
            prompts.append(self.prompt(speech, instruction))
        return self.collate(prompts, padding_side="left")


def build_training_batch(examples: Sequence, tokenizer, config: TextProSLMConfig,
                         max_length: int | None = None) -> dict[str, torch.Tensor]:
    """Collate for training: `loss = model(**build_training_batch(examples, model.tokenizer, model.config)).loss`.
    Prefer `model.builder.build_training_batch` in a loop (it caches the rendered templates)."""
    return InputBuilder(tokenizer, config).build_training_batch(examples, max_length)
