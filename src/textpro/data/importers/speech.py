"""Read-speech corpora with transcripts and speaker labels: LibriSpeech, Common Voice, VCTK, ParaSpeechCaps."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from textpro.data.importers.common import (
    ImportContext,
    read_lines,
    require_dir,
    require_file,
    speaker_split,
    train_task,
)
from textpro.errors import DataError

# Accents as the corpora name them → our labels (lower case; England is "british" as in the mini world).
ACCENTS = {
    # Common Voice ≤ v7 codes
    "us": "american", "england": "british", "indian": "indian", "australia": "australian", "canada": "canadian",
    "scotland": "scottish", "african": "south african", "newzealand": "new zealand", "ireland": "irish",
    "philippines": "filipino", "wales": "welsh", "bermuda": "caribbean", "malaysia": "malaysian",
    "singapore": "singaporean", "hongkong": "hong kong", "southatlandtic": "south atlantic",
    # Common Voice ≥ v8 free-text accents (the predefined ones)
    "united states english": "american", "england english": "british",
    "india and south asia (india, pakistan, sri lanka)": "indian", "australian english": "australian",
    "canadian english": "canadian", "scottish english": "scottish", "irish english": "irish",
    "southern african (south africa, zimbabwe, namibia)": "south african", "new zealand english": "new zealand",
    "filipino": "filipino", "welsh english": "welsh", "hong kong english": "hong kong",
    "malaysian english": "malaysian", "singaporean english": "singaporean",
    "west indies and bermuda (bahamas, bermuda, jamaica, trinidad)": "caribbean",
    # VCTK speaker-info.txt
    "english": "british", "scottish": "scottish", "northernirish": "northern irish", "irish": "irish",
    "american": "american", "canadian": "canadian", "southafrican": "south african", "australian": "australian",
    "welsh": "welsh",
    # ParaSpeechCaps accent tags
    "british": "british", "scottish accent": "scottish",
}
# Common Voice gender values: ≤ v15 male/female/other, ≥ v16 male_masculine/female_feminine/...
GENDERS = {"male": "male", "female": "female", "m": "male", "f": "female", "male_masculine": "male",
           "female_feminine": "female", "man": "male", "woman": "female"}
# Common Voice's age bins as its TSVs spell them → ours ("fourties" is Common Voice's spelling)
CV_AGES = {"teens": "teens", "twenties": "twenties", "thirties": "thirties", "fourties": "forties",
           "forties": "forties", "fifties": "fifties", "sixties": "sixties", "seventies": "seventies",
           "eighties": "eighties", "nineties": "nineties"}


def accent_label(raw: str | None) -> str | None:
    """Our accent label for a corpus's accent text; None when unknown or when it names several accents."""
    if not raw:
        return None
    parts = [p.strip().lower() for p in str(raw).split("|") if p.strip()]
    labels = {ACCENTS.get(p) for p in parts}
    return labels.pop() if len(labels) == 1 and None not in labels else None


def gender_label(raw: str | None) -> str | None:
    return GENDERS.get(str(raw).strip().lower()) if raw else None


# ------------------------------------------------------------------------------------------------ LibriSpeech
def _librispeech_root(source: Path) -> Path:
    for root in (source, source / "LibriSpeech"):
        if (root / "SPEAKERS.TXT").is_file() or any(root.glob("*/*/*/*.trans.txt")):
            return root
    raise DataError(f"librispeech: no LibriSpeech layout under {source} (expected <subset>/<speaker>/<chapter>/"
                    "<speaker>-<chapter>.trans.txt)")


