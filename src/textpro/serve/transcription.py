"""`/v1/audio/transcriptions`: its form parameters, checked and bounded, and the segments of `verbose_json`
(the words grouped into phrases, as OpenAI's segments are).

WhisperPro returns one token stream per clip (no timestamp tokens), so phrases are cut where a word ends a
sentence or a pause between words is long.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile

from textpro.serve.errors import APIError
from textpro.serve.limits import check_text_chars

PAUSE_SECONDS = 0.5  # a gap this long between two words starts a new segment
SENTENCE_END = (".", "?", "!")


def segments_of(words: list[dict]) -> list[dict]:
    """words: [{"text", "start", "end", "f0_mean", "energy_db", ...}] -> [{"id", "start", "end", "text", ...}]."""
    groups: list[list[dict]] = []
    for word in words:
        new = (not groups or word["start"] - groups[-1][-1]["end"] >= PAUSE_SECONDS
               or groups[-1][-1]["text"].rstrip().endswith(SENTENCE_END))
        if new:
            groups.append([word])
        else:
            groups[-1].append(word)
    segments = []
    for i, group in enumerate(groups):
        voiced = [w["f0_mean"] for w in group if w.get("f0_mean") is not None]
        segments.append({
            "id": i, "start": group[0]["start"], "end": group[-1]["end"],
            "text": "".join(w["text"] if w["text"].startswith(" ") or j == 0 else " " + w["text"]
                            for j, w in enumerate(group)).strip(),
            "f0_mean": round(sum(voiced) / len(voiced), 1) if voiced else None,
        })
    return segments


# ------------------------------------------------------------------------------------------------ parameters
TRANSCRIPTION_FORMATS = ("json", "verbose_json", "text")
LANGUAGES = ("en", "english")  # WhisperPro is run with language="en" (serve/engine.py loads it so)
GRANULARITIES = ("word", "segment")
MAX_FORM_FIELDS = 16  # OpenAI's endpoint has 8 parameters; a form with hundreds of fields is not a client's mistake


@dataclass
class TranscriptionParams:
    file: UploadFile
    model: str | None
    response_format: str


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise APIError(400, f"{name}: expected a text field, got a file", param=name, code="invalid_request")
    return value


def transcription_params(form: FormData, max_text_chars: int) -> TranscriptionParams:
    """OpenAI's form parameters, each checked before the upload is decoded. `prompt` and `temperature` are accepted
    for compatibility and bounded, but unused: WhisperPro decodes greedily and without a prompt."""
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise APIError(400, "file: Field required (a multipart upload named `file`)", param="file",
                       code="invalid_request")
    response_format = _field(form, "response_format") or "json"
    if response_format not in TRANSCRIPTION_FORMATS:
        raise APIError(400, f"response_format {response_format!r} is not supported "
                       f"(use one of {', '.join(TRANSCRIPTION_FORMATS)})", param="response_format",
                       code="unsupported_value")
    language = _field(form, "language")
    if language is not None and language.strip().lower() not in LANGUAGES:
        raise APIError(400, f"language {language[:40]!r} is not supported: this model transcribes English (en)",
                       param="language", code="unsupported_value")
    check_text_chars(_field(form, "prompt"), max_text_chars, "prompt")
    temperature = _field(form, "temperature")
    if temperature is not None:
        try:
            ok = 0.0 <= float(temperature) <= 1.0
        except ValueError:
            ok = False
        if not ok:
            raise APIError(400, "temperature: a number from 0 to 1", param="temperature", code="invalid_value")
    for granularity in form.getlist("timestamp_granularities[]"):
        if granularity not in GRANULARITIES:
            raise APIError(400, f"timestamp_granularities[]: {str(granularity)[:40]!r} is not one of word, segment",
                           param="timestamp_granularities[]", code="invalid_value")
    return TranscriptionParams(file, _field(form, "model"), response_format)
