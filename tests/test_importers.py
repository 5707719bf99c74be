"""`textpro data import KIND DIR`: every layout of issue 14 on its fixture (tests/fixtures/importers, a copy of each
release's layout with tiny tones), the label mappings, speaker-disjoint splits, HF datasets both ways, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from textpro.cli import main
from textpro.data.importers import KINDS, import_dataset, import_records
from textpro.data.importers.common import check_speaker_disjoint, speaker_split
from textpro.data.importers.emotion import ESD_GENDERS, parse_emo_evaluation, parse_ravdess
from textpro.errors import DataError
from textpro.slm.featurize import read_manifest

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
CV = FIXTURES / "commonvoice" / "cv-corpus-17.0-2024-03-15" / "en"
SOURCES = {"commonvoice": CV, "cv-accents": CV, "ravdess-emotion": FIXTURES / "ravdess"}
TTS_KINDS = ("ultrachat", "commonsenseqa", "openbookqa", "arc", "piqa", "storycloze")


def source(kind: str) -> Path:
    return SOURCES.get(kind, FIXTURES / kind)


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, tuple[Path, list[dict]]]:
    """Every fixture kind imported once (TTS kinds with espeak-ng), as written manifests read back."""
    out = tmp_path_factory.mktemp("imported")
    result = {}
    for kind in KINDS:
        if kind == "hf":
            continue
        manifest = out / kind / "manifest.jsonl"
        import_dataset(kind, source(kind), manifest)
        result[kind] = manifest, [json.loads(line) for line in manifest.read_text().splitlines()]
    return result


def has(record: dict, expected: dict) -> bool:
    return all(record.get(k) == v for k, v in expected.items())


def by_id(records: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in records}


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "hf"])
def test_every_layout_imports_into_a_readable_manifest(imported, kind):
    manifest, records = imported[kind]
    assert records
    for record in read_manifest(manifest):  # the featurizer's reader accepts it, every clip exists
        assert Path(record["audio"]).is_file(), record["audio"]
    check_speaker_disjoint(records)
    splits = {r["split"] for r in records}
    assert splits <= {"train", "dev", "test"}


@pytest.mark.parametrize("kind", ["vctk", "crema-d", "tess", "savee", "ravdess", "esd", "iemocap", "paraspeechcaps",
                                  "librispeech", "commonvoice"])
def test_speakers_do_not_cross_splits_and_test_is_not_empty(imported, kind):
    _, records = imported[kind]
    speakers_by_split: dict[str, set] = {}
    for r in records:
        assert r["speaker"].startswith(f"{kind}/")
        speakers_by_split.setdefault(r["split"], set()).add(r["speaker"])
    assert speakers_by_split.get("test") and speakers_by_split.get("train")
    assert not speakers_by_split["train"] & speakers_by_split["test"]
    assert not speakers_by_split["train"] & speakers_by_split.get("dev", set())


def test_speaker_split_is_deterministic_disjoint_and_order_free():
    records = [{"id": f"u{i}", "speaker": f"s{i % 10}"} for i in range(50)]
    first = {r["id"]: r["split"] for r in speaker_split([dict(r) for r in records], seed=3)}
    again = {r["id"]: r["split"] for r in speaker_split([dict(r) for r in reversed(records)], seed=3)}
    assert first == again
    check_speaker_disjoint(speaker_split([dict(r) for r in records], seed=3))
    counts = {s: len({r["speaker"] for r in speaker_split([dict(r) for r in records], seed=3) if r["split"] == s})
              for s in ("train", "dev", "test")}
    assert counts == {"train": 8, "dev": 1, "test": 1}
    with pytest.raises(DataError, match="speaker s1 is in both"):
        check_speaker_disjoint([{"id": "a", "speaker": "s1", "split": "train"},
                                {"id": "b", "speaker": "s1", "split": "test"}])


# ---------------------------------------------------------------------------------------------- label mappings
def test_librispeech_transcripts_gender_and_official_splits(imported):
    records = by_id(imported["librispeech"][1])
    assert records["librispeech/19-198-0001"]["text"] == "CHAPTER ONE"
    assert records["librispeech/19-198-0001"]["gender"] == "female"
    assert has(records["librispeech/1089-134686-0000"], {"gender": "male", "split": "test"})
    assert records["librispeech/84-121123-0000"]["split"] == "dev"


def test_commonvoice_gender_accent_age_and_official_splits(imported):
    records = by_id(imported["commonvoice"][1])
    us = records["commonvoice/common_voice_en_100"]
    assert (us["gender"], us["accent"], us["age"], us["split"], us["task"], us["reference"]) == \
        ("male", "american", "twenties", "train", "age", "twenties")
    assert records["commonvoice/common_voice_en_200"]["accent"] == "british"
    assert records["commonvoice/common_voice_en_300"]["accent"] == "indian"
    blank = records["commonvoice/common_voice_en_102"]
    assert "gender" not in blank and "age" not in blank and "task" not in blank
    two = records["commonvoice/common_voice_en_304"]
    assert "accent" not in two and two["accent_raw"] == "United States English|Canadian English"


def test_commonvoice_without_official_splits_splits_validated_by_speaker(tmp_path):
    root = tmp_path / "en"
    shutil.copytree(CV, root)
    for split in ("train", "dev", "test"):
        (root / f"{split}.tsv").unlink()
    records = import_records("commonvoice", root, tmp_path / "m.jsonl")
    assert len(records) == 9
    check_speaker_disjoint(records)


def test_cv_accents_is_a_label_test_over_mapped_accents(imported):
    records = imported["cv-accents"][1]
    assert {r["split"] for r in records} == {"test"}
    assert records[0]["labels"] == ["american", "british", "indian"]
    assert all(r["reference"] == r["accent"] and r["task"] == "accent" and r["kind"] == "label" for r in records)
    assert "american, british or indian" in records[0]["instruction"]
    assert "cv-accents/common_voice_en_304" not in by_id(records)  # two accents: no single label


def test_vctk_speaker_info_accents_and_missing_audio(imported):
    records = by_id(imported["vctk"][1])
    assert has(records["vctk/p234_001"], {"accent": "scottish", "gender": "female", "task": "accent",
                                             "reference": "scottish", "text": "Please call Stella."})
    assert records["vctk/p245_002"]["accent"] == "irish" and records["vctk/p226_001"]["gender"] == "male"
    assert records["vctk/p225_001"]["audio"].endswith("p225_001_mic1.flac")
    assert "vctk/p225_003" not in records  # a transcript without its recording


def test_paraspeechcaps_gender_accent_caption(imported):
    records = imported["paraspeechcaps"][1]
    first = next(r for r in records if "id10002" in r["speaker"])
    assert (first["gender"], first["accent"], first["psc_split"]) == ("female", "british", "train_base")
    assert first["caption"].startswith("A female speaker")


def test_cremad_codes(imported):
    records = by_id(imported["crema-d"][1])
    angry = records["crema-d/1001_DFA_ANG_XX"]
    assert (angry["emotion"], angry["reference"], angry["gender"], angry["text"], angry["intensity"]) == \
        ("angry", "angry", "male", "Don't forget a jacket.", "unspecified")
    assert has(records["crema-d/1003_IOM_FEA_LO"], {"emotion": "fearful", "gender": "female", "intensity": "low"})
    assert records["crema-d/1004_IWW_DIS_MD"]["emotion"] == "disgusted"


def test_tess_and_savee_labels(imported):
    tess = by_id(imported["tess"][1])
    assert tess["tess/OAF_back_ps"]["emotion"] == "surprised" and tess["tess/OAF_back_ps"]["gender"] == "female"
    assert tess["tess/YAF_bath_disgust"]["text"] == "Say the word bath."
    savee = by_id(imported["savee"][1])
    assert {k.split("/")[1]: v["emotion"] for k, v in savee.items()} == {
        "DC_a01": "angry", "DC_n01": "neutral", "JE_sa01": "sad", "JE_su02": "surprised", "JK_d03": "disgusted",
        "JK_f01": "fearful", "KL_h15": "happy"}


def test_ravdess_filename_fields():
    fields = parse_ravdess("03-01-06-01-02-01-12.wav")
    assert has(fields, {"modality": "audio", "channel": "speech", "emotion": "fearful", "intensity": "normal",
                           "text": "Dogs are sitting by the door.", "actor": "12", "gender": "female"})
    assert parse_ravdess("03-01-02-02-01-02-07.wav")["gender"] == "male"
    with pytest.raises(DataError, match="not a RAVDESS file name"):
        parse_ravdess("03-01-09-01-01-01-01.wav")


def test_ravdess_skips_song_and_ravdess_emotion_is_all_test(imported):
    records = by_id(imported["ravdess"][1])
    assert "ravdess/03-02-03-01-01-01-01" not in records
    assert has(records["ravdess/03-01-05-02-01-01-01"], {"emotion": "angry", "intensity": "strong",
                                                              "gender": "male"})
    evaluation = imported["ravdess-emotion"][1]
    assert {r["split"] for r in evaluation} == {"test"} and len(evaluation) == len(records)
    assert evaluation[0]["labels"] == ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgusted", "surprised"]


def test_esd_folder_names_english_only_and_text(imported, tmp_path):
    records = by_id(imported["esd"][1])
    assert records["esd/0013_001751"]["emotion"] == "surprised"
    assert has(records["esd/0011_000001"], {"emotion": "neutral", "esd_split": "evaluation", "language": "english"})
    assert records["esd/0011_000351"]["text"].startswith("Author of the danger trail")
    assert not any(r["speaker"] == "esd/0001" for r in records.values())  # Mandarin: only with esd_all
    everyone = import_records("esd", FIXTURES / "esd", tmp_path / "m.jsonl", options={"esd_all": True})
    assert any(r["speaker"] == "esd/0001" and r["language"] == "mandarin" for r in everyone)
    # gender from the release's speaker list: every clip of a speaker, English and Mandarin
    genders = {r["speaker"]: r["gender"] for r in everyone}
    assert genders == {"esd/0001": "female", "esd/0011": "male", "esd/0012": "male", "esd/0013": "male",
                       "esd/0015": "female"}
    assert all(r["gender"] == genders[r["speaker"]] for r in everyone)
    assert ESD_GENDERS["0019"] == "female" and ESD_GENDERS["0020"] == "male" and len(ESD_GENDERS) == 20
    assert sorted(ESD_GENDERS.values()).count("female") == 10
    spaced = tmp_path / "esd"
    shutil.copytree(FIXTURES / "esd", spaced)
    label_file = spaced / "Emotion Speech Dataset" / "0011" / "0011.txt"
    label_file.write_text(label_file.read_text().replace("\t", "   "))
    records = by_id(import_records("esd", spaced, tmp_path / "m.jsonl"))
    assert records["esd/0011_000351"]["text"] == "Author of the danger trail, Philip Steels, etc."
    label_file.write_text("0011_000001\n")
    with pytest.raises(DataError, match=r"0011.txt:1: expected"):
        import_records("esd", spaced, tmp_path / "m.jsonl")


def test_iemocap_emo_evaluation_lines(imported):
    records = by_id(imported["iemocap"][1])
    assert has(records["iemocap/Ses01F_impro01_F000"], {"emotion": "neutral", "gender": "female",
                                                             "speaker": "iemocap/Ses01F", "text": "Excuse me."})
    assert records["iemocap/Ses01F_impro01_M000"]["emotion"] == "frustrated"  # kept, not trained (see below)
    assert records["iemocap/Ses01F_impro01_M000"]["speaker"] == "iemocap/Ses01M"
    assert records["iemocap/Ses02M_script01_1_M000"]["emotion"] == "happy"  # excited merges into happy
    assert records["iemocap/Ses02M_script01_1_M000"]["emotion_raw"] == "exc"
    assert "iemocap/Ses01F_impro01_F001" not in records  # xxx: no majority label
    rows = parse_emo_evaluation(FIXTURES / "iemocap/IEMOCAP_full_release/Session1/dialog/EmoEvaluation/"
                                "Ses01F_impro01.txt")
    assert has(rows[0], {"turn": "Ses01F_impro01_F000", "start": 1.5, "end": 3.25, "vad": [2.5, 3.0, 2.5]})


def test_spoken_multiple_choice_sets(imported, tmp_path):
    csqa = imported["commonsenseqa"][1]
    assert len(csqa) == 2 and {r["split"] for r in csqa} == {"train", "dev"}  # the no-answers test file is skipped
    milk = by_id(csqa)["commonsenseqa/075e483d21c29a511267ef62bedc0461"]
    assert milk["reference"] == "B" and milk["prompt"].splitlines()[2] == "B. fridge"
    assert milk["text"] == "Where would you keep milk? A, shelf. B, fridge. C, oven. D, garage. E, desk."
    assert milk["voice"].startswith("espeak:american+") and milk["gender"] in ("male", "female")
    arc = by_id(imported["arc"][1])
    assert arc["arc-challenge/NYSEDREGENTS_2015_8_28"]["reference"] == "C"  # answer key "3" of labels 1–4
    assert arc["arc-easy/Mercury_7179953"]["task"] == "arc-easy"
    piqa = by_id(imported["piqa"][1])
    assert (piqa["piqa/valid-0"]["reference"], piqa["piqa/valid-1"]["reference"]) == ("A", "B")
    parallel = import_records("piqa", FIXTURES / "piqa", tmp_path / "m.jsonl", options={"workers": 2})
    assert [r["voice"] for r in parallel] == [piqa[r["id"]]["voice"] for r in parallel]  # the same voices
    assert all((tmp_path / r["audio"]).is_file() for r in parallel)
    story = imported["storycloze"][1][0]
    assert story["reference"] == "A" and story["split"] == "dev" and story["prompt"].endswith("B. He joined a gang.")
    obqa = by_id(imported["openbookqa"][1])
    assert obqa["openbookqa/8-343"]["split"] == "test" and obqa["openbookqa/7-980"]["split"] == "train"


def test_ultrachat_speaks_first_user_turns_and_resumes(imported, tmp_path):
    manifest, records = imported["ultrachat"]
    assert [r["text"] for r in records] == ["How do I keep basil fresh?", "Write a two line poem about rain."]
    assert all(r["task"] == "request" for r in records)  # the 120-word request is over max_words
    import soundfile as sf

    info = sf.info(manifest.parent / records[0]["audio"])
    assert info.samplerate == 16000 and 0.5 < info.duration < 10
    before = (manifest.parent / records[0]["audio"]).stat().st_mtime_ns
    import_dataset("ultrachat", FIXTURES / "ultrachat", manifest)  # a rerun reuses the clips
    assert (manifest.parent / records[0]["audio"]).stat().st_mtime_ns == before


def test_voxeval_and_voicebench(imported, tmp_path):
    vox = by_id(imported["voxeval"][1])
    two = vox["voxeval/alloy/college_mathematics_4o/1"]
    assert two["reference"] == "C" and two["task"] == "college_mathematics" and two["audio"].endswith(
        "college_mathematics_4o/00000001_question.mp3")
    math = import_records("voxeval", FIXTURES / "voxeval", tmp_path / "m.jsonl", options={"subjects": "math"})
    assert {r["task"] for r in math} == {"college_mathematics"}
    bench = by_id(imported["voicebench"][1])
    obqa = bench["voicebench/openbookqa/test/0"]
    assert obqa["task"] == "openbookqa" and obqa["reference"] == "B" and obqa["kind"] == "mcq"


def test_voicebench_mmsu_is_every_domain_split_as_the_test_set(imported, tmp_path):
    mmsu = [r for r in imported["voicebench"][1] if r["task"] == "mmsu"]
    # the release's layout: mmsu/<domain>-00000-of-00001.parquet, domains in sorted order as VoiceBench concatenates
    assert [(r["id"], r["domain"], r["reference"]) for r in mmsu] == [
        ("voicebench/mmsu/biology/0", "biology", "C"), ("voicebench/mmsu/biology/1", "biology", "A"),
        ("voicebench/mmsu/law/0", "law", "B")]
    assert {(r["split"], r["kind"]) for r in mmsu} == {("test", "mcq")}
    manifest = tmp_path / "mmsu" / "test.jsonl"
    summary = import_dataset("voicebench", FIXTURES / "voicebench", manifest, splits=("test",),
                             options={"subsets": "mmsu"})
    assert summary["records"] == 3 and summary["splits"] == {"test": 3}
    from textpro.eval.bench import load_bench

    items = load_bench(manifest.parent)  # as `textpro eval --bench` reads it
    assert [(i.kind, i.letters, i.reference) for i in items] == [("mcq", "abcd", "c"), ("mcq", "abcd", "a"),
                                                                ("mcq", "abcd", "b")]
    assert all(i.audio_path.is_file() for i in items)


def test_spoken_storycloze_pairs_the_released_clips(imported, tmp_path):
    manifest, records = imported["spoken-storycloze"]
    assert [r["id"] for r in records] == ["sstorycloze/0", "sstorycloze/10", "tstorycloze/0", "tstorycloze/10"]
    for r in records:
        assert (r["kind"], r["split"], r["source"]) == ("pair", "test", "spoken-storycloze")
        folder = "sSC" if r["task"] == "sstorycloze" else "tSC"
        number = int(r["id"].split("/")[1])
        correct, wrong = r["reference"], "B" if r["reference"] == "A" else "A"
        # clips 2i and 2i+1 in numeric order (10 after 1, not before): the correct ending, then the incorrect
        assert r["options_audio"][correct].endswith(f"{folder}/{number}_story.wav")
        assert r["options_audio"][wrong].endswith(f"{folder}/{number + 1}_story.wav")
        assert r["audio"] == r["options_audio"]["A"] and (manifest.parent / r["options_audio"]["B"]).is_file()
        assert r["options_text"][correct].startswith(r["options_text"][wrong][:40])  # the same story
    texts = {r["id"]: r["options_text"] for r in records}
    assert "He is happy now." in texts["sstorycloze/0"][by_id(records)["sstorycloze/0"]["reference"]]
    assert sorted(t.rsplit(". ", 1)[1] for t in texts["tstorycloze/0"].values()) == ["He is happy now.",
                                                                                       "The cake was delicious."]
    assert {r["reference"] for r in records} <= {"A", "B"}
    only = import_records("spoken-storycloze", FIXTURES / "spoken-storycloze" / "tSC", tmp_path / "m.jsonl")
    assert {r["task"] for r in only} == {"tstorycloze"} and len(only) == 2
    # names that say which ending they hold are paired by name; a .txt is optional
    marked = tmp_path / "sSC"
    marked.mkdir()
    for source_name, name in (("0_story", "7_correct"), ("1_story", "7_incorrect")):
        shutil.copy(FIXTURES / "spoken-storycloze" / "sSC" / f"{source_name}.wav", marked / f"{name}.wav")
    (record,) = import_records("spoken-storycloze", tmp_path, tmp_path / "m.jsonl", options={"subsets": "sSC"})
    assert record["id"] == "sstorycloze/7" and "options_text" not in record
    assert record["options_audio"][record["reference"]].endswith("7_correct.wav")
    (marked / "7_incorrect.wav").unlink()
    with pytest.raises(DataError, match=r"sSC/7_incorrect.wav is missing"):
        import_records("spoken-storycloze", tmp_path, tmp_path / "m.jsonl")
    (marked / "7_correct.wav").rename(marked / "7_story.wav")
    with pytest.raises(DataError, match=r"1 clips in sSC/, expected correct/incorrect pairs"):
        import_records("spoken-storycloze", tmp_path, tmp_path / "m.jsonl")
    shutil.copy(marked / "7_story.wav", marked / "7_other.wav")
    with pytest.raises(DataError, match=r"share the number 7"):
        import_records("spoken-storycloze", tmp_path, tmp_path / "m.jsonl")
    shutil.copy(marked / "7_story.wav", marked / "story.wav")
    with pytest.raises(DataError, match=r"story.wav in sSC/ is not <n>_"):
        import_records("spoken-storycloze", tmp_path, tmp_path / "m.jsonl")
    with pytest.raises(DataError, match=r"no sSC/ or tSC/ folder of .wav files"):
        import_records("spoken-storycloze", FIXTURES / "esd", tmp_path / "m.jsonl")
    with pytest.raises(DataError, match=r"unknown subset 'xSC'"):
        import_records("spoken-storycloze", tmp_path, tmp_path / "m.jsonl", options={"subsets": "xSC"})


def test_eval_harness_reads_the_evaluation_manifests(imported):
    from textpro.eval.bench import items_from_records

    for kind in ("voxeval", "ravdess-emotion", "cv-accents", "openbookqa"):
        manifest, records = imported[kind]
        items = items_from_records(records, base_dir=manifest.parent)
        assert len(items) == len(records)
        assert all(item.audio_path is not None and item.audio_path.is_file() for item in items)


@pytest.mark.parametrize("config", ["paper-7b.yaml", "paper-3b.yaml"])
def test_training_labels_are_the_paper_configs_label_sets(imported, config):
    """`textpro train slm` refuses a reference outside its config's label set: every imported training record's
    (task, reference) must be in configs/paper-*.yaml, and the gender/accent fields it reads from every clip too."""
    import yaml

    from textpro.data.importers.common import TRAIN_LABELS

    labels = yaml.safe_load((Path(__file__).parents[1] / "configs" / config).read_text())["paralinguistic"]["labels"]
    assert {task: tuple(values) for task, values in labels.items()} == TRAIN_LABELS
    for kind in ("librispeech", "commonvoice", "vctk", "paraspeechcaps", "crema-d", "tess", "savee", "ravdess",
                 "esd", "iemocap"):
        for record in imported[kind][1]:
            if record.get("task") in labels:
                assert record["reference"] in labels[record["task"]], (kind, record["id"])
            for field in ("gender", "accent"):
                assert record.get(field) is None or record[field] in labels[field], (kind, record["id"], field)


def test_labels_outside_the_training_sets_are_kept_but_not_trained(imported):
    iemocap = by_id(imported["iemocap"][1])
    frustrated = iemocap["iemocap/Ses01F_impro01_M000"]
    assert frustrated["emotion"] == "frustrated" and "task" not in frustrated and "reference" not in frustrated
    ravdess = by_id(imported["ravdess"][1])
    calm = ravdess["ravdess/03-01-02-01-01-01-04"]
    assert calm["emotion"] == "calm" and "task" not in calm
    assert by_id(imported["ravdess-emotion"][1])["ravdess-emotion/03-01-02-01-01-01-04"]["reference"] == "calm"


def test_commonvoice_age_spelling(tmp_path):
    root = tmp_path / "en"
    shutil.copytree(CV, root)
    tsv = root / "dev.tsv"
    tsv.write_text(tsv.read_text().replace("fifties", "fourties"))
    record = by_id(import_records("commonvoice", root, tmp_path / "m.jsonl"))["commonvoice/common_voice_en_200"]
    assert (record["age"], record["age_raw"], record["reference"]) == ("forties", "fourties", "forties")


# ---------------------------------------------------------------------------------------------- HF datasets
@pytest.mark.parametrize("parquet", [False, True])
def test_hf_dataset_round_trip(imported, tmp_path, parquet):
    manifest, records = imported["crema-d"]
    written = tmp_path / "hf"
    assert main(["data", "export-hf", str(manifest), "--out", str(written)] + (["--parquet"] if parquet else [])) == 0
    back = tmp_path / "back" / "manifest.jsonl"
    assert main(["data", "import", "hf", str(written), "--out", str(back)]) == 0
    again = [json.loads(line) for line in back.read_text().splitlines()]
    assert len(again) == len(records)
    original = by_id(records)
    for record in again:
        split, own_id = record["id"].split("/", 2)[1:]
        source_record = original[own_id]
        assert (manifest.parent / source_record["audio"]).read_bytes() == (back.parent / record["audio"]).read_bytes()
        assert split == record["split"] == source_record["split"]
        for field in ("emotion", "gender", "text", "task", "reference"):
            assert record.get(field) == source_record.get(field), field
        assert record["speaker"] == "hf/" + source_record["speaker"]
    if not parquet:
        import datasets

        loaded = datasets.load_from_disk(str(written))
        assert isinstance(loaded["train"].features["audio"], datasets.Audio)


def test_cli_writes_chosen_splits_with_the_same_speakers_apart(tmp_path, capsys):
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    assert main(["data", "import", "crema-d", str(FIXTURES / "crema-d"), "--out", str(train), "--splits", "train",
                 "--seed", "1"]) == 0
    assert "records (train " in capsys.readouterr().out
    assert main(["data", "import", "crema-d", str(FIXTURES / "crema-d"), "--out", str(test), "--splits",
                 "dev,test", "--seed", "1"]) == 0
    train_rows, test_rows = (read_manifest(path) for path in (train, test))
    assert {r["split"] for r in train_rows} == {"train"} and {r["split"] for r in test_rows} <= {"dev", "test"}
    assert len(train_rows) + len(test_rows) == 6
    assert not {r["speaker"] for r in train_rows} & {r["speaker"] for r in test_rows}


def test_import_summary_counts_speaker_ids_not_missing_ones(tmp_path, capsys):
    from textpro.data.importers import speaker_count

    assert main(["data", "import", "spoken-storycloze", str(FIXTURES / "spoken-storycloze"), "--out",
                 str(tmp_path / "ssc.jsonl")]) == 0
    assert "; no speaker ids) to" in capsys.readouterr().out  # its records carry no speaker: not "1 speakers"
    summary = import_dataset("crema-d", FIXTURES / "crema-d", tmp_path / "crema.jsonl")
    assert summary["speakers"] == len({r["speaker"] for r in read_manifest(tmp_path / "crema.jsonl")}) > 1
    assert summary["speakers_text"] == f"{summary['speakers']} speakers"
    assert [speaker_count(n) for n in (0, 1, 2)] == ["no speaker ids", "1 speaker", "2 speakers"]


def test_hf_parquet_with_decoded_arrays_and_without_audio(tmp_path):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "ds" / "data").mkdir(parents=True)
    wave = (0.3 * np.sin(np.arange(1600) / 5)).astype(np.float32).tolist()
    pq.write_table(pa.Table.from_pylist([{"audio": {"array": wave, "sampling_rate": 8000}, "sentence": "hello there",
                                          "client_id": "abc", "gender": "female_feminine", "age": "twenties"}]),
                   tmp_path / "ds" / "data" / "test-00000-of-00001.parquet")
    (record,) = import_records("hf", tmp_path / "ds", tmp_path / "out" / "m.jsonl")
    assert has(record, {"id": "hf/test/0", "text": "hello there", "speaker": "hf/abc", "gender": "female",
                        "split": "test", "age": "twenties"})
    assert (tmp_path / "out" / record["audio"]).suffix == ".flac"
    pq.write_table(pa.Table.from_pylist([{"sentence": "no audio"}]), tmp_path / "ds" / "data" /
                   "test-00000-of-00001.parquet")
    with pytest.raises(DataError, match="no Audio column"):
        import_records("hf", tmp_path / "ds", tmp_path / "out" / "m.jsonl")


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_input_raises_typed_one_line_errors(tmp_path, capsys):
    with pytest.raises(DataError, match="unknown dataset kind 'timit'"):
        import_records("timit", tmp_path, tmp_path / "m.jsonl")
    with pytest.raises(DataError, match="does not exist"):
        import_records("ravdess", tmp_path / "nowhere", tmp_path / "m.jsonl")
    with pytest.raises(DataError, match="no folder .*AudioWAV"):
        import_records("crema-d", tmp_path, tmp_path / "m.jsonl")
    broken = tmp_path / "iemocap"
    shutil.copytree(FIXTURES / "iemocap", broken)
    label_file = broken / "IEMOCAP_full_release/Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"
    label_file.write_text("[1.0 - 2.0]\tSes01F_impro01_F000\tneu\n")  # no V/A/D
    with pytest.raises(DataError, match=r"Ses01F_impro01.txt:1: malformed EmoEvaluation line"):
        import_records("iemocap", broken, tmp_path / "m.jsonl")
    vctk = tmp_path / "vctk"
    shutil.copytree(FIXTURES / "vctk", vctk)
    (vctk / "speaker-info.txt").write_text("ID  AGE  GENDER  ACCENTS\np225  twenty  F  English\n")
    with pytest.raises(DataError, match="speaker-info.txt:2: expected 'ID AGE GENDER ACCENT"):
        import_records("vctk", vctk, tmp_path / "m.jsonl")
    assert main(["data", "import", "timit", str(tmp_path), "--out", str(tmp_path / "m.jsonl")]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("textpro: error: unknown dataset kind 'timit'") and "\n" not in message
    assert main(["data", "import", "tess", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.jsonl")]) == 2
    assert not (tmp_path / "m.jsonl").exists()