def import_librispeech(ctx: ImportContext) -> list[dict]:
    """LibriSpeech (openslr.org/12): <subset>/<spk>/<chapter>/<spk>-<chapter>.trans.txt ("<utt id> <TEXT>" lines)
    beside <utt id>.flac; SPEAKERS.TXT ("ID | SEX | SUBSET | MINUTES | NAME") gives the gender. The split is the
    subset's (train-* / dev-* / test-*), speaker-disjoint by construction."""
    root = _librispeech_root(require_dir(ctx.source, "librispeech"))
    sexes = {}
    if (root / "SPEAKERS.TXT").is_file():
        for number, line in enumerate(read_lines(root / "SPEAKERS.TXT"), 1):
            if not line.strip() or line.startswith(";"):
                continue
            fields = [f.strip() for f in line.split("|")]
            if len(fields) < 3:
                raise DataError(f"{root / 'SPEAKERS.TXT'}:{number}: expected 'ID | SEX | SUBSET | ...'")
            sexes[fields[0]] = fields[1]
    records = []
    for trans in sorted(root.glob("*/*/*/*.trans.txt")):
        subset = trans.parts[-4]
        split = subset.split("-")[0] if subset.split("-")[0] in ("train", "dev", "test") else "train"
        for number, line in enumerate(read_lines(trans), 1):
            if not line.strip():
                continue
            utt, _, text = line.strip().partition(" ")
            if not text or utt.count("-") != 2:
                raise DataError(f"{trans}:{number}: expected '<speaker>-<chapter>-<n> <TRANSCRIPT>'")
            speaker = utt.split("-")[0]
            audio = trans.parent / f"{utt}.flac"
            records.append({"id": f"librispeech/{utt}", "audio": ctx.relative(audio), "text": text,
                            "speaker": f"librispeech/{speaker}", "gender": gender_label(sexes.get(speaker)),
                            "split": split, "subset": subset, "source": "librispeech"})
    if not records:
        raise DataError(f"librispeech: no *.trans.txt under {root}")
    return records


