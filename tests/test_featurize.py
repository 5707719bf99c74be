"""Feature cache (`textpro featurize`): read back == direct transcription, resume skips finished shards, records
work as TextPro-SLM speech; distillation targets (`textpro distill`) and task mixing."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from textpro.audio import load_audio
from textpro.errors import ConfigError
from textpro.slm.featurize import FeatureStore, featurize, read_manifest, shard_name
from textpro.slm.tasks import (
    Example,
    ParalinguisticConfig,
    distillation_examples,
    match_label,
    mix,
    paralinguistic_examples,
)

# (text, espeak variant, gender): paralinguistic gender records, then two semantic questions
CLIPS = [("The train leaves at nine.", "m1", "male"), ("Please close the door.", "f2", "female"),
         ("We painted the kitchen blue.", "m2", "male"), ("The shop opens at six.", "f4", "female")]
QUESTIONS = ["What is the capital of France? A. Paris, B. Rome.", "How many legs does a cat have?"]


pytestmark = pytest.mark.usefixtures("one_thread")


def write_manifest(directory: Path) -> Path:
    """Six espeak clips: four gender-task records (the label only in the voice) and two semantic questions."""
    from textpro.data.paralinguistic import PROMPTS
    from textpro.data.synth import synthesize_espeak

    directory.mkdir(parents=True, exist_ok=True)
    rows = [dict(text=t, variant=v, task="gender", prompt=PROMPTS["gender"][i % 3], reference=g)
            for i, (t, v, g) in enumerate(CLIPS)]
    rows += [dict(text=q, variant="m1", task="semantic", prompt=q, reference="A") for q in QUESTIONS]
    with open(directory / "train.jsonl", "w") as f:
        for i, row in enumerate(rows):
            clip = synthesize_espeak(row["text"], variant=row["variant"])
            sf.write(directory / f"clip{i}.wav", clip.samples, clip.sample_rate)
            f.write(json.dumps({"id": f"utt{i}", "audio": f"clip{i}.wav", **row}) + "\n")
    return directory / "train.jsonl"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    return write_manifest(tmp_path_factory.mktemp("clips"))


def tiny_transcriber(whisper_tiny_en_dir, d_model: int = 32):
    """Random tiny WhisperPro with the real tokenizer: exercises the code path, not the accuracy."""
    from transformers import GenerationConfig, WhisperProcessor

    from textpro.whisperpro import Transcriber, WhisperPro, WhisperProConfig

    torch.manual_seed(0)
    config = WhisperProConfig(vocab_size=51864, d_model=d_model, encoder_layers=1, decoder_layers=2,
                              encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                              decoder_ffn_dim=64, max_target_positions=448, decoder_start_token_id=50257,
                              pad_token_id=50256, eos_token_id=50256, bos_token_id=50256)
    model = WhisperPro(config).eval()
    model.generation_config = GenerationConfig.from_pretrained(whisper_tiny_en_dir)
    model.generation_config.alignment_heads = [[1, 0], [1, 1]]
    model.generation_config.max_new_tokens = 10
    return Transcriber(model, WhisperProcessor.from_pretrained(whisper_tiny_en_dir), batch_size=1)


@pytest.fixture(scope="module")
def transcriber(whisper_tiny_en_dir):
    return tiny_transcriber(whisper_tiny_en_dir)


def test_read_back_equals_direct_transcription(manifest, transcriber, tmp_path):
    meta = featurize(manifest, "tiny-random", tmp_path / "f", shard_size=4, batch_size=1, progress=False,
                     transcriber=transcriber)
    assert meta["num_records"] == 6 and meta["num_shards"] == 2 and meta["d_whisper"] == 32
    store = FeatureStore(tmp_path / "f")
    assert len(store) == 6 and store.d_whisper == 32
    for i, record in enumerate(read_manifest(manifest)):
        direct = transcriber.transcribe(record["audio"])
        cached = store[i]
        assert cached["id"] == record["id"] and cached["text"] == direct.text
        assert cached["token_ids"] == direct.token_ids
        assert cached["prosody"].shape == direct.prosody.shape
        np.testing.assert_array_equal(cached["prosody"], direct.prosody)
        np.testing.assert_array_equal(cached["utterance"], direct.utterance)
        np.testing.assert_array_equal(cached["starts"], direct.starts)
        # the clip's mean encoder state rides along (featurize measures it for the SLMs that read it)
        clip = load_audio(record["audio"])
        np.testing.assert_allclose(cached["encoder_mean"], transcriber.encoder_states([clip])[0].mean(0), atol=1e-5)
        assert cached["encoder_mean"].shape == (32,)
        assert cached["duration"] == pytest.approx(direct.duration, abs=1e-3)
        assert cached["manifest"]["task"] == record["task"]  # the manifest record rides along
        assert cached["manifest"]["text"] == record["text"]  # ground truth, next to the ASR `text`


def test_resume_skips_finished_shards(manifest, transcriber, tmp_path):
    out = tmp_path / "f"
    featurize(manifest, "tiny-random", out, shard_size=2, batch_size=2, progress=False, transcriber=transcriber)
    first = (out / f"{shard_name(0)}.safetensors").stat().st_mtime_ns
    # an interrupted run: shard 2 and the index are gone
    (out / f"{shard_name(2)}.jsonl").unlink()
    (out / "index.jsonl").unlink()
    with pytest.raises(ConfigError, match="unfinished"):
        FeatureStore(out)

    calls = []
    original = transcriber.transcribe

    def counting(clips, **kwargs):
        calls.append(len(clips))
        return original(clips, **kwargs)

    transcriber.transcribe = counting
    try:
        featurize(manifest, "tiny-random", out, shard_size=2, batch_size=2, progress=False, transcriber=transcriber)
    finally:
        del transcriber.transcribe
    assert calls == [2]  # only the missing shard's two clips
    assert (out / f"{shard_name(0)}.safetensors").stat().st_mtime_ns == first
    assert len(FeatureStore(out)) == 6
    with pytest.raises(ConfigError, match="another job"):
        featurize(manifest, "tiny-random", out, shard_size=3, progress=False, transcriber=transcriber)


def test_bad_manifest_names_line(tmp_path, transcriber):
    path = tmp_path / "m.jsonl"
    path.write_text('{"audio": "a.wav"}\n{"text": "no audio"}\n')
    with pytest.raises(ConfigError, match=r"m.jsonl:2"):
        featurize(path, "x", tmp_path / "f", transcriber=transcriber)


def test_records_are_slm_speech(manifest, transcriber, tmp_path):
    from textpro.slm import as_speech_tokens

    featurize(manifest, "tiny-random", tmp_path / "f", progress=False, transcriber=transcriber)
    record = FeatureStore(tmp_path / "f")[1]
    speech = as_speech_tokens(record)
    assert speech.text == record["text"] and speech.prosody.shape == (len(record["token_ids"]), 32)
    np.testing.assert_array_equal(speech.utterance, record["utterance"])


def test_paralinguistic_examples_and_mix(manifest, transcriber, tmp_path):
    featurize(manifest, "tiny-random", tmp_path / "f", progress=False, transcriber=transcriber)
    store = FeatureStore(tmp_path / "f")
    para = paralinguistic_examples([store], ParalinguisticConfig())
    assert [(e.response, e.kind) for e in para] == [(g, "gender") for _, _, g in CLIPS]
    assert para[0].instruction == "What is the speaker's gender? Answer male or female."
    only_gender = ParalinguisticConfig(labels={"gender": ["male", "female"]}, prompts={"gender": ["Gender?"]})
    assert len(paralinguistic_examples([store], only_gender)) == 4
    with pytest.raises(ConfigError, match="not in the gender label set"):
        paralinguistic_examples([store], ParalinguisticConfig(labels={"gender": ["man", "woman"]}))

    # A clip's speaker labels are asked whatever its task: a spoken question whose record names its speaker's gender
    # (and an accent outside the label set, skipped) gives one more gender example, with a configured prompt.
    store.index[4]["manifest"].update(gender="male", accent="martian")
    store.index[0]["manifest"].update(accent="scottish")  # a gender-task clip: asked its own task only
    extra = [e for e in paralinguistic_examples([store], ParalinguisticConfig()) if e.index == 4]
    assert [(e.response, e.kind) for e in extra] == [("male", "gender")]
    assert [e.kind for e in paralinguistic_examples([store], ParalinguisticConfig()) if e.index == 0] == ["gender"]
    assert extra[0].instruction in ParalinguisticConfig().prompts["gender"]
    assert not [e for e in paralinguistic_examples([store], ParalinguisticConfig(every_clip=[])) if e.index == 4]

    distill = [Example(0, i, None, "answer", "distill") for i in (4, 5)]
    assert mix(distill, para, None, 0) == distill + para
    mixed = mix(distill, para, 0.75, seed=3)  # 6 paralinguistic for 2 distillation: repeated in shuffles
    assert len(mixed) == 8 and sum(e.kind == "gender" for e in mixed) == 6
    assert mixed == mix(distill, para, 0.75, seed=3)  # deterministic by seed
    assert mix(distill, para, 0.0, 0) == distill and mix([], para, 0.5, 0) == para


def test_match_label():
    assert match_label("The speaker is female.", ["male", "female"]) == "female"
    assert match_label("Male.", ["male", "female"]) == "male"
    assert match_label("high, not low", ["low", "mid", "high"]) == "high"
    assert match_label("I cannot tell", ["male", "female"]) is None


def test_distill_writes_teacher_answers_and_resumes(manifest, transcriber, tmp_path, smol_dir):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from textpro.slm.distill import distill

    featurize(manifest, "tiny-random", tmp_path / "f", progress=False, transcriber=transcriber)
    tokenizer = AutoTokenizer.from_pretrained(smol_dir)
    torch.manual_seed(0)
    llm = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                       bos_token_id=1, eos_token_id=2, pad_token_id=2)).eval()
    out = tmp_path / "distill.jsonl"
    kwargs = dict(batch_size=2, max_new_tokens=5, progress=False, llm=llm, tokenizer=tokenizer)
    assert distill(tmp_path / "f", "tiny", out, task="semantic", limit=1, **kwargs) == 1
    assert distill(tmp_path / "f", "tiny", out, task="semantic", **kwargs) == 1  # resumes: only the other one
    assert distill(tmp_path / "f", "tiny", out, task="semantic", **kwargs) == 0
    rows = [json.loads(line) for line in open(out)]
    store = FeatureStore(tmp_path / "f")
    assert [r["id"] for r in rows] == ["utt4", "utt5"]
    assert all(r["response"] and r["source"] == "asr" for r in rows)
    assert rows[0]["question"] == store[4]["text"]  # the teacher read the ASR transcript

    # the same as answering one by one (left padding is invisible)
    from textpro.slm.distill import answer

    assert answer(llm, tokenizer, [r["question"] for r in rows], 5) == [r["response"] for r in rows]
    assert answer(llm, tokenizer, [rows[1]["question"]], 5) == [rows[1]["response"]]

    truth = tmp_path / "truth.jsonl"
    distill(tmp_path / "f", "tiny", truth, source="ground_truth", task="semantic", **kwargs)
    assert [json.loads(line)["question"] for line in open(truth)] == QUESTIONS
    examples = distillation_examples([store], out)
    assert [(e.index, e.instruction, e.kind) for e in examples] == [(4, None, "distill"), (5, None, "distill")]

    # written prompts instead of a feature cache: the prompt is the question, resumable the same way
    written = tmp_path / "written.jsonl"
    prompts = ["Why do cats sleep so much?", "Describe a quiet harbour."]
    assert distill(None, "tiny", written, prompts=prompts, limit=1, **kwargs) == 1
    assert distill(None, "tiny", written, prompts=prompts, **kwargs) == 1
    rows = [json.loads(line) for line in open(written)]
    assert [(r["id"], r["source"], r["question"]) for r in rows] == [("prompt-00000", "text", prompts[0]),
                                                                     ("prompt-00001", "text", prompts[1])]
    assert [r["response"] for r in rows] == answer(llm, tokenizer, prompts, 5)


@pytest.fixture(scope="module")
def smol_dir():
    from textpro.hub import resolve_model

    return resolve_model("smollm2-135m-instruct")
