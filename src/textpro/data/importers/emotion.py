"""Acted-emotion corpora whose labels live in file names, folder names or label files: CREMA-D, TESS, SAVEE,
RAVDESS, ESD, IEMOCAP. Each record: emotion = our label (`common.EMOTIONS`), emotion_raw = the corpus's code, and
task "emotion" with reference = the label when it is one of the training labels (`common.TRAIN_LABELS`: RAVDESS's
calm, IEMOCAP's frustrated and other stay unlabelled for training); gender where the corpus gives it; split by
speaker."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from textpro.data.importers.common import ImportContext, read_lines, require_dir, speaker_split, train_task
from textpro.errors import DataError


def _emotion_record(ctx: ImportContext, kind: str, utt: str, audio: Path, speaker: str, emotion: str, raw: str,
                    **fields) -> dict:
    return {"id": f"{kind}/{utt}", "audio": ctx.relative(audio), "speaker": f"{kind}/{speaker}", "emotion": emotion,
            "emotion_raw": raw, **train_task("emotion", emotion), "source": kind, **fields}


def _split(ctx: ImportContext, records: list[dict], kind: str) -> list[dict]:
    if not records:
        raise DataError(f"{kind}: no clips found under {ctx.source}")
    return speaker_split(records, dev_fraction=ctx.dev_fraction, test_fraction=ctx.test_fraction, seed=ctx.seed)


# ------------------------------------------------------------------------------------------------ CREMA-D
CREMAD_EMOTIONS = {"ANG": "angry", "DIS": "disgusted", "FEA": "fearful", "HAP": "happy", "NEU": "neutral",
                   "SAD": "sad"}
CREMAD_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
CREMAD_SENTENCES = {
    "IEO": "It's eleven o'clock.", "TIE": "That is exactly what happened.", "IOM": "I'm on my way to the meeting.",
    "IWW": "I wonder what this is about.", "TAI": "The airplane is almost full.",
    "MTI": "Maybe tomorrow it will be cold.", "IWL": "I would like a new alarm clock.",
    "ITH": "I think I have a doctor's appointment.", "DFA": "Don't forget a jacket.",
    "ITS": "I think I've seen this before.", "TSI": "The surface is slick.",
    "WSI": "We'll stop in a couple of minutes.",
}
_CREMAD_NAME = re.compile(r"^(?P<actor>\d{4})_(?P<sentence>[A-Z]{3})_(?P<emotion>[A-Z]{3})_(?P<level>[A-Z]{2})$")


def import_cremad(ctx: ImportContext) -> list[dict]:
    """CREMA-D (github.com/CheyneyComputerScience/CREMA-D): AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav,
    e.g. 1001_DFA_ANG_XX.wav; VideoDemographics.csv (ActorID, Age, Sex, Race, Ethnicity) gives the gender."""
    root = require_dir(ctx.source, "crema-d")
    wavs = require_dir(root / "AudioWAV", "crema-d")
    sexes = {}
    demographics = root / "VideoDemographics.csv"
    if demographics.is_file():
        with open(demographics, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if "ActorID" not in row or "Sex" not in row:
                    raise DataError(f"{demographics}: expected ActorID and Sex columns")
                sexes[row["ActorID"].strip()] = row["Sex"].strip().lower()
    records = []
    for wav in sorted(wavs.glob("*.wav")):
        match = _CREMAD_NAME.match(wav.stem)
        if not match or match["emotion"] not in CREMAD_EMOTIONS:
            raise DataError(f"crema-d: {wav.name} is not <actor>_<sentence>_<ANG|DIS|FEA|HAP|NEU|SAD>_<level>.wav")
        records.append(_emotion_record(
            ctx, "crema-d", wav.stem, wav, match["actor"], CREMAD_EMOTIONS[match["emotion"]], match["emotion"],
            text=CREMAD_SENTENCES.get(match["sentence"]), intensity=CREMAD_LEVELS.get(match["level"]),
            gender=sexes.get(match["actor"]) if sexes.get(match["actor"]) in ("male", "female") else None))
    return _split(ctx, records, "crema-d")


# ------------------------------------------------------------------------------------------------ TESS
TESS_EMOTIONS = {"angry": "angry", "disgust": "disgusted", "fear": "fearful", "happy": "happy", "neutral": "neutral",
                 "ps": "surprised", "sad": "sad"}
_TESS_NAME = re.compile(r"^(?P<speaker>OAF|YAF)_(?P<word>[A-Za-z]+)_(?P<emotion>[A-Za-z]+)$")


def import_tess(ctx: ImportContext) -> list[dict]:
    """TESS, Toronto emotional speech set (doi.org/10.5683/SP2/E8H2MF): <OAF|YAF>_<emotion>/<OAF|YAF>_<word>_<emotion>
    .wav, two female speakers (OAF aged 64, YAF aged 26) saying "Say the word <word>"; "ps" = pleasant surprise."""
    root = require_dir(ctx.source, "tess")
    records = []
    for wav in sorted(root.rglob("*.wav"), key=lambda p: p.name):
        match = _TESS_NAME.match(wav.stem)
        if not match:
            continue
        raw = match["emotion"].lower()
        if raw not in TESS_EMOTIONS:
            raise DataError(f"tess: {wav.name}: unknown emotion {raw!r} (expected {', '.join(TESS_EMOTIONS)})")
        records.append(_emotion_record(ctx, "tess", wav.stem, wav, match["speaker"], TESS_EMOTIONS[raw], raw,
                                       text=f"Say the word {match['word']}.", gender="female",
                                       age_years=64 if match["speaker"] == "OAF" else 26))
    return _split(ctx, records, "tess")


# ------------------------------------------------------------------------------------------------ SAVEE
SAVEE_EMOTIONS = {"a": "angry", "d": "disgusted", "f": "fearful", "h": "happy", "n": "neutral", "sa": "sad",
                  "su": "surprised"}
SAVEE_SPEAKERS = ("DC", "JE", "JK", "KL")
_SAVEE_NAME = re.compile(r"^(?:(?P<speaker>DC|JE|JK|KL)_)?(?P<emotion>sa|su|a|d|f|h|n)(?P<n>\d{2})$")


def import_savee(ctx: ImportContext) -> list[dict]:
    """SAVEE (kahlan.eps.surrey.ac.uk/savee): AudioData/<DC|JE|JK|KL>/<code><nn>.wav with codes a, d, f, h, n, sa,
    su (the flat redistribution <speaker>_<code><nn>.wav is read too); four male speakers."""
    root = require_dir(ctx.source, "savee")
    records = []
    for wav in sorted(root.rglob("*.wav")):
        match = _SAVEE_NAME.match(wav.stem)
        speaker = match and (match["speaker"] or wav.parent.name)
        if not match or speaker not in SAVEE_SPEAKERS:
            continue
        code = match["emotion"]
        records.append(_emotion_record(ctx, "savee", f"{speaker}_{wav.stem.split('_')[-1]}", wav, speaker,
                                       SAVEE_EMOTIONS[code], code, gender="male"))
    return _split(ctx, records, "savee")


# ------------------------------------------------------------------------------------------------ RAVDESS
RAVDESS_EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
                    "07": "disgusted", "08": "surprised"}
RAVDESS_STATEMENTS = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}
_RAVDESS_NAME = re.compile(r"^(?P<modality>0[123])-(?P<channel>0[12])-(?P<emotion>0[1-8])-(?P<intensity>0[12])-"
                           r"(?P<statement>0[12])-(?P<repetition>0[12])-(?P<actor>\d{2})$")


def parse_ravdess(name: str) -> dict:
    """The fields of a RAVDESS file name (03-01-06-01-02-01-12.wav): modality, vocal channel, emotion, intensity,
    statement, repetition, actor (odd = male, even = female)."""
    match = _RAVDESS_NAME.match(Path(name).stem)
    if not match:
        raise DataError(f"ravdess: {name} is not a RAVDESS file name (MM-VV-EE-II-SS-RR-AA.wav)")
    return {"modality": {"01": "audio-video", "02": "video", "03": "audio"}[match["modality"]],
            "channel": "speech" if match["channel"] == "01" else "song",
            "emotion": RAVDESS_EMOTIONS[match["emotion"]], "emotion_raw": match["emotion"],
            "intensity": "normal" if match["intensity"] == "01" else "strong",
            "text": RAVDESS_STATEMENTS[match["statement"]], "repetition": int(match["repetition"]),
            "actor": match["actor"], "gender": "male" if int(match["actor"]) % 2 else "female"}


def import_ravdess(ctx: ImportContext) -> list[dict]:
    """RAVDESS (zenodo.org/record/1188976): Actor_<nn>/<modality>-<channel>-<emotion>-<intensity>-<statement>-
    <repetition>-<actor>.wav (Audio_Speech_Actors_01-24.zip; the song zip too with option song=True)."""
    root = require_dir(ctx.source, "ravdess")
    records = []
    for wav in sorted(root.rglob("Actor_*/*.wav")):
        fields = parse_ravdess(wav.name)
        if fields["channel"] == "song" and not ctx.options.get("song"):
            continue
        actor, raw = fields.pop("actor"), fields.pop("emotion_raw")
        emotion = fields.pop("emotion")
        records.append(_emotion_record(ctx, "ravdess", wav.stem, wav, actor, emotion, raw, **fields))
    return _split(ctx, records, "ravdess")


# ------------------------------------------------------------------------------------------------ ESD
ESD_EMOTIONS = {"Angry": "angry", "Happy": "happy", "Neutral": "neutral", "Sad": "sad", "Surprise": "surprised"}
ESD_ENGLISH = tuple(f"{n:04d}" for n in range(11, 21))
# Per-speaker gender as the readme inside the ESD download lists it ("0001: Chinese Female" … "0020: English Male";
# the GitHub README.md does not list it): five female and five male speakers per language. Sources and a third-party
# list that disagrees: tests/fixtures/importers/README.md.
ESD_GENDERS = {
    "0001": "female", "0002": "female", "0003": "female", "0004": "male", "0005": "male",
    "0006": "male", "0007": "female", "0008": "male", "0009": "female", "0010": "male",
    "0011": "male", "0012": "male", "0013": "male", "0014": "male", "0015": "female",
    "0016": "female", "0017": "female", "0018": "female", "0019": "female", "0020": "male",
}


def import_esd(ctx: ImportContext) -> list[dict]:
    """ESD, Emotional Speech Dataset (github.com/HLTSingapore/Emotional-Speech-Data): <spk>/<Emotion>/[train|
    evaluation|test/]<spk>_<nnnnnn>.wav and <spk>/<spk>.txt ("<utt>\\t<text>\\t<emotion>"); speakers 0011–0020 are
    English (the paper's ESD-English, the default; option esd_all=True for the Mandarin 0001–0010 too). Gender from
    the release's speaker list (`ESD_GENDERS`). The release's own train/evaluation/test folders share speakers, so
    the split is ours (kept as esd_split)."""
    source = require_dir(ctx.source, "esd")
    root = next((r for r in (source, source / "Emotion Speech Dataset", source / "ESD")
                 if any((r / s).is_dir() for s in ESD_ENGLISH + ("0001",))), None)
    if root is None:
        raise DataError(f"esd: no speaker folders (0011 … 0020) under {source}")
    records = []
    for speaker_dir in sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}", p.name)):
        speaker = speaker_dir.name
        if speaker not in ESD_ENGLISH and not ctx.options.get("esd_all"):
            continue
        texts = {}
        label_file = speaker_dir / f"{speaker}.txt"
        if label_file.is_file():
            for number, line in enumerate(read_lines(label_file), 1):
                if not line.strip():
                    continue
                fields = line.strip().split("\t")
                if len(fields) < 2:  # a few files separate the fields by spaces, not tabs
                    match = re.fullmatch(r"(\S+)\s+(.*\S)\s+(\S+)", line.strip())
                    fields = list(match.groups()) if match else fields
                if len(fields) < 2 or not re.fullmatch(rf"{speaker}_\d{{6}}", fields[0]):
                    raise DataError(f"{label_file}:{number}: expected '<utt>\\t<text>\\t<emotion>'")
                texts[fields[0]] = fields[1].strip()
        for folder, emotion in ESD_EMOTIONS.items():
            for wav in sorted((speaker_dir / folder).rglob("*.wav")):
                part = wav.parent.name if wav.parent.name in ("train", "evaluation", "test") else None
                records.append(_emotion_record(ctx, "esd", wav.stem, wav, speaker, emotion, folder,
                                               text=texts.get(wav.stem), esd_split=part,
                                               language="english" if speaker in ESD_ENGLISH else "mandarin",
                                               gender=ESD_GENDERS.get(speaker)))
    return _split(ctx, records, "esd")


# ------------------------------------------------------------------------------------------------ IEMOCAP
IEMOCAP_EMOTIONS = {"neu": "neutral", "hap": "happy", "exc": "excited", "sad": "sad", "ang": "angry",
                    "fru": "frustrated", "sur": "surprised", "fea": "fearful", "dis": "disgusted", "oth": "other"}
_IEMOCAP_LINE = re.compile(r"^\[(?P<start>[\d.]+) - (?P<end>[\d.]+)\]\t(?P<turn>Ses\d{2}[FM]_\S+_(?P<gender>[FM])\d{3})"
                           r"\t(?P<emotion>\w{3})\t\[(?P<vad>[^\]]*)\]\s*$")
_IEMOCAP_TEXT = re.compile(r"^(?P<turn>Ses\d{2}[FM]_\S+_[FM]\d{3}) \[[^\]]*\]: (?P<text>.*)$")


def parse_emo_evaluation(path: Path) -> list[dict]:
    """The summary lines of an IEMOCAP EmoEvaluation file:
    "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]" (annotator lines skipped)."""
    rows = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.startswith("["):
            continue
        match = _IEMOCAP_LINE.match(line)
        if not match:
            raise DataError(f"{path}:{number}: malformed EmoEvaluation line {line.strip()[:60]!r}")
        code = match["emotion"]
        if code != "xxx" and code not in IEMOCAP_EMOTIONS:
            raise DataError(f"{path}:{number}: unknown IEMOCAP emotion {code!r}")
        try:
            vad = [float(v) for v in match["vad"].split(",")]
        except ValueError:
            raise DataError(f"{path}:{number}: malformed valence/activation/dominance {match['vad']!r}") from None
        rows.append({"turn": match["turn"], "emotion_raw": code, "start": float(match["start"]),
                     "end": float(match["end"]), "gender": "female" if match["gender"] == "F" else "male",
                     "vad": vad})
    return rows


def import_iemocap(ctx: ImportContext) -> list[dict]:
    """IEMOCAP (sail.usc.edu/iemocap): Session<k>/dialog/EmoEvaluation/<dialog>.txt label lines,
    Session<k>/dialog/transcriptions/<dialog>.txt ("<turn> [start-end]: text") and
    Session<k>/sentences/wav/<dialog>/<turn>.wav. The speaker is the session and the turn's F/M (Ses01 F).
    xxx (no majority) is skipped; excited merges into happy unless option iemocap_keep_excited=True (the usual
    four-class practice merges it)."""
    source = require_dir(ctx.source, "iemocap")
    root = source / "IEMOCAP_full_release" if (source / "IEMOCAP_full_release").is_dir() else source
    sessions = sorted(p for p in root.glob("Session[1-5]") if p.is_dir())
    if not sessions:
        raise DataError(f"iemocap: no Session1 … Session5 folders under {source}")
    keep_excited = bool(ctx.options.get("iemocap_keep_excited"))
    records = []
    for session in sessions:
        for label_file in sorted((session / "dialog" / "EmoEvaluation").glob("*.txt")):
            texts = {}
            transcript = session / "dialog" / "transcriptions" / label_file.name
            if transcript.is_file():
                for line in read_lines(transcript):
                    match = _IEMOCAP_TEXT.match(line.strip())
                    if match:
                        texts[match["turn"]] = match["text"]
            for row in parse_emo_evaluation(label_file):
                if row["emotion_raw"] == "xxx":
                    continue
                emotion = IEMOCAP_EMOTIONS[row["emotion_raw"]]
                if emotion == "excited" and not keep_excited:
                    emotion = "happy"
                wav = session / "sentences" / "wav" / label_file.stem / f"{row['turn']}.wav"
                speaker = f"{row['turn'][:5]}{row['turn'].rsplit('_', 1)[1][0]}"
                records.append(_emotion_record(ctx, "iemocap", row["turn"], wav, speaker, emotion,
                                               row["emotion_raw"], text=texts.get(row["turn"]), gender=row["gender"],
                                               vad=row["vad"], session=session.name))
    return _split(ctx, records, "iemocap")