# ------------------------------------------------------------------------------------------------ Common Voice
def _read_tsv(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    if rows and not {"client_id", "path", "sentence"} <= set(rows[0]):
        raise DataError(f"{path}: not a Common Voice TSV (needs client_id, path, sentence columns)")
    return rows


def _cv_record(ctx: ImportContext, root: Path, row: dict, split: str) -> dict:
    accent_raw = row.get("accents", row.get("accent")) or None
    age = (row.get("age") or "").strip() or None
    return {"id": f"commonvoice/{Path(row['path']).stem}", "audio": ctx.relative(root / "clips" / row["path"]),
            "text": row["sentence"], "speaker": f"commonvoice/{row['client_id']}",
            "gender": gender_label(row.get("gender")), "gender_raw": row.get("gender") or None,
            "accent": accent_label(accent_raw), "accent_raw": accent_raw,
            "age": CV_AGES.get(age or ""), "age_raw": age, "split": split, "locale": row.get("locale") or None,
            "source": "commonvoice"}


def import_commonvoice(ctx: ImportContext, *, splits: tuple[str, ...] = ("train", "dev", "test")) -> list[dict]:
    """Common Voice (commonvoice.mozilla.org; layout: github.com/common-voice/cv-dataset): <locale>/clips/*.mp3 and
    train/dev/test/validated.tsv (client_id, path, sentence, up_votes, down_votes, age, gender, accents, locale, …).
    Official train/dev/test TSVs are speaker-disjoint and used as they are; without them validated.tsv is split
    by speaker. `task` is "age" (decade bins) where the contributor gave one, the paper's use of Common Voice."""
    root = require_dir(ctx.source, "commonvoice")
    require_dir(root / "clips", "commonvoice")
    records = []
    official = [s for s in splits if (root / f"{s}.tsv").is_file()]
    if official:
        for split in official:
            records += [_cv_record(ctx, root, row, split) for row in _read_tsv(root / f"{split}.tsv")]
    else:
        rows = _read_tsv(require_file(root / "validated.tsv", "commonvoice (no train/dev/test.tsv either)"))
        records = speaker_split([_cv_record(ctx, root, row, "train") for row in rows], dev_fraction=ctx.dev_fraction,
                                test_fraction=ctx.test_fraction, seed=ctx.seed)
    for r in records:
        r.update(train_task("age", r["age"]))
    return records


# ------------------------------------------------------------------------------------------------ VCTK
def _vctk_audio(root: Path, speaker: str, utt: str, mic: str) -> Path | None:
    for path in (root / "wav48_silence_trimmed" / speaker / f"{utt}_{mic}.flac",
                 root / "wav48" / speaker / f"{utt}.wav"):
        if path.is_file():
            return path
    return None


def import_vctk(ctx: ImportContext) -> list[dict]:
    """VCTK (datashare.ed.ac.uk/handle/10283/3443): speaker-info.txt ("ID AGE GENDER ACCENTS REGION COMMENTS";
    ids p225… in 0.92, 225… in 0.80), txt/<p225>/<p225_001>.txt and wav48_silence_trimmed/<p225>/<p225_001>_mic1.flac
    (0.92; mic2 with option mic=mic2) or wav48/<p225>/<p225_001>.wav (0.80). task "accent"; speaker split."""
    root = require_dir(ctx.source, "vctk")
    info = require_file(root / "speaker-info.txt", "vctk")
    mic = ctx.options.get("mic", "mic1")
    speakers = {}
    for number, line in enumerate(read_lines(info)[1:], 2):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 4 or not fields[1].isdigit() or fields[2] not in ("M", "F"):
            raise DataError(f"{info}:{number}: expected 'ID AGE GENDER ACCENT ...', got {line.strip()!r}")
        sid = fields[0] if fields[0].startswith(("p", "s")) else f"p{fields[0]}"
        speakers[sid] = {"age_years": int(fields[1]), "gender": gender_label(fields[2]), "accent_raw": fields[3],
                         "region": " ".join(fields[4:]) or None}
    records = []
    for speaker, meta in sorted(speakers.items()):
        for txt in sorted((root / "txt" / speaker).glob("*.txt")):
            audio = _vctk_audio(root, speaker, txt.stem, mic)
            if audio is None:
                continue  # VCTK has transcripts without recordings (p315's audio is missing in 0.92)
            accent = accent_label(meta["accent_raw"])
            records.append({"id": f"vctk/{txt.stem}", "audio": ctx.relative(audio),
                            "text": " ".join(read_lines(txt)).strip(), "speaker": f"vctk/{speaker}",
                            "gender": meta["gender"], "accent": accent, "accent_raw": meta["accent_raw"],
                            "age_years": meta["age_years"], "region": meta["region"], "source": "vctk",
                            **train_task("accent", accent)})
    if not records:
        raise DataError(f"vctk: no transcripts with audio under {root}/txt")
    return speaker_split(records, dev_fraction=ctx.dev_fraction, test_fraction=ctx.test_fraction, seed=ctx.seed)


# ------------------------------------------------------------------------------------------------ ParaSpeechCaps
_PSC_SHARD = re.compile(r"^(?P<split>[a-z_]+)-\d{5}-of-\d{5}$")


def import_paraspeechcaps(ctx: ImportContext) -> list[dict]:
    """ParaSpeechCaps (huggingface.co/datasets/ajd12342/paraspeechcaps): data/<split>-0000k-of-0000n.parquet with
    source, relative_audio_path, text_description, transcription, speakerid, gender, accent, pitch, speaking_rate,
    … The audio is not in the release: it stays in its source corpora (VoxCeleb, Expresso, EARS, Emilia), under
    the folder given by option audio_root (default DIR). Gender and accent are the paper's labels from it; the
    split is ours, by speaker (the release's split is kept as psc_split)."""
    import pyarrow.parquet as pq

    root = require_dir(ctx.source, "paraspeechcaps")
    audio_root = Path(ctx.options.get("audio_root") or root)
    shards = sorted((root / "data").glob("*.parquet")) or sorted(root.glob("*.parquet"))
    if not shards:
        raise DataError(f"paraspeechcaps: no data/*.parquet under {root}")
    records = []
    for shard in shards:
        match = _PSC_SHARD.match(shard.stem)
        psc_split = match["split"] if match else shard.stem
        table = pq.read_table(shard)
        path_column = "relative_audio_path" if "relative_audio_path" in table.column_names else "audio_path"
        missing = {path_column, "transcription", "speakerid"} - set(table.column_names)
        if missing:  # (early revisions of the release named the path column audio_path)
            raise DataError(f"{shard}: not ParaSpeechCaps data (no {', '.join(sorted(missing))} column)")
        for row in table.to_pylist():
            row["relative_audio_path"] = row[path_column]
            audio = audio_root / row["relative_audio_path"]
            captions = row.get("text_description") or []
            accent = accent_label(row.get("accent"))
            records.append({
                "id": f"paraspeechcaps/{row['relative_audio_path']}",
                "audio": ctx.relative(audio), "text": row["transcription"],
                "speaker": f"paraspeechcaps/{row.get('source', '')}/{row['speakerid']}",
                "gender": gender_label(row.get("gender")), "accent": accent, "accent_raw": row.get("accent"),
                "caption": captions[0] if captions else None, "tags": row.get("all_tags") or None,
                "pitch": row.get("pitch"), "speaking_rate": row.get("speaking_rate"), "psc_split": psc_split,
                "source": "paraspeechcaps", **train_task("accent", accent)})
    return speaker_split(records, dev_fraction=ctx.dev_fraction, test_fraction=ctx.test_fraction, seed=ctx.seed)
