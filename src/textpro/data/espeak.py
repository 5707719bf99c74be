"""espeak-ng through ctypes on the library that the PyPI package `espeakng-loader` ships (no apt, no binary).

Why ctypes instead of the `espeak-ng` command: one process-wide engine with no per-clip start-up (~800× real
time), and the engine's WORD events, which give ground-truth word start times in the audio.

libespeak-ng keeps its state in C globals (current voice, parameters, callback), so every call that touches it
holds `_LOCK`. Separate processes (multiprocessing) each get their own engine.

Reproducibility: the wave generator also carries state from one clip to the next (glottal phase, flutter index,
echo buffer) that no API resets. We reset what can be reset (random seed, flutter index), so most voices give the
same samples for the same call; for the rest a clip can differ by a few milliseconds of timing depending on what
the process spoke before. A fresh process that speaks the same clips in the same order is bit-exact.
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
        self.lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
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
        self._flutter_ix = self._locate_flutter_index(espeakng_loader.get_library_path())

    def _locate_flutter_index(self, path: str):
        """The `Flutter_ix` static of wavegen.c's AdvanceParameters(), as a ctypes int, or None.

        It indexes the pitch-flutter table and is never reset, so a clip's waveform depends on everything the
        process spoke before (with any voice that has flutter). Zeroing it before each clip makes a clip a
        function of its text and settings only, whatever the order or the number of worker processes.
        """
        symbols = _static_symbols(path, ("Flutter_ix", "espeak_Synth"))
        if set(symbols) != {"Flutter_ix", "espeak_Synth"}:
            return None
        base = ctypes.cast(self.lib.espeak_Synth, ctypes.c_void_p).value - symbols["espeak_Synth"]
        return ctypes.c_int.from_address(base + symbols["Flutter_ix"])

    @property
    def deterministic(self) -> bool:
        return self._flutter_ix is not None

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
        # The engine's own random generator (roughness, noise) and the flutter index start every clip the same.
        self.lib.espeak_ng_SetRandSeed(1)
        if self._flutter_ix is not None:
            self._flutter_ix.value = 0
        encoded = text.encode("utf-8") + b"\0"
        flags = _CHARS_UTF8 | (_SSML if ssml else 0)
        status = self.lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, flags, None, None)
        if status != 0:
            raise TextproError(f"espeak-ng synthesis failed (status {status}) for {text[:60]!r}")
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return (samples.astype(np.float32) / 32768.0), self._words


def _static_symbols(path: str, wanted: tuple[str, ...]) -> dict[str, int]:
    """Addresses (relative to the load base) of symbols in an ELF64 library's full symbol table (.symtab).

    Needed for one function-local static of libespeak-ng that no API exposes (see `_Engine.reset_flutter`).
    Returns {} for anything that is not a little-endian ELF64 file with a symbol table (e.g. a stripped build).
    """
    import struct

    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return {}
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    found: dict[str, int] = {}
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strtab_offset = sections[link][4]
        for at in range(offset, offset + size, entsize):
            name_index, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", data, at)
            end = data.index(b"\0", strtab_offset + name_index)
            name = data[strtab_offset + name_index:end].decode("ascii", "replace")
            base_name = name.split(".")[0]  # "Flutter_ix.5965": the compiler numbers function statics
            if base_name in wanted and base_name not in found:
                found[base_name] = value
    return found


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
