"""espeak-ng through ctypes on the library that the PyPI package `espeakng-loader` ships (no apt, no binary).

Why ctypes instead of the `espeak-ng` command: one process-wide engine with no per-clip start-up (~800× real
time), and the engine's WORD events, which give ground-truth word start times in the audio.

libespeak-ng keeps its state in C globals (current voice, parameters, callback), so every call that touches it
holds `_LOCK`. Separate processes (multiprocessing) each get their own engine.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from textpro.errors import TextproError

# Constants from speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SSML = 0x10
_EVENT_LIST_TERMINATED, _EVENT_WORD = 0, 1
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4, "wordgap": 7}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """`espeak_EVENT`: audio_position is in ms from the start of the synthesis; text_position is 1-based."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class WordEvent:
    text_position: int  # 0-based character offset of the word in the text that was spoken (markup included)
    length: int  # characters
    start: float  # seconds from the start of the clip


class _Engine:
    """The one libespeak-ng instance of this process. Use `engine()`; call only while holding `_LOCK`."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise TextproError("espeak-ng is not available: pip install 'textpro[tts]' (espeakng-loader)") from None
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT)
        if self.sample_rate <= 0:
            raise TextproError(f"espeak-ng failed to initialise (data at {data_path.decode()})")
        # The callback object must outlive every synthesis: keep a reference on the engine.
        self._callback = _SynthCallback(self._on_audio)
        self.lib.espeak_SetSynthCallback(self._callback)
        self._chunks: list[np.ndarray] = []
        self._words: list[WordEvent] = []
        self._voice: str | None = None

    def _on_audio(self, wav, num_samples, events) -> int:
        if num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_WORD:
                self._words.append(WordEvent(event.text_position - 1, event.length, event.audio_position / 1000))
            i += 1
        return 0  # 0 = continue synthesis

    def set_voice(self, name: str) -> None:
        if name != self._voice:  # loading a voice reads files; skip it when unchanged
            if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
                raise TextproError(f"espeak-ng has no voice {name!r}")
            self._voice = name

    def set_parameter(self, name: str, value: int) -> None:
        self.lib.espeak_SetParameter(_PARAM[name], int(value), 0)

    def synth(self, text: str, ssml: bool) -> tuple[np.ndarray, list[WordEvent]]:
        self._chunks, self._words = [], []
        encoded = text.encode("utf-8") + b"\0"
        flags = _CHARS_UTF8 | (_SSML if ssml else 0)
        status = self.lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, flags, None, None)
        if status != 0:
            raise TextproError(f"espeak-ng synthesis failed (status {status}) for {text[:60]!r}")
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return (samples.astype(np.float32) / 32768.0), self._words


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def engine() -> _Engine:
    """The process's engine, created on first use. Hold `_LOCK` while using it."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def speak(text: str, *, voice: str, rate: int, pitch: int, pitch_range: int, volume: int,
          ssml: bool = False) -> tuple[np.ndarray, int, list[WordEvent]]:
    """Synthesize with explicit engine settings. Returns (float32 samples, sample rate, word events)."""
    with _LOCK:
        eng = engine()
        eng.set_voice(voice)
        # Parameters persist in the engine between calls: set all of them every time.
        eng.set_parameter("rate", rate)
        eng.set_parameter("pitch", pitch)
        eng.set_parameter("range", pitch_range)
        eng.set_parameter("volume", volume)
        samples, words = eng.synth(text, ssml)
        return samples, eng.sample_rate, words


def phonemes(text: str, voice: str) -> str:
    """espeak-ng's phoneme string (Kirshenbaum ASCII) for `text` in `voice`: what the voice would say."""
    with _LOCK:
        eng = engine()
        eng.set_voice(voice)
        convert = eng.lib.espeak_TextToPhonemes
        convert.restype = ctypes.c_char_p
        convert.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        pointer = ctypes.c_char_p(text.encode("utf-8"))
        clauses = []
        while pointer.value:  # the call advances the pointer one clause at a time
            clauses.append(convert(ctypes.byref(pointer), _CHARS_UTF8, 0).decode("utf-8"))
        return " | ".join(clauses)
