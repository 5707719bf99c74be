"""Text corpora turned into speech with an installed TTS, as the paper does with Kokoro: UltraChat requests and the
multiple-choice sets (CommonsenseQA for training; OpenBookQA, ARC, PIQA, StoryCloze for the modality gap).

Multiple-choice records are in the benchmark schema of `textpro.eval.bench`: task (the kind), prompt (question and
one lettered option per line, what the text LLM reads), reference (the gold letter), text (what the voice says:
"question A, first option. B, second option.", the mini world's spoken form), audio, voice, gender (of the voice),
split (the release's file). UltraChat records are task "request" (no reference), their text the first user turn.

Voices: `--voice espeak` (default: a fixed rotation of espeak-ng variants, one per record by its id),
`espeak:<accent>+<variant>` (one voice, e.g. espeak:british+f3), or `piper` (piper's joe). A clip that exists is
not synthesized again (a stopped import resumes); `--option workers=N` speaks in N processes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from textpro.data.importers.common import ImportContext, read_jsonl, read_lines, require_dir, stable_choice
from textpro.errors import DataError

LETTERS = "ABCDEFGHIJ"
ROTATION = ("m1", "f1", "m3", "f3", "m7", "f4", "Andy", "Annie")  # espeak-ng variants, half male, half female


def _voice_for(ctx: ImportContext, key: str) -> tuple[str, str, str | None]:
    """(engine, accent or voice, variant) for one record."""
    voice = ctx.voice or "espeak"
    if voice == "piper":
        return "piper", "joe", None
    if voice == "espeak":
        return "espeak", "american", stable_choice(key, ROTATION)
    if voice.startswith("espeak:"):
        accent, _, variant = voice.split(":", 1)[1].partition("+")
        return "espeak", accent or "american", variant or None
    raise DataError(f"unknown --voice {voice!r} (espeak, espeak:<accent>+<variant> or piper)")


def speak(ctx: ImportContext, record_id: str, text: str) -> dict:
    """Synthesize `text` into <audio dir>/<id>.flac (16 kHz) unless it is there; the record fields it adds."""
    import soundfile as sf

    from textpro.audio import SAMPLE_RATE
    from textpro.data.synth import VARIANT_GENDER, synthesize_espeak, synthesize_piper_result

    engine, accent, variant = _voice_for(ctx, record_id)
    path = ctx.audio_dir / (record_id.split("/", 1)[-1].replace("/", "_") + ".flac")
    if not path.is_file():
        if engine == "piper":
            clip = synthesize_piper_result(text)
        else:
            clip = synthesize_espeak(text, accent=accent, variant=variant)
        samples = clip.resampled(SAMPLE_RATE).samples
        peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
        if peak > 0.99:
            samples = samples * (0.99 / peak)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.flac")
        sf.write(tmp, samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
        tmp.replace(path)
    voice = "piper:joe" if engine == "piper" else f"espeak:{accent}" + (f"+{variant}" if variant else "")
    gender = "male" if engine == "piper" else VARIANT_GENDER.get(variant or "")
    # No `speaker`: a TTS voice is not a person, and the release's own split decides train/dev/test.
    return {"audio": ctx.relative(path), "voice": voice, "gender": gender, "tts": engine}


def mcq_record(ctx: ImportContext, kind: str, qid: str, question: str, choices: list[str], answer: int | None,
               split: str) -> dict | None:
    """A spoken multiple-choice record (None without a gold answer: hidden test labels)."""
    if answer is None or not 0 <= answer < len(choices):
        return None
    letters = LETTERS[:len(choices)]
    prompt = question + "\n" + "\n".join(f"{letter}. {choice}" for letter, choice in zip(letters, choices, strict=True))
    text = question + " " + " ".join(f"{letter}, {choice.rstrip('.')}." for letter, choice in
                                     zip(letters, choices, strict=True))
    record = {"id": f"{kind}/{qid}", "task": kind, "kind": "mcq", "prompt": prompt, "reference": letters[answer],
              "answer_text": choices[answer], "text": text, "split": split, "source": kind}
    return record


def _synthesize_all(ctx: ImportContext, records: list[dict]) -> list[dict]:
    records = [r for r in records if r is not None][:ctx.limit]
    if not records:
        raise DataError(f"{ctx.kind}: no labelled questions found under {ctx.source}")
    from tqdm.auto import tqdm

    workers = int(ctx.options.get("workers", 1))
    bar = tqdm(total=len(records), desc=f"speak {ctx.kind}", unit="clip", disable=not ctx.options.get("progress"))
    with bar:
        if workers <= 1:
            for record in records:
                record.update(speak(ctx, record["id"], record["text"]))
                bar.update(1)
        else:  # processes: the engines are single-threaded; the clips do not depend on the number of workers
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as pool:
                jobs = pool.map(_speak_job, [(ctx, r["id"], r["text"]) for r in records], chunksize=16)
                for record, fields in zip(records, jobs, strict=True):
                    record.update(fields)
                    bar.update(1)
    return records


def _speak_job(job: tuple[ImportContext, str, str]) -> dict:
    return speak(*job)


def _split_name(stem: str) -> str:
    lowered = stem.lower()
    for name, split in (("train", "train"), ("dev", "dev"), ("val", "dev"), ("test", "test")):
        if name in lowered:
            return split
    return "test"


# ------------------------------------------------------------------------------------------------ QA JSONL
def _qa_jsonl(ctx: ImportContext, kind: str, files: list[Path]) -> list[dict]:
    """The {"id", "question": {"stem", "choices": [{"label", "text"}]}, "answerKey"} schema of CommonsenseQA,
    OpenBookQA and ARC."""
    records = []
    for path in files:
        split = _split_name(path.stem)
        for number, row in enumerate(read_jsonl(path), 1):
            question = row.get("question")
            if not isinstance(question, dict) or "stem" not in question or "choices" not in question:
                raise DataError(f"{path}:{number}: expected {{'question': {{'stem', 'choices'}}, 'answerKey'}}")
            labels = [c["label"] for c in question["choices"]]
            key = row.get("answerKey")
            answer = labels.index(key) if key in labels else None
            records.append(mcq_record(ctx, kind, str(row.get("id", f"{path.stem}-{number}")), question["stem"],
                                      [c["text"] for c in question["choices"]], answer, split))
    return records


def import_commonsenseqa(ctx: ImportContext) -> list[dict]:
    """CommonsenseQA (github.com/jonathanherzig/commonsenseqa): train_rand_split.jsonl, dev_rand_split.jsonl
    (test_rand_split_no_answers.jsonl has no answers and is skipped), five choices A–E. task "commonsenseqa"."""
    root = require_dir(ctx.source, "commonsenseqa")
    files = sorted(root.glob("*_rand_split*.jsonl")) or sorted(root.glob("*.jsonl"))
    return _synthesize_all(ctx, _qa_jsonl(ctx, "commonsenseqa", [f for f in files if "no_answers" not in f.name]))


def import_openbookqa(ctx: ImportContext) -> list[dict]:
    """OpenBookQA (allenai.org/data/open-book-qa): OpenBookQA-V1-Sep2018/Data/Main/{train,dev,test}.jsonl."""
    root = require_dir(ctx.source, "openbookqa")
    main = next((d for d in (root / "Data" / "Main", root / "OpenBookQA-V1-Sep2018" / "Data" / "Main", root)
                 if (d / "test.jsonl").is_file()), None)
    if main is None:
        raise DataError(f"openbookqa: no Data/Main/test.jsonl under {root}")
    return _synthesize_all(ctx, _qa_jsonl(ctx, "openbookqa", sorted(main.glob("*.jsonl"))))


def import_arc(ctx: ImportContext) -> list[dict]:
    """ARC (allenai.org/data/arc): ARC-V1-Feb2018-2/ARC-{Easy,Challenge}/ARC-{Easy,Challenge}-{Train,Dev,Test}.jsonl;
    task arc-easy / arc-challenge; numeric choice labels (1–4) become letters by position."""
    root = require_dir(ctx.source, "arc")
    records = []
    for subset in ("Easy", "Challenge"):
        files = sorted(root.rglob(f"ARC-{subset}-*.jsonl"))
        records += _qa_jsonl(ctx, f"arc-{subset.lower()}", files)
    if not records:
        raise DataError(f"arc: no ARC-Easy-*.jsonl or ARC-Challenge-*.jsonl under {root}")
    return _synthesize_all(ctx, records)


def import_piqa(ctx: ImportContext) -> list[dict]:
    """PIQA (yonatanbisk.com/piqa; github.com/ybisk/ybisk.github.io/tree/master/piqa/data): train.jsonl +
    train-labels.lst, valid.jsonl + valid-labels.lst ({"goal", "sol1", "sol2"}, one 0/1 label a line); tests.jsonl
    has no labels and is skipped."""
    root = require_dir(ctx.source, "piqa")
    records = []
    for name, split in (("train", "train"), ("valid", "dev")):
        data, labels = root / f"{name}.jsonl", root / f"{name}-labels.lst"
        if not data.is_file():
            continue
        if not labels.is_file():
            raise DataError(f"piqa: {data.name} without {labels.name}")
        rows, answers = read_jsonl(data), [line.strip() for line in read_lines(labels) if line.strip()]
        if len(rows) != len(answers) or not set(answers) <= {"0", "1"}:
            raise DataError(f"piqa: {labels.name} must hold one 0/1 label per line of {data.name}")
        for index, (row, answer) in enumerate(zip(rows, answers, strict=True)):
            if not {"goal", "sol1", "sol2"} <= set(row):
                raise DataError(f"{data}:{index + 1}: expected goal, sol1, sol2")
            records.append(mcq_record(ctx, "piqa", f"{name}-{row.get('id', index)}", row["goal"],
                                      [row["sol1"], row["sol2"]], int(answer), split))
    if not records:
        raise DataError(f"piqa: no train.jsonl or valid.jsonl under {root}")
    return _synthesize_all(ctx, records)


STORYCLOZE_COLUMNS = ("InputStoryid", "InputSentence1", "InputSentence2", "InputSentence3", "InputSentence4",
                      "RandomFifthSentenceQuiz1", "RandomFifthSentenceQuiz2", "AnswerRightEnding")


def import_storycloze(ctx: ImportContext) -> list[dict]:
    """StoryCloze (cs.rochester.edu/nlp/rocstories): cloze_test_{val,test}__spring2016 - cloze_test_ALL_{val,test}
    .csv with InputStoryid, InputSentence1–4, RandomFifthSentenceQuiz1–2, AnswerRightEnding (1 or 2), spoken as a
    two-choice question. Spoken StoryCloze's released audio (sSC/tSC) is the kind spoken-storycloze
    (`evalsets.import_spoken_storycloze`)."""
    root = require_dir(ctx.source, "storycloze")
    records = []
    for path in sorted(root.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            if not set(STORYCLOZE_COLUMNS) <= set(reader.fieldnames or ()):
                raise DataError(f"storycloze: {path.name} lacks columns {', '.join(STORYCLOZE_COLUMNS)}")
            for row in reader:
                story = " ".join(row[f"InputSentence{k}"].strip() for k in range(1, 5))
                question = f"{story} Which ending fits the story?"
                answer = int(row["AnswerRightEnding"]) - 1 if row["AnswerRightEnding"].strip() else None
                records.append(mcq_record(ctx, "storycloze", row["InputStoryid"], question,
                                          [row["RandomFifthSentenceQuiz1"], row["RandomFifthSentenceQuiz2"]],
                                          answer, _split_name(path.stem.split(" - ")[-1])))
    if not records:
        raise DataError(f"storycloze: no StoryCloze CSV under {root}")
    return _synthesize_all(ctx, records)


# ------------------------------------------------------------------------------------------------ UltraChat
def _first_user_turn(row: dict) -> str | None:
    if isinstance(row.get("data"), list) and row["data"]:  # stingning/ultrachat: {"id", "data": [user, assistant …]}
        return str(row["data"][0])
    if isinstance(row.get("prompt"), str):  # HuggingFaceH4/ultrachat_200k: prompt, prompt_id, messages
        return row["prompt"]
    messages = row.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return str(messages[0].get("content", ""))
    return None


def import_ultrachat(ctx: ImportContext) -> list[dict]:
    """UltraChat (huggingface.co/datasets/stingning/ultrachat): train_<k>.jsonl, one {"id", "data": [turns]} a line
    (the paper speaks one tenth, train_2.jsonl: option files=train_2.jsonl); also ultrachat_200k's parquet
    (prompt, messages). The first user turn is spoken, up to option max_words (default 80) words; task "request"."""
    import pyarrow.parquet as pq

    root = require_dir(ctx.source, "ultrachat")
    wanted = ctx.options.get("files")
    files = [root / name for name in wanted.split(",")] if wanted else \
        sorted(root.glob("*.jsonl")) + sorted(root.rglob("*.parquet"))
    if not files:
        raise DataError(f"ultrachat: no *.jsonl or *.parquet under {root}")
    max_words = int(ctx.options.get("max_words", 80))
    records = []
    for path in files:
        rows = pq.read_table(path).to_pylist() if path.suffix == ".parquet" else read_jsonl(path)
        for number, row in enumerate(rows, 1):
            text = _first_user_turn(row)
            if text is None:
                raise DataError(f"{path}:{number}: no user turn (expected 'data' or 'prompt'/'messages')")
            text = " ".join(text.split())
            if not text or len(text.split()) > max_words:
                continue
            rid = row.get("id", row.get("prompt_id", f"{path.stem}-{number}"))
            records.append({"id": f"ultrachat/{path.stem}-{rid}", "task": "request", "prompt": text, "text": text,
                            "split": "train", "source": "ultrachat"})
            if ctx.limit is not None and len(records) >= ctx.limit:
                break
    return _synthesize_all(ctx, records)

