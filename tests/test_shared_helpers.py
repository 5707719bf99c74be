"""One way to do each thing: the training-kind protocol, the config loader, the chat renderer and greedy generator,
the log-mel batcher and the audio constants, each defined once and used by every caller."""

import numpy as np
import pytest
import torch

from textpro.errors import ConfigError
from textpro.train.config import TrainConfig, load_config, merge, override


def test_the_three_training_entry_points_are_training_stages():
    import textpro.slm.training as slm
    import textpro.train.text_llm as teacher
    import textpro.whisperpro.training as whisperpro
    from textpro.train.kind import IGNORE_INDEX, TrainingKind

    for module in (whisperpro, slm, teacher):
        assert isinstance(module, TrainingKind), module.__name__
        assert module.IGNORE_INDEX is IGNORE_INDEX == -100
    for objective in (whisperpro.WhisperProObjective, slm.SLMObjective, teacher.TeacherObjective):
        assert callable(objective.save_pretrained)

    from textpro.slm import IGNORE_INDEX as exported
    from textpro.slm.inputs import IGNORE_INDEX as in_inputs

    assert exported is in_inputs is IGNORE_INDEX


def test_dotted_overrides_are_read_as_yaml_and_merge_key_by_key(tmp_path):
    data = {"model": "a", "train": {"max_steps": 10, "batch_size": 4}}
    assert override(data, ["train.max_steps=5", "model=b", "train.adam_betas=[0.8, 0.9]", "lora=null"]) == {
        "model": "b", "train": {"max_steps": 5, "batch_size": 4, "adam_betas": [0.8, 0.9]}, "lora": None}
    assert data["train"]["max_steps"] == 10  # the input is not changed
    assert merge({"a": {"b": 1, "c": {"d": 2}}}, {"a": {"c": {"e": 3}}}) == {"a": {"b": 1, "c": {"d": 2, "e": 3}}}
    with pytest.raises(ConfigError, match="expected key=value"):
        override({}, ["train.max_steps"])

    from dataclasses import dataclass, field

    @dataclass
    class Stage:
        model: str = "m"
        train: TrainConfig = field(default_factory=TrainConfig)

    path = tmp_path / "stage.yaml"
    path.write_text("model: x\ntrain: {max_steps: 10, learning_rate: 1e-4}\n")
    config = load_config(Stage, path, ["train.max_steps=3"])
    assert config.model == "x" and config.train.max_steps == 3 and config.train.learning_rate == 1e-4
    assert load_config(Stage, path).train.max_steps == 10
    with pytest.raises(ConfigError, match="unknown key 'nope'"):
        load_config(Stage, path, ["train.nope=1"])
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(Stage, path)


def test_slm_config_overrides_apply_after_the_stage_is_picked():
    from pathlib import Path

    from textpro.slm.training import SLMTrainingConfig

    path = Path(__file__).parents[1] / "configs" / "slm-mini-stage1.yaml"
    config = SLMTrainingConfig.from_yaml(path, stage=1, overrides=["train.max_steps=7", "kd_alpha=0.5"])
    assert config.train.max_steps == 7 and config.kd_alpha == 0.5 and config.stage == 1


def test_train_cli_takes_set_overrides():
    from textpro.cli import build_parser

    args = build_parser().parse_args(["train", "text-llm", "--config", "c.yaml", "--set", "train.max_steps=2",
                                      "--set", "chat_share=0"])
    assert args.set == ["train.max_steps=2", "chat_share=0"]
    assert build_parser().parse_args(["train", "slm", "--config", "c.yaml"]).set == []


@pytest.fixture(scope="module")
def tiny_chat_llm():
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from textpro.hub import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m-instruct"))
    torch.manual_seed(0)
    llm = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                       bos_token_id=1, eos_token_id=2, pad_token_id=2)).eval()
    return llm, tokenizer


