"""The mini-world generator: valid records, disjoint splits, seeded, audible labels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from textpro.audio import SAMPLE_RATE, load_audio
from textpro.cli import main
from textpro.data import paralinguistic, questions
from textpro.data.mini import (
    REQUEST,
    TASKS,
    UNSEEN_TASKS,
    VOICE_BASE_F0,
    Job,
    MiniConfig,
    Mix,
    _speak,
    make_mini,
    pitch_setting,
    read_split,
)
from textpro.data.probe import acoustic_features
from textpro.data.synth import VARIANT_GENDER, engine_available

REQUIRED = {"id", "split", "task", "audio", "duration", "prompt", "reference", "text", "words", "voice", "accent",
            "gender", "engine", "variant", "world", "conversion", "conditions"}
HAS_FLITE = engine_available("flite")
needs_flite = pytest.mark.skipif(not HAS_FLITE, reason="flite is not on PATH (apt-get install flite: make install)")
# Enough train clips that piper-free engines, conversion and conditions all show up; the unseen splits tiny.
SMALL = dict(hours=0.01, seed=3, piper_fraction=0.0, festival_fraction=0.3, train_requests=3,
             dev_unseen=(1, 2, 1), test_unseen=(2, 3, 1), unseen=HAS_FLITE, progress=False)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    out = tmp_path_factory.mktemp("mini")
    summary = make_mini(MiniConfig(out=out, **SMALL))
    return out, summary


def _splits(out):
    splits = ["train", "dev", "test", "test_robust"] + (["dev_unseen", "test_unseen"] if HAS_FLITE else [])
    return {split: read_split(out, split) for split in splits}


def test_records_are_valid_and_audio_loads(mini):
    out, summary = mini
    for split, records in _splits(out).items():
        tasks = {"train": {*TASKS, REQUEST}}.get(split, set(UNSEEN_TASKS) if "unseen" in split else set(TASKS))
        assert {r["task"] for r in records} == tasks, split
        for record in records:
            assert REQUIRED <= set(record), record["id"]
            samples = load_audio(out / record["audio"], max_seconds=None)
            assert len(samples) / SAMPLE_RATE == pytest.approx(record["duration"], abs=0.01)
            if record["task"] == "semantic":
                assert record["reference"] in "ABCD" and record["prompt"].count("\n") == 4
            elif record["task"] == REQUEST:
                assert record["reference"] is None and record["prompt"] == record["text"]
            else:
                label = record["reference"]
                assert label in paralinguistic.LABELS[record["task"]]
                assert record["phrasing_form"] in paralinguistic.FORMS
                phrasing = next(p for p in paralinguistic.phrasings_for(record["task"], split)
                                if p.text == record["prompt"])
                assert record["target"] == phrasing.target(label) and phrasing.accepts(label)
            assert record["gender"] in ("male", "female")
            timed = [w for w in record["words"] if w[1] is not None]
            starts = [w[1] for w in timed]
            assert starts == sorted(starts) and (not timed or timed[-1][2] <= record["duration"] + 0.01)
    assert all(r["perturbation"]["snr_db"] is not None for r in read_split(out, "test_robust"))
    assert json.loads((out / "summary.json").read_text())["total_hours"] == summary["total_hours"]


def test_train_varies_engines_voices_and_conditions(mini):
    out, summary = mini
    train = read_split(out, "train")
    engines = {r["engine"] for r in train}
    assert "espeak-ng" in engines and ("festival" in engines or not engine_available("festival"))
    assert {r["world"] for r in train} >= {"convert", "resynth", "none"}
    for r in train:
        if r["conversion"]:  # the gender label follows the conversion
            assert r["conversion"]["to"] == r["gender"] != r["conversion"]["from"]
            assert (r["conversion"]["f0_factor"] > 1) == (r["gender"] == "female") or r["task"] == "pitch"
            assert (r["conversion"]["warp"] > 1) == (r["gender"] == "female")
        if r["task"] == "gender":
            assert r["reference"] == r["gender"]
    kinds = {k for r in train if r["conditions"] for k in r["conditions"]["kinds"]}
    assert len(kinds) >= 3 and any(r["conditions"] is None for r in train)
    assert all(r["conditions"] is None for split in ("dev", "test") for r in read_split(out, split))
    assert all(r["task"] != "style" or not r["conditions"] or "level" not in r["conditions"]["kinds"]
               for r in train)


def test_no_reserved_voice_outside_the_unseen_splits(mini):
    out, _ = mini
    for split in ("train", "dev", "test", "test_robust"):
        for r in read_split(out, split):
            assert r["engine"] != "flite" and not any(name in r["voice"] for name in ("slt", "kal", "rms", "awb"))


@needs_flite
def test_unseen_splits_are_flite_with_measured_pitch_labels(mini):
    out, _ = mini
    for split in ("dev_unseen", "test_unseen"):
        records = read_split(out, split)
        assert {r["engine"] for r in records} == {"flite"}
        for r in records:
            if r["task"] == "pitch":
                assert r["reference"] == paralinguistic.pitch_band(r["median_f0"])
            if r["task"] == "gender":
                assert r["reference"] == ("female" if r["variant"] == "slt" else "male")
            if r["task"] == "rate":
                assert r["measured_wps"] > 0
    dev = {r["text"] for r in read_split(out, "dev_unseen")}
    test = {r["text"] for r in read_split(out, "test_unseen")}
    train = {r["text"] for r in read_split(out, "train")}
    assert not dev & test and not test & train


def test_splits_are_disjoint_in_templates_voices_and_sentences(mini):
    out, _ = mini
    splits = {s: read_split(out, s) for s in ("train", "dev", "test")}
    for key in ("template", "variant"):
        seen = {s: {r.get(key) for r in rows if r.get(key)} for s, rows in splits.items()}
        assert not seen["train"] & seen["dev"] and not seen["train"] & seen["test"] and not seen["dev"] & seen["test"]
    sentences = {s: {r["text"] for r in rows if r["task"] != "semantic"} for s, rows in splits.items()}
    assert not sentences["train"] & sentences["test"]
    # The definitions themselves, beyond this small sample:
    by_split = {s: {t.id for t in questions.templates_for(s)} for s in ("train", "dev", "test")}
    assert sum(len(v) for v in by_split.values()) == len(questions.TEMPLATES)
    assert not by_split["train"] & by_split["test"]
    for split in ("train", "dev", "test"):
        assert {t.kind for t in questions.templates_for(split)} == set(questions.KINDS)
        genders = {VARIANT_GENDER[v] for v in paralinguistic.VOICE_SPLITS[split]}
        assert genders == {"male", "female"}
    voices = [set(v) for v in paralinguistic.VOICE_SPLITS.values()]
    assert not voices[0] & voices[1] and not voices[0] & voices[2] and not voices[1] & voices[2]


def test_same_seed_same_records_other_seed_other_records(mini, tmp_path):
    out, _ = mini
    make_mini(MiniConfig(out=tmp_path / "again", **{**SMALL, "unseen": False}))
    make_mini(MiniConfig(out=tmp_path / "other", **{**SMALL, "seed": 4, "unseen": False}))
    strip = lambda r: {k: v for k, v in r.items() if k not in ("words", "duration")}  # noqa: E731
    first, again = read_split(out, "test_robust"), read_split(tmp_path / "again", "test_robust")
    assert [strip(r) for r in first] == [strip(r) for r in again]
    # espeak carries a little wave-generator state between clips in one process: timing agrees to ~1%.
    for a, b in zip(first, again, strict=True):
        assert a["duration"] == pytest.approx(b["duration"], rel=0.02)
    assert [r["text"] for r in read_split(tmp_path / "other", "train")] != [r["text"] for r in first]


def test_pitch_setting_reaches_bands_for_both_genders():
    for base in VOICE_BASE_F0.values():
        for target in (90.0, 150.0, 250.0):
            param, residual = pitch_setting(base, target)
            assert 10 <= param <= 90
            assert 0.3 < residual < 3.5


def _measure(task: str, label: str, n: int) -> np.ndarray:
    """Features of n freshly spoken train clips whose `task` label is `label` (content/voice drawn per job)."""
    rows, index = [], 0
    while len(rows) < n:
        job = Job(seed=11, split="train", task=task, index=index, piper_fraction=0.0,
                  mix=Mix(festival=0.0, conditions=0.0))
        index += 1
        clip, fields = _speak(job)
        if fields["reference"] == label:
            rows.append(acoustic_features(clip.samples, len(fields["text"].split())))
    return np.array(rows)


def test_labels_are_audible_in_acoustic_features():
    pitch = {label: np.exp(_measure("pitch", label, 4)[:, 0]) for label in paralinguistic.LABELS["pitch"]}
    for label, (low, high) in paralinguistic.PITCH_BANDS_HZ.items():
        assert np.all((pitch[label] > 0.85 * low) & (pitch[label] < 1.15 * high)), (label, pitch[label])
    rate = {label: np.median(_measure("rate", label, 4)[:, 2]) for label in paralinguistic.LABELS["rate"]}
    assert rate["slow"] < 0.8 * rate["normal"] and rate["normal"] < 0.8 * rate["fast"]
    style = {label: np.median(_measure("style", label, 10), axis=0) for label in paralinguistic.LABELS["style"]}
    # Columns: 1 F0 range (semitones), 2 words/s, 3 loudness (dB). Happy's wider range shrinks in semitones at
    # its higher pitch, so happy vs neutral is checked on rate and loudness, where the margins are wide.
    assert style["sad"][1] < 0.5 * min(style["neutral"][1], style["happy"][1])
    assert style["sad"][3] + 3 < style["neutral"][3] + 1.5 < min(style["happy"][3], style["angry"][3])
    # Angry's two emphasised words lengthen it: its words/s overlaps neutral's, so only sad is checked against it.
    assert style["sad"][2] < style["neutral"][2] < style["happy"][2] and style["sad"][2] < style["angry"][2]


def test_cli_make_mini(tmp_path, capsys):
    assert main(["data", "make-mini", "--out", str(tmp_path), "--hours", "0.002", "--no-robust", "--quiet",
                 "--piper-fraction", "0", "--train-requests", "1", "--test-unseen-semantic", "1",
                 *([] if HAS_FLITE else ["--no-unseen"])]) == 0
    assert "records per split" in capsys.readouterr().out
    assert not (tmp_path / "test_robust.jsonl").exists() and (tmp_path / "dev.jsonl").exists()
    if HAS_FLITE:
        assert sum(r["task"] == "semantic" for r in read_split(tmp_path, "test_unseen")) == 1
    assert main(["data", "make-mini", "--out", str(tmp_path), "--hours", "-1"]) == 2
