"""Transcription → SpeechTokens: what was said, when, and how (one prosody vector per token), in one decoding pass.

    transcriber = Transcriber.from_pretrained("whisper-tiny.en")     # or a WhisperPro / any HF Whisper directory
    tokens = transcriber.transcribe("clip.wav")                      # SpeechTokens
    batch = transcriber.transcribe([clip_a, clip_b])                 # list[SpeechTokens], padded batch

Per utterance: load and check the audio; if longer than 30 s, cut it at pauses (`segment.py`). Clips of one
segment are decoded together in padded batches; long audio segment by segment, optionally with the previous
segment's text as the decoder's prompt (`<|startofprev|>` …; off by default: tiny.en then copies the prompt
instead of transcribing, WER 27% against 0.7% without it on a 2-minute piper clip). Decoding is greedy with a
KV cache (`WhisperPro.greedy_decode`) and keeps decoder layer k's state at each emitted token; token times come
from one extra teacher-forced pass over the alignment heads (`alignment.py`), with token edges moved out of pauses
by the audio's energy.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from textpro.acoustics import utterance_acoustics
from textpro.audio import (
    HOP_SAMPLES,
    SAMPLE_RATE,
    SILENCE_PEAK,
    TRANSCRIBE_MAX_SECONDS,
    WINDOW_SECONDS,
    AudioSource,
    load_audio,
    log_mel_batch,
)
from textpro.errors import ConfigError, ModelError
from textpro.whisperpro.alignment import token_start_times, trim_silence
from textpro.whisperpro.segment import split_at_pauses
from textpro.whisperpro.speech_tokens import SpeechTokens

MAX_TOKENS_PER_SECOND = 8  # fast speech is ~5 tokens/s; more than this is a decoder stuck in a loop
COMPRESSION_RATIO_LIMIT = 2.4  # openai/whisper's threshold: text this compressible is a repetition loop


@dataclass
class Word:
    text: str
    start: float  # seconds from the start of the audio
    end: float


@dataclass
class _Decoded:
    """One segment's result, times relative to the segment's start."""

    tokens: list[int]
    starts: np.ndarray  # (N,) seconds
    ends: np.ndarray  # (N,) seconds
    prosody: np.ndarray  # (N, d)


class Transcriber:
    """A WhisperPro with its processor and decoding options. Load once, transcribe many."""

    def __init__(self, model, processor, language: str | None = "en", full_window: bool = False,
                 batch_size: int = 8, condition_on_previous_text: bool = False, loop_fallback: bool = True,
                 measure_acoustics: bool = False, measure_encoder_mean: bool = False):
        """model: a WhisperPro. language: for multilingual checkpoints ("en" by default; None detects it per
        utterance); English-only checkpoints ignore it. full_window: pad every clip to Whisper's 30 s window (HF's
        behaviour, for comparison) instead of the clip's own frames plus `config.encoder_padding_seconds`.
        condition_on_previous_text: in long audio, prompt each segment with the previous segment's text.
        loop_fallback: decode again in the 30 s window any clip whose short-window decoding loops.
        measure_acoustics: also measure each clip's pitch, rate and pauses (SpeechTokens.acoustics, an F0 pass over
        the waveform): only for an SLM that reads them, and for the feature caches it trains on.
        measure_encoder_mean: also average each clip's encoder states (SpeechTokens.encoder_mean, one more encoder
        pass on the clip's own frames): likewise only for an SLM that reads it."""
        from textpro.whisperpro.model import WhisperPro

        if not isinstance(model, WhisperPro):
            raise ModelError(f"Transcriber needs a WhisperPro, got {type(model).__name__}")
        self.model = model.eval()
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.full_window = full_window or model.config.encoder_padding_seconds is None
        self.batch_size = batch_size
        self.loop_fallback = loop_fallback
        self.condition_on_previous_text = condition_on_previous_text
        self.measure_acoustics = measure_acoustics
        self.measure_encoder_mean = measure_encoder_mean

        generation = model.generation_config
        self.eot = generation.eos_token_id if isinstance(generation.eos_token_id, int) else generation.eos_token_id[0]
        self.sot = generation.decoder_start_token_id
        self.no_timestamps = generation.no_timestamps_token_id
        self.prev_sot = getattr(generation, "prev_sot_token_id", None)
        self.suppress_tokens = list(generation.suppress_tokens or [])
        self.begin_suppress_tokens = list(generation.begin_suppress_tokens or [])
        # openai's default when a checkpoint names no alignment heads: every head of the upper half of the decoder.
        layers, heads = model.config.decoder_layers, model.config.decoder_attention_heads
        upper_half = [[layer, head] for layer in range(layers // 2, layers) for head in range(heads)]
        self.alignment_heads = [list(h) for h in (getattr(generation, "alignment_heads", None) or upper_half)]
        # openai's sample_len: half the decoder's context for new tokens, the other half for the prompt.
        self.max_new_tokens = getattr(generation, "max_new_tokens", None) or model.config.max_target_positions // 2

        self.multilingual = bool(getattr(generation, "is_multilingual", False))
        self.language_id = None
        if self.multilingual:
            self.task_id = generation.task_to_id["transcribe"]
            if language is not None:
                code = language.strip("<|>").lower()
                if f"<|{code}|>" not in generation.lang_to_id:
                    raise ConfigError(f"language {language!r} is not one this checkpoint knows")
                self.language_id = generation.lang_to_id[f"<|{code}|>"]

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **options) -> Transcriber:
        """A base-model name ("whisper-tiny.en", "whisper-base"), a WhisperPro checkpoint or any HF Whisper dir."""
        from transformers import WhisperProcessor

        from textpro.hub import resolve_model
        from textpro.whisperpro.model import WhisperPro

        path = resolve_model(name_or_path)
        from textpro.whisperpro.release import is_release_whisperpro, load_release_whisperpro

        if is_release_whisperpro(path):  # the authors' released WhisperPro, read without its code
            options.setdefault("condition_on_previous_text", True)  # their long-audio recipe (30Plus)
            return cls(*load_release_whisperpro(path), **options)
        try:
            model = WhisperPro.from_pretrained(path, dtype=torch.float32)
            processor = WhisperProcessor.from_pretrained(path)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path}: not a loadable Whisper checkpoint: {str(exc).splitlines()[0]}") from None
        return cls(model, processor, **options)

    # ----------------------------------------------------------------------------------------------- public
    @torch.inference_mode()
    def transcribe(self, audio: AudioSource | list[AudioSource], sample_rate: int | None = None,
                   max_seconds: float | None | str = TRANSCRIBE_MAX_SECONDS,
                   cancelled: Sequence[Callable[[], bool]] | None = None,
                   ) -> SpeechTokens | list[SpeechTokens | None] | None:
        """audio: a path, file bytes or an array (16 kHz unless `sample_rate` says otherwise), or a list of them
        (then a list comes back, in order). max_seconds: the longest audio accepted (None: no limit).
        cancelled: one predicate per source, asked before every decoding step (a server's cancelled requests);
        a source whose predicate turns true leaves the decoding batch at the next step and gets None."""
        single = not isinstance(audio, (list, tuple))
        sources = [audio] if single else list(audio)
        clips = []
        for source in sources:
            rate = SAMPLE_RATE if isinstance(source, np.ndarray) and sample_rate is None else sample_rate
            clips.append(load_audio(source, rate, max_seconds=max_seconds))

        results: list[SpeechTokens | None] = [None] * len(clips)
        segmentations = [split_at_pauses(clip) for clip in clips]
        short = [i for i, segments in enumerate(segmentations) if len(segments) == 1]
        short.sort(key=lambda i: len(clips[i]))  # similar lengths together: less padding per batch
        never = lambda: False  # noqa: E731
        cancelled = list(cancelled) if cancelled is not None else [never] * len(clips)
        for first in range(0, len(short), self.batch_size):
            indices = short[first : first + self.batch_size]
            decoded = self._decode([clips[i] for i in indices], cancelled=[cancelled[i] for i in indices])
            for i, one in zip(indices, decoded, strict=True):
                results[i] = None if one is None else self._speech_tokens([one], [0.0], len(clips[i]))
        for i, segments in enumerate(segmentations):
            if len(segments) > 1:
                results[i] = self._transcribe_long(clips[i], segments, cancelled[i])
        if self.measure_acoustics:  # how it was said, measured from the waveform
            for clip, result in zip(clips, results, strict=True):
                if result is not None:
                    result.acoustics = utterance_acoustics(clip, max(1, len(result.words))).vector()
        if self.measure_encoder_mean:  # how the whole clip sounds, in the encoder's own terms
            for first in range(0, len(clips), self.batch_size):
                batch = clips[first : first + self.batch_size]
                for result, states in zip(results[first : first + self.batch_size], self.encoder_states(batch),
                                          strict=True):
                    if result is not None:
                        result.encoder_mean = states.mean(axis=0)
        return results[0] if single else results

    @torch.inference_mode()
    def encoder_states(self, clips: Sequence[np.ndarray]) -> list[np.ndarray]:
        """(S_i, d) float32 encoder states of 16 kHz clips (S_i = 50 per second), one padded batch per call. Each
        clip is encoded on its own frames only (no 30 s padding, no added silence; padded frames masked, as
        `WhisperPro.encode` does), in 30 s windows."""
        model, extractor = self.model, self.processor.feature_extractor
        window = int(WINDOW_SECONDS * SAMPLE_RATE)  # longer audio is encoded window by window
        pieces = [(i, clip[start:start + window]) for i, clip in enumerate(clips)
                  for start in range(0, max(len(clip), 1), window)]
        features, mask, frames = log_mel_batch(extractor, [piece for _, piece in pieces])  # (P, n_mels, T), (P, T)
        states, _ = model.encode(features.to(model.device), mask.to(model.device))  # (P, S, d)
        per_clip: list[list[np.ndarray]] = [[] for _ in clips]
        for (i, _), n_mel, row in zip(pieces, frames, states.float().cpu().numpy(), strict=True):
            per_clip[i].append(row[:-(-n_mel // 2)])  # the piece's own encoder frames: ceil(T_j / 2)
        return [np.concatenate(parts) for parts in per_clip]

    # ----------------------------------------------------------------------------------------------- internals
    def _transcribe_long(self, samples: np.ndarray, segments: list[tuple[int, int]],
                         cancelled: Callable[[], bool]) -> SpeechTokens | None:
        """Segments in order; with `condition_on_previous_text`, each prompted with the previous segment's text
        (as much of it as half the decoder's context holds, openai's limit). None once `cancelled()`."""
        decoded, previous = [], []
        prompt_room = self.model.config.max_target_positions // 2 - 1
        for start, end in segments:
            prompt = []
            if self.condition_on_previous_text and previous and self.prev_sot is not None:
                prompt = [self.prev_sot, *previous[-prompt_room:]]
            result = self._decode([samples[start:end]], prompt, cancelled=[cancelled])[0]
            if result is None:
                return None
            decoded.append(result)
            previous = result.tokens
        return self._speech_tokens(decoded, [start / SAMPLE_RATE for start, _ in segments], len(samples))

    def _decode(self, clips: list[np.ndarray], prompt: list[int] = (), full_window: bool | None = None,
                cancelled: Sequence[Callable[[], bool]] | None = None) -> list[_Decoded | None]:
        """One padded batch of ≤ 30 s clips → tokens, token times and prosody per clip (None for a clip whose
        `cancelled` turned true: its row left the decoding batch at the next step and is not aligned).

        On the clip's own frames, a checkpoint not fine-tuned that way can fall into a repetition loop. A row that
        loops (it hits the token budget, or its text compresses like a loop, openai's test) is decoded again in
        the full 30 s window: it costs time only where it happens."""
        full_window = self.full_window if full_window is None else full_window
        d_model = self.model.config.d_model
        empty = _Decoded([], np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros((0, d_model), np.float32))
        audible = [i for i, clip in enumerate(clips) if np.abs(clip).max() >= SILENCE_PEAK]
        results: list[_Decoded | None] = [empty] * len(clips)
        if not audible:
            return results
        out, prefixes, max_new = self._greedy([clips[i] for i in audible], prompt, full_window,
                                    None if cancelled is None else [cancelled[i] for i in audible])
        done = [row for row in range(len(audible)) if not out.cancelled[row]]
        timed = self._timed(out, prefixes, [clips[audible[row]] for row in done], done)
        for row, decoded in zip(done, timed, strict=True):
            results[audible[row]] = decoded
        for row in range(len(audible)):
            if out.cancelled[row]:
                results[audible[row]] = None
        if not full_window and self.loop_fallback:
            stuck = [audible[row] for row in done if self._looping(out.tokens[row], max_new)]
            if stuck:
                redone = self._decode([clips[i] for i in stuck], prompt, True,
                                      None if cancelled is None else [cancelled[i] for i in stuck])
                for i, decoded in zip(stuck, redone, strict=True):
                    results[i] = decoded
        return results

    def _greedy(self, clips: list[np.ndarray], prompt: list[int], full_window: bool,
                cancelled: Sequence[Callable[[], bool]] | None):
        """WhisperPro's greedy decoding of audible clips, the decoder prefix of each and the token budget."""
        features, attention_mask = self._features(clips, full_window)
        prefixes = self._prefixes(features, attention_mask)
        longest = max(len(clip) for clip in clips) / SAMPLE_RATE
        max_new = max(1, min(self.max_new_tokens, int(MAX_TOKENS_PER_SECOND * longest) + 16,
                             self.model.config.max_target_positions - len(prompt) - len(prefixes[0])))
        flags = None if cancelled is None else (lambda: [is_cancelled() for is_cancelled in cancelled])
        out = self.model.greedy_decode(
            features, attention_mask, [list(prompt) + prefix for prefix in prefixes], self.eot, max_new,
            self.suppress_tokens, self.begin_suppress_tokens, cancelled=flags,
        )
        return out, prefixes, max_new

    def _timed(self, out, prefixes: list[list[int]], clips: list[np.ndarray], rows: list[int]) -> list[_Decoded]:
        """Token times for the decoded `rows` of `out` (one teacher-forced pass over the alignment heads), silence
        trimmed; the clips are those rows' clips."""
        if not rows:
            return []
        index = torch.tensor(rows, device=out.encoder_states.device)
        states = out.encoder_states.index_select(0, index)
        mask = None if out.encoder_mask is None else out.encoder_mask.index_select(0, index)
        # Align over the clip's own audio only: never the silence padding, so no token ends after the audio does.
        audio_frames = [min(-(-(len(clip) // HOP_SAMPLES) // 2), states.shape[1]) for clip in clips]
        tokens = [out.tokens[row] for row in rows]
        times = token_start_times(self.model, states, mask, audio_frames, [prefixes[row] for row in rows],
                                  tokens, self.eot, self.alignment_heads)
        decoded = []
        for row, clip, row_times in zip(rows, clips, times, strict=True):
            starts, ends = trim_silence(row_times[:-1], row_times[1:], clip)
            decoded.append(_Decoded(out.tokens[row], starts, ends, out.prosody[row].float().cpu().numpy()))
        return decoded

    def _looping(self, tokens: list[int], budget: int) -> bool:
        if len(tokens) >= budget:
            return True
        text = self.tokenizer.decode(tokens, skip_special_tokens=True).encode("utf-8")
        return len(text) > 0 and len(text) / len(zlib.compress(text)) > COMPRESSION_RATIO_LIMIT

    def _features(self, clips: list[np.ndarray], full_window: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Log-mel (B, n_mels, T) and the real-frame mask (B, T) (None when no row is padded), both on the model's
        device (the mel is computed on the CPU). Each clip is first extended by `config.encoder_padding_seconds` of
        silence (up to the 30 s window), then batched by `log_mel_batch` (each mel alone, padded frames masked)."""
        extractor = self.processor.feature_extractor
        device = self.model.device
        if full_window:  # Whisper's way: every clip padded to 30 s and attended as a whole
            mel = extractor(clips, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
            return mel.to(device), None
        limit = int(WINDOW_SECONDS * SAMPLE_RATE)
        pad = int(self.model.config.encoder_padding_seconds * SAMPLE_RATE)
        padded = [np.concatenate([clip, np.zeros(max(0, min(pad, limit - len(clip))), np.float32)]) for clip in clips]
        features, attention_mask, frames = log_mel_batch(extractor, padded)  # (B, n_mels, T), (B, T)
        if len(set(frames)) == 1:
            return features.to(device), None
        return features.to(device), attention_mask.to(device)

    def _prefixes(self, features: torch.Tensor, attention_mask: torch.Tensor | None) -> list[list[int]]:
        """Per clip: SOT[, language, transcribe], notimestamps. With no language given for a multilingual
        checkpoint, the language is the likeliest language token after SOT (openai's detect_language)."""
        batch = features.shape[0]
        if not self.multilingual:
            return [[self.sot, self.no_timestamps]] * batch
        if self.language_id is not None:
            languages = [self.language_id] * batch
        else:
            encoder_states, encoder_mask = self.model.encode(features, attention_mask)
            hidden, _ = self.model.decode(torch.full((batch, 1), self.sot, device=features.device), encoder_states,
                                          encoder_mask)
            logits = self.model.proj_out(hidden[:, -1])  # (B, vocab)
            ids = torch.tensor(sorted(self.model.generation_config.lang_to_id.values()), device=logits.device)
            languages = ids[logits[:, ids].argmax(-1)].tolist()
        return [[self.sot, language, self.task_id, self.no_timestamps] for language in languages]

    def _speech_tokens(self, segments: list[_Decoded], offsets: list[float], samples: int) -> SpeechTokens:
        """Concatenate segments (times shifted by their offsets) into one utterance's SpeechTokens."""
        duration = samples / SAMPLE_RATE
        token_ids = [t for s in segments for t in s.tokens]
        starts = np.concatenate([s.starts + o for s, o in zip(segments, offsets, strict=True)]).astype(np.float32)
        ends = np.concatenate([s.ends + o for s, o in zip(segments, offsets, strict=True)]).astype(np.float32)
        starts, ends = np.minimum(starts, duration), np.minimum(ends, duration)
        prosody = np.concatenate([s.prosody for s in segments]).astype(np.float32)  # (N, d)
        # The utterance vector averages the segments' own means (equal weight per segment, as the paper's
        # long-audio extension does); one segment: the mean over its transcript tokens.
        means = [s.prosody.mean(axis=0) for s in segments if len(s.tokens)]
        utterance = np.mean(means, axis=0).astype(np.float32) if means else np.zeros(prosody.shape[1], np.float32)
        text = self.tokenizer.decode(token_ids, skip_special_tokens=True).strip()
        return SpeechTokens(text=text, token_ids=token_ids, starts=starts, ends=ends, prosody=prosody,
                            utterance=utterance, duration=duration,
                            words=self._words(token_ids, starts, ends))

    def _word_groups(self, token_ids: list[int]) -> list[list[int]]:
        """Positions in token_ids, one list per word: a token that starts with a space opens a word;
        punctuation-only tokens stay with the word before them."""
        groups: list[list[int]] = []
        for pos, token in enumerate(token_ids):
            piece = self.tokenizer.convert_ids_to_tokens(token)
            is_punctuation = not any(ch.isalnum() for ch in self.tokenizer.decode([token]))
            if (piece.startswith("Ġ") or not groups) and not (is_punctuation and groups):
                groups.append([pos])
            else:
                groups[-1].append(pos)
        return groups

    def _words(self, token_ids: list[int], starts: np.ndarray, ends: np.ndarray) -> list[Word]:
        """Group tokens into words (`_word_groups`). A word spans its first token's start to its last token's end."""
        words = []
        for group in self._word_groups(token_ids):
            text = self.tokenizer.decode([token_ids[p] for p in group]).strip()
            start, end = float(starts[group[0]]), float(ends[group[-1]])
            words.append(Word(text=text, start=round(start, 2), end=round(max(end, start), 2)))
        return words

    def without_last_words(self, speech: SpeechTokens, count: int) -> SpeechTokens:
        """The speech before its last `count` words (words as `_words` groups them): those tokens, their times and
        prosody vectors, the utterance vector their mean, the text their decoding. Spoken StoryCloze's story without
        its ending (`textpro.eval.pairs`). The measured acoustics stay the whole clip's: they come from the waveform,
        not from tokens."""
        if count <= 0:
            return speech
        groups = self._word_groups(speech.token_ids)
        keep = groups[-count][0] if count < len(groups) else 0  # the first token of the first word dropped
        prosody = np.asarray(speech.prosody[:keep], dtype=np.float32)
        utterance = prosody.mean(axis=0) if keep else np.asarray(speech.utterance, dtype=np.float32)
        end = float(speech.ends[keep - 1]) if keep else 0.0
        return dataclasses.replace(
            speech, text=self.tokenizer.decode(speech.token_ids[:keep], skip_special_tokens=True).strip(),
            token_ids=list(speech.token_ids[:keep]), starts=speech.starts[:keep], ends=speech.ends[:keep],
            prosody=prosody, utterance=utterance.astype(np.float32), duration=end,
            words=list(speech.words[:max(0, len(groups) - count)]))


__all__ = ["Transcriber", "Word"]