def test_greedy_answers_equal_the_tokenizer_padded_batch_and_leave_the_tokenizer_alone(tiny_chat_llm, one_thread):
    from textpro.text_llm import chat_messages, greedy_answers, greedy_config, render_chat

    llm, tokenizer = tiny_chat_llm
    questions = ["Hi", "What is the capital of Italy, and why is it there?", "Which is a fruit?\nA. apple\nB. car"]
    chats = [render_chat(tokenizer, q, "Be brief.") for q in questions]
    assert chats[0] == tokenizer.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], tokenize=False,
        add_generation_prompt=True)
    assert chat_messages("Hi") == [{"role": "user", "content": "Hi"}]

    side, pad = tokenizer.padding_side, tokenizer.pad_token
    answers = greedy_answers(llm, tokenizer, chats, 6)
    assert (tokenizer.padding_side, tokenizer.pad_token) == (side, pad)
    # the old way: the tokenizer pads on the left (shared state set for it)
    tokenizer.padding_side = "left"
    try:
        batch = tokenizer(chats, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = side
    out = llm.generate(**batch, generation_config=greedy_config(llm, tokenizer, 6))
    expected = [t.strip() for t in tokenizer.batch_decode(out[:, batch.input_ids.shape[1]:], skip_special_tokens=True)]
    assert answers == expected
    assert greedy_answers(llm, tokenizer, chats[:1], 6) == answers[:1]  # left padding is invisible
    assert greedy_answers(llm, tokenizer, [], 6) == []


def test_log_mel_batch_pads_each_clip_own_mel_and_masks_the_padding():
    from transformers import WhisperFeatureExtractor

    from textpro.audio import HOP_SAMPLES, SAMPLE_RATE, log_mel_batch

    extractor = WhisperFeatureExtractor()
    rng = np.random.default_rng(0)
    clips = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (SAMPLE_RATE, 3 * SAMPLE_RATE // 2)]
    features, mask, frames = log_mel_batch(extractor, clips)
    assert frames == [len(c) // HOP_SAMPLES for c in clips] and features.shape == (2, 80, max(frames))
    assert mask.dtype == torch.long and mask.sum(1).tolist() == frames
    alone = extractor(clips[0], sampling_rate=SAMPLE_RATE, padding="longest", return_tensors="pt").input_features[0]
    assert torch.equal(features[0, :, :frames[0]], alone) and not features[0, :, frames[0]:].any()


def test_the_two_audio_length_limits_have_names_that_say_which():
    from textpro import audio
    from textpro.whisperpro import transcribe

    assert audio.DEFAULT_MAX_AUDIO_SECONDS == audio.WINDOW_SECONDS == 30.0  # one utterance, as the CLI reads it
    assert audio.TRANSCRIBE_MAX_SECONDS == 600.0  # Transcriber.transcribe, long audio cut at pauses
    assert not hasattr(audio, "DEFAULT_MAX_SECONDS") and not hasattr(transcribe, "DEFAULT_MAX_SECONDS")
    import inspect

    limit = inspect.signature(transcribe.Transcriber.transcribe).parameters["max_seconds"].default
    assert limit == audio.TRANSCRIBE_MAX_SECONDS


def test_every_jsonl_reader_names_the_bad_line_with_blank_lines_counted_and_raises_its_own_error(tmp_path):
    from textpro.data.importers.common import read_jsonl
    from textpro.data.manifest import read_manifest
    from textpro.errors import DataError
    from textpro.train.text_llm import read_questions
    from textpro.whisperpro.training import ManifestDataset

    path = tmp_path / "bad.jsonl"
    path.write_text('\n  \n{"prompt": "x"\n', encoding="utf-8")  # line 3 is cut short
    readers = [(read_jsonl, DataError), (read_manifest, ConfigError), (read_questions, ConfigError),
               (lambda p: ManifestDataset(p, tokenizer=None), ConfigError)]
    for reader, error in readers:
        with pytest.raises(error, match=r"bad\.jsonl:3: not valid JSON \(Expecting ','"):
            reader(path)
