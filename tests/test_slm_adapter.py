"""The continuous-encoder baseline (`audio_input: encoder_baseline`): pooling, input layout, positions per second, the
encoder-only feature cache, both training stages on the shared loop, and `textpro eval --model` through
SLMResponder. Tiny random models (WhisperPro d 32, Llama d 32/64) on the real tokenizers; real tiny.en only where
the responder needs a checkpoint directory."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_featurize import tiny_transcriber, write_manifest
from tests.test_slm import make_model, speech
from tests.test_slm_training import save_tiny_llm, stage_config
from textpro.errors import ConfigError, TextproError
from textpro.slm import TextProSLM, TextProSLMConfig, positions_per_second
from textpro.slm.encoder_baseline import EncoderFrames, encode_clips, pool_frames
from textpro.slm.featurize import FeatureStore, featurize
from textpro.slm.training import build, run

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello.wav"
D = 24  # tests.test_slm.D_WHISPER

pytestmark = pytest.mark.usefixtures("one_thread")


def test_pool_frames_averages_runs_and_keeps_a_short_tail():
    states = np.arange(10, dtype=np.float32).reshape(5, 2)  # 5 frames
    pooled = pool_frames(states, 2)
    np.testing.assert_allclose(pooled, [[1, 2], [5, 6], [8, 9]])  # (0,1), (2,3), (4) alone
    assert pool_frames(states, 1) is states


def test_adapter_layout_has_one_placeholder_per_frame_and_no_transcript(smollm2_dir):
    model = make_model(smollm2_dir, audio_input="encoder_baseline")
    frames = np.random.default_rng(0).standard_normal((7, D)).astype(np.float32)
    batch = model.builder.build_generation_batch([(EncoderFrames(frames, 0.28), "Is the speaker male or female?")])
    ids = batch["input_ids"][0]
    before, after, _, _ = model.builder.template("Is the speaker male or female?")
    slots = (ids == model.placeholder_id).nonzero().flatten().tolist()
    assert slots == list(range(len(before), len(before) + 7)) and len(ids) == len(before) + 7 + len(after)
    embeds = model.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])[0]
    torch.testing.assert_close(embeds[slots], model.projector(torch.from_numpy(frames)), rtol=0, atol=0)
    # a cached record works too; a WhisperPro record (no encoder frames) is refused in one line
    assert model.builder.speech_positions({"encoder": frames, "duration": 0.28}) == 7
    with pytest.raises(TextproError, match="encoder-only"):
        model.builder.speech(speech("hello there"))


def test_positions_per_second_textpro_vs_adapter(smollm2_dir):
    textpro = make_model(smollm2_dir, injection="global")
    utterance = speech(" one two three four five six")  # duration 1.0 s
    t = len(textpro.tokenizer.encode("one two three four five six", add_special_tokens=False))
    assert positions_per_second(textpro.builder, [utterance, utterance]) == pytest.approx(1 + t)
    adapter = make_model(smollm2_dir, audio_input="encoder_baseline")
    clips = [EncoderFrames(np.zeros((25, D), np.float32), 1.0), EncoderFrames(np.zeros((50, D), np.float32), 2.0)]
    assert positions_per_second(adapter.builder, clips) == pytest.approx(25.0)


def test_config_validates_audio_input():
    with pytest.raises(ConfigError, match="audio_input"):
        TextProSLMConfig(audio_input="mel")
    with pytest.raises(ConfigError, match="encoder_pool"):
        TextProSLMConfig(audio_input="encoder_baseline", encoder_pool=0)


def test_old_audio_input_name_still_loads(tmp_path, capsys):
    """Checkpoints saved before the rename say `audio_input: adapter`: they load as encoder_baseline, with one line."""
    import json

    (tmp_path / "textpro_config.json").write_text(json.dumps({"audio_input": "adapter"}))
    assert TextProSLMConfig.load(tmp_path).audio_input == "encoder_baseline"
    assert "audio_input 'adapter' is deprecated, use 'encoder_baseline'" in capsys.readouterr().err


# ---- encoder-only features and training ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def encoder_features(tmp_path_factory, whisper_tiny_en_dir) -> Path:
    """The six clips of test_featurize as an encoder-only cache (tiny random WhisperPro, d 32) + distill targets."""
    directory = tmp_path_factory.mktemp("encoder-features")
    manifest = write_manifest(directory / "clips")
    featurize(manifest, "tiny-random", directory / "train", progress=False, encoder_only=True,
              transcriber=tiny_transcriber(whisper_tiny_en_dir))
    rows = [{"id": "utt4", "response": "Paris."}, {"id": "utt5", "response": "A cat has four legs."}]
    (directory / "distill.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return directory


def test_encoder_only_cache_holds_25hz_frames_equal_to_direct_encoding(encoder_features, whisper_tiny_en_dir):
    from textpro.audio import load_audio

    store = FeatureStore(encoder_features / "train")
    assert store.kind == "encoder" and store.d_whisper == 32 and store.meta["frames_per_second"] == 25
    record = store[0]
    assert record["text"] == "" and "prosody" not in record
    clip = load_audio(record["manifest"]["audio"])
    assert len(record["encoder"]) == pytest.approx(25 * len(clip) / 16_000, abs=1.5)
    direct = encode_clips(tiny_transcriber(whisper_tiny_en_dir), [clip], pool=2)[0]  # alone, not in a batch
    np.testing.assert_allclose(record["encoder"], direct, atol=1e-4)
    # resuming into the same directory as a WhisperPro cache is refused
    with pytest.raises(ConfigError, match="another job"):
        featurize(record["manifest"]["audio"].rsplit("/", 1)[0] + "/train.jsonl", "tiny-random",
                  encoder_features / "train", progress=False, transcriber=tiny_transcriber(whisper_tiny_en_dir))


def test_adapter_trains_both_stages_and_answers(encoder_features, smollm2_dir, tmp_path):
    base = save_tiny_llm(tmp_path / "base", smollm2_dir)
    adapter = TextProSLMConfig(base_llm=str(base), projector_init="default", audio_input="encoder_baseline")
    s1 = stage_config(encoder_features, base, tmp_path / "s1", train={"max_steps": 2})
    s1.slm = adapter
    objective, dataset, _ = build(s1)
    assert len(dataset) == 6 and objective.slm.config.audio_input == "encoder_baseline"
    assert objective.slm.config.encoder_pool == 2 and objective.slm.config.d_whisper == 32
    stage1 = run(s1)
    s2 = stage_config(encoder_features, base, tmp_path / "s2", stage=2, init_from=str(stage1.model_dir), lora=True,
                      train={"max_steps": 2})
    stage2 = run(s2)
    trained = TextProSLM.from_pretrained(stage2.model_dir)
    assert trained.config.audio_input == "encoder_baseline" and trained.is_lora
    store = FeatureStore(encoder_features / "train")
    assert len(trained.generate([(store[0], "Is the speaker male or female?")], max_new_tokens=3)) == 1

    # a TextPro-SLM config on encoder features (or KD without a transcript) fails in one line
    with pytest.raises(ConfigError, match="needs whisperpro features"):
        build(stage_config(encoder_features, base, tmp_path / "x"))
    with pytest.raises(ConfigError, match="kd_alpha"):
        build(stage_config(encoder_features, base, tmp_path / "y", kd_alpha=0.5))


def test_eval_runs_an_adapter_checkpoint(tmp_path, smollm2_dir, whisper_tiny_en_dir):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from textpro.eval.responders import AudioQuery, speech_responder_for_model

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    torch.manual_seed(0)
    llm = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                       bos_token_id=1, eos_token_id=2, pad_token_id=2))
    config = TextProSLMConfig(base_llm=str(smollm2_dir), whisperpro=str(whisper_tiny_en_dir), d_whisper=384,
                              audio_input="encoder_baseline")
    TextProSLM.from_base(config, llm=llm, tokenizer=tokenizer).save_pretrained(tmp_path / "adapter")

    responder = speech_responder_for_model(tmp_path / "adapter", max_new_tokens=3, batch_size=2)
    answers = responder.answer_audio([AudioQuery(EXAMPLE), AudioQuery(EXAMPLE, "Is the speaker male or female?")])
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)
    heard = responder.pipeline.listen([str(EXAMPLE)])[0]
    assert heard.frames.shape[1] == 384 and len(heard.frames) == pytest.approx(25 * heard.duration, abs=1.5)
