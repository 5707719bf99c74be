"""WhisperPro: prosody capture, unpadded encoder, batching, save/load, token times, long audio.

Most tests use a tiny random model (d_model 64, 2 + 2 layers) with the real tiny.en tokenizer and generation
config: they check the code paths and invariants. Tests marked slow use the real tiny.en and piper speech.
"""

import json

import jiwer
import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from textpro.errors import AudioError
from textpro.whisperpro import SpeechTokens, Transcriber, WhisperPro, WhisperProConfig, split_at_pauses
from textpro.whisperpro.alignment import dtw, median_filter

RATE = 16_000


def noise(seconds: float, seed: int = 0, amplitude: float = 0.1) -> np.ndarray:
    return (amplitude * np.random.default_rng(seed).standard_normal(int(seconds * RATE))).astype(np.float32)


def normalize(text: str) -> str:
    return " ".join("".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).split())


@pytest.fixture(scope="module")
def processor(whisper_tiny_en_dir):
    from transformers import WhisperProcessor

    return WhisperProcessor.from_pretrained(whisper_tiny_en_dir)


def tiny_model(whisper_tiny_en_dir, prosody_layer: int = 1, seed: int = 0) -> WhisperPro:
    from transformers import GenerationConfig

    torch.manual_seed(seed)
    config = WhisperProConfig(
        vocab_size=51864, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, max_target_positions=448,
        decoder_start_token_id=50257, pad_token_id=50256, eos_token_id=50256, bos_token_id=50256,
        prosody_layer=prosody_layer, encoder_padding_seconds=1.0,
    )
    model = WhisperPro(config).eval()
    model.generation_config = GenerationConfig.from_pretrained(whisper_tiny_en_dir)
    model.generation_config.alignment_heads = [[1, 0], [1, 1]]
    model.generation_config.max_new_tokens = 8
    return model


@pytest.fixture(scope="module")
def tiny(whisper_tiny_en_dir, processor):
    return Transcriber(tiny_model(whisper_tiny_en_dir), processor)


@pytest.fixture(scope="module")
def real():
    return Transcriber.from_pretrained("whisper-tiny.en")


@pytest.fixture(scope="module")
def piper_clips():
    """Three piper sentences, 3-5 s, made deterministic (no sampling noise) so the exact-match tests are stable."""
    from textpro.data.synth import synthesize_piper

    sentences = ["Did you really mean that or were you joking about the whole trip to the mountains?",
                 "Please bring the red box to the kitchen before dinner, and put the blue one in the garage.",
                 "She opened the window to let some fresh air into the room."]
    clips = []
    for sentence in sentences:
        samples, rate = synthesize_piper(sentence, noise=False)
        clips.append(soxr.resample(samples, rate, RATE).astype(np.float32))
    return sentences, clips


# --------------------------------------------------------------------------------------------- prosody capture
def test_one_prosody_vector_per_transcript_token(tiny):
    speech = tiny.transcribe(noise(1.5))
    assert isinstance(speech, SpeechTokens)
    n = len(speech.token_ids)
    assert n > 0
    assert speech.prosody.shape == (n, 64) and speech.starts.shape == (n,) and speech.ends.shape == (n,)
    special = set(tiny.tokenizer.all_special_ids)
    assert not special & set(speech.token_ids) and all(t < tiny.eot for t in speech.token_ids)
    np.testing.assert_allclose(speech.utterance, speech.prosody.mean(axis=0), atol=1e-6)
    assert speech.duration == pytest.approx(1.5)


def _teacher_forced_states(transcriber, clip, tokens):
    """decoder_hidden_states of one teacher-forced forward over [SOT, notimestamps, tokens, EOT]."""
    features, mask = transcriber._features([clip], transcriber.full_window)
    prefix = [transcriber.sot, transcriber.no_timestamps]
    ids = torch.tensor([prefix + tokens + [transcriber.eot]])
    with torch.no_grad():
        out = transcriber.model(input_features=features, attention_mask=mask, decoder_input_ids=ids,
                                output_hidden_states=True)
    return out.decoder_hidden_states, len(prefix)


@pytest.mark.parametrize("layer", [1, 2])
def test_prosody_is_decoder_layer_k_at_the_emitting_step(whisper_tiny_en_dir, processor, layer):
    # random weights loop; keep the short window so the teacher-forced pass below sees the same encoder input
    transcriber = Transcriber(tiny_model(whisper_tiny_en_dir, prosody_layer=layer), processor, loop_fallback=False)
    clip = noise(1.2, seed=1)
    speech = transcriber.transcribe(clip)
    n = len(speech.token_ids)
    assert n > 0
    states, prefix = _teacher_forced_states(transcriber, clip, speech.token_ids)
    # Position t predicts token t + 1: the states that emitted the N text tokens sit at prefix-1 … prefix+N-2.
    emitting = states[layer][0, prefix - 1 : prefix - 1 + n].numpy()
    np.testing.assert_allclose(speech.prosody, emitting, atol=1e-4)
    other = states[3 - layer][0, prefix - 1 : prefix - 1 + n].numpy()
    assert np.abs(speech.prosody - other).max() > 1e-2


# --------------------------------------------------------------------------------------------- encoder lengths
def test_forward_accepts_any_length_and_masks_padding(whisper_tiny_en_dir):
    model = tiny_model(whisper_tiny_en_dir)
    torch.manual_seed(1)
    features = torch.randn(2, 80, 200)
    mask = torch.ones(2, 200, dtype=torch.long)
    mask[1, 120:] = 0
    labels = torch.tensor([[50362, 11, 22, 33, 50256], [50362, 44, 55, 50256, -100]])
    with torch.no_grad():
        batch = model(input_features=features, attention_mask=mask, labels=labels, output_hidden_states=True)
        alone = model(input_features=features[1:, :, :120], labels=labels[1:], output_hidden_states=True)
    assert torch.isfinite(batch.loss)
    assert len(batch.decoder_hidden_states) == model.config.decoder_layers + 1
    assert batch.encoder_last_hidden_state.shape == (2, 100, 64)
    assert batch.encoder_attention_mask[1].sum() == 60
    k = model.config.prosody_layer
    torch.testing.assert_close(batch.decoder_hidden_states[k][1], alone.decoder_hidden_states[k][0], atol=1e-5,
                               rtol=1e-5)
    torch.testing.assert_close(batch.logits[1], alone.logits[0], atol=1e-4, rtol=1e-4)


def test_full_window_forward_equals_hf_whisper(whisper_tiny_en_dir):
    from transformers import WhisperForConditionalGeneration

    model = tiny_model(whisper_tiny_en_dir)
    hf = WhisperForConditionalGeneration(model.config).eval()
    hf.load_state_dict(model.state_dict())
    features = torch.randn(1, 80, 3000)
    ids = torch.tensor([[50257, 50362, 11, 22]])
    with torch.no_grad():
        ours = model(input_features=features, decoder_input_ids=ids, output_hidden_states=True)
        theirs = hf(input_features=features, decoder_input_ids=ids, output_hidden_states=True)
    torch.testing.assert_close(ours.logits, theirs.logits)
    for a, b in zip(ours.decoder_hidden_states, theirs.decoder_hidden_states, strict=True):
        torch.testing.assert_close(a, b)


# --------------------------------------------------------------------------------------------- batching
def test_batch_gives_the_same_tokens_and_vectors_as_one_by_one(tiny):
    clips = [noise(1.0, seed=2), noise(2.3, seed=3), noise(1.7, seed=4)]
    batch = tiny.transcribe(clips)
    assert len(batch) == 3
    for clip, together in zip(clips, batch, strict=True):
        alone = tiny.transcribe(clip)
        assert together.token_ids == alone.token_ids
        np.testing.assert_allclose(together.prosody, alone.prosody, atol=1e-4)
        np.testing.assert_allclose(together.starts, alone.starts, atol=1e-6)
        assert together.duration == alone.duration


def _decode_recording_batch_sizes(transcriber, clips, budget, cancelled=None):
    """greedy_decode over `clips`, and the number of rows each decoding step computed (decoder layer 0's batch)."""
    features, mask = transcriber._features(clips, transcriber.full_window)
    prompts = [[transcriber.sot, transcriber.no_timestamps]] * len(clips)
    sizes = []
    handle = transcriber.model.model.decoder.layers[0].register_forward_pre_hook(
        lambda module, args: sizes.append(args[0].shape[0]))
    try:
        out = transcriber.model.greedy_decode(features, mask, prompts, transcriber.eot, budget, cancelled=cancelled)
    finally:
        handle.remove()
    return out, sizes


def _rows_per_step(lengths, budget):
    """How many rows each step computes when row r leaves after `lengths[r]` steps."""
    return [sum(step < length for length in lengths) for step in range(min(max(lengths), budget))]


def test_ended_and_cancelled_rows_leave_the_decoding_batch(tiny):
    clips = [noise(1.0, seed=2), noise(2.3, seed=3), noise(1.7, seed=4)]
    budget = 12
    reference, sizes = _decode_recording_batch_sizes(tiny, clips, budget)
    # a row that ends (EOT) costs no later step: it decodes len(tokens) + 1 steps (the EOT's), or the budget
    lengths = [min(len(tokens) + 1, budget) for tokens in reference.tokens]
    assert sizes == _rows_per_step(lengths, budget)
    cut = 3
    assert len(reference.tokens[1]) > cut + 1  # row 1 would have decoded for longer: cancelling it saves steps

    asked = []
    out, sizes = _decode_recording_batch_sizes(
        tiny, clips, budget, cancelled=lambda: asked.append(1) or [False, len(asked) > cut, False])
    assert out.cancelled == [False, True, False]
    assert sizes == _rows_per_step([lengths[0], cut, lengths[2]], budget)  # row 1 left before step `cut`
    assert out.tokens[1] == reference.tokens[1][:cut] and len(out.prosody[1]) == cut
    for row in (0, 2):  # the other rows decode as before, token for token
        assert out.tokens[row] == reference.tokens[row]
        torch.testing.assert_close(out.prosody[row], reference.prosody[row], atol=1e-5, rtol=1e-5)


def test_a_cancelled_clip_transcribes_to_none_and_the_others_as_alone(tiny):
    clips = [noise(1.0, seed=2), noise(2.3, seed=3), noise(1.7, seed=4)]
    alone = [tiny.transcribe(clip) for clip in clips]
    steps = []
    handle = tiny.model.model.decoder.layers[0].register_forward_pre_hook(lambda module, args: steps.append(1))
    try:
        batch = tiny.transcribe(clips, cancelled=[lambda: False, lambda: len(steps) >= 2, lambda: False])
    finally:
        handle.remove()
    assert batch[1] is None
    for row in (0, 2):
        assert batch[row].token_ids == alone[row].token_ids
        np.testing.assert_allclose(batch[row].starts, alone[row].starts, atol=1e-6)


# --------------------------------------------------------------------------------------------- save / load
def test_save_load_round_trip_gives_identical_outputs(tiny, processor, tmp_path):
    clip = noise(1.3, seed=5)
    before = tiny.transcribe(clip)
    tiny.model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file() and not list(tmp_path.glob("*.bin"))
    (tmp_path / "reconstructor").mkdir()  # the training colleague's separate weights: ignored when loading
    (tmp_path / "reconstructor" / "config.json").write_text("{}")
    loaded = WhisperPro.from_pretrained(tmp_path)
    assert isinstance(loaded.config, WhisperProConfig)
    assert loaded.config.prosody_layer == 1 and loaded.config.encoder_padding_seconds == 1.0
    after = Transcriber(loaded, processor).transcribe(clip)
    assert after.token_ids == before.token_ids
    np.testing.assert_array_equal(after.prosody, before.prosody)
    np.testing.assert_array_equal(after.starts, before.starts)


def test_plain_whisper_directory_loads_with_defaults(whisper_tiny_en_dir):
    model = WhisperPro.from_pretrained(whisper_tiny_en_dir)
    assert isinstance(model.config, WhisperProConfig)
    assert model.config.prosody_layer == 2  # middle of tiny.en's 4 decoder layers
    assert model.generation_config.alignment_heads


# --------------------------------------------------------------------------------------------- alignment pieces
def test_dtw_follows_the_cheap_diagonal_path():
    cost = np.ones((4, 8))
    for i in range(4):
        cost[i, 2 * i : 2 * i + 2] = 0.0
    rows, cols = dtw(cost)
    assert rows[0] == 0 and cols[0] == 0 and rows[-1] == 3 and cols[-1] == 7
    assert np.all(np.diff(rows) >= 0) and np.all(np.diff(cols) >= 0)
    assert cost[rows, cols].sum() == 0
    starts = cols[np.diff(rows, prepend=-1).astype(bool)]
    assert starts.tolist() == [0, 2, 4, 6]


def test_median_filter_removes_spikes_and_keeps_length():
    x = torch.zeros(1, 2, 20)
    x[0, 0, 9] = 5.0
    out = median_filter(x, 7)
    assert out.shape == x.shape and out.abs().max() == 0


# --------------------------------------------------------------------------------------------- long audio
def speech_with_pauses(seconds: float, pauses: list[float], seed: int = 0) -> np.ndarray:
    """Noise 'speech' with 0.4 s of silence centred at each time in `pauses`."""
    audio = noise(seconds, seed=seed)
    for t in pauses:
        audio[int((t - 0.2) * RATE) : int((t + 0.2) * RATE)] = 0.0
    return audio


def test_long_audio_is_cut_in_pauses_into_segments_of_at_most_30_s():
    pauses = [7.0, 14.0, 24.5, 33.0, 41.0, 52.0, 63.0]
    audio = speech_with_pauses(70.0, pauses)
    segments = split_at_pauses(audio)
    assert segments[0][0] == 0 and segments[-1][1] == len(audio)
    assert all(a[1] == b[0] for a, b in zip(segments, segments[1:], strict=False))
    assert all(0 < end - start <= 30 * RATE for start, end in segments)
    for _, cut in segments[:-1]:
        assert min(abs(cut / RATE - p) for p in pauses) < 0.2, cut / RATE  # inside a pause
    assert split_at_pauses(noise(12.0)) == [(0, 12 * RATE)]


@pytest.mark.parametrize("prompted", [False, True])
def test_long_audio_transcribes_with_absolute_monotonic_times(tiny, prompted):
    audio = speech_with_pauses(65.0, [20.0, 28.0, 45.0, 55.0], seed=6)
    transcriber = Transcriber(tiny.model, tiny.processor, condition_on_previous_text=prompted)
    speech = transcriber.transcribe(audio)
    n = len(speech.token_ids)
    assert speech.duration == pytest.approx(65.0)
    assert n > 8  # more than one segment's worth (max_new_tokens = 8 per segment)
    assert speech.prosody.shape == (n, 64)
    assert np.all(np.diff(speech.starts) >= 0) and np.all(speech.ends >= speech.starts)
    assert speech.ends[-1] <= speech.duration and speech.starts[-1] > 30.0
    with pytest.raises(AudioError, match="longer than the 60 s"):
        transcriber.transcribe(audio, max_seconds=60)


# --------------------------------------------------------------------------------------------- real tiny.en
@pytest.mark.slow
def test_unpadded_encoder_transcribes_like_the_30_s_window(real, piper_clips):
    full = Transcriber(real.model, real.processor, full_window=True)
    sentences, clips = piper_clips
    for sentence, ours, whisper in zip(sentences, real.transcribe(clips), full.transcribe(clips), strict=True):
        assert ours.text == whisper.text
        assert jiwer.wer(normalize(sentence), normalize(ours.text)) <= 0.1


@pytest.mark.slow
def test_word_times_match_where_the_speech_is(real, piper_clips):
    sentences, clips = piper_clips
    lead = 0.5
    audio = np.concatenate([np.zeros(int(lead * RATE), np.float32), clips[2], np.zeros(RATE // 2, np.float32)])
    speech = real.transcribe(audio)
    assert jiwer.wer(normalize(sentences[2]), normalize(speech.text)) <= 0.1
    frame = RATE // 100
    energy = np.sqrt(np.mean(audio[: len(audio) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    voiced = np.flatnonzero(energy > 0.05 * energy.max())
    speech_start, speech_end = voiced[0] / 100, (voiced[-1] + 1) / 100
    assert abs(speech.words[0].start - speech_start) < 0.2, (speech.words[0], speech_start)
    assert speech.words[-1].end <= speech_end + 0.2, (speech.words[-1], speech_end)
    assert speech.words[-1].end >= speech_end - 0.5, (speech.words[-1], speech_end)


@pytest.mark.slow
def test_long_clip_from_the_cli(piper_clips, tmp_path, capsys):
    """Long audio end to end (45 s: two segments): cut at a pause into <= 30 s segments; times absolute.
    (A 2-minute clip works the same way; it is just slower to test.)"""
    from textpro.cli import main

    sentences, clips = piper_clips
    gap = np.zeros(int(0.8 * RATE), np.float32)
    parts, spoken = [], []
    while sum(len(p) for p in parts) < 45 * RATE:
        i = len(spoken) % len(clips)
        parts += [clips[i], gap]
        spoken.append(sentences[i])
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate(parts), RATE)

    assert main(["transcribe", str(path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["duration"] >= 45
    assert jiwer.wer(normalize(" ".join(spoken)), normalize(record["text"])) <= 0.15
    starts = [w["start"] for w in record["words"]]
    assert starts == sorted(starts) and record["words"][-1]["end"] <= record["duration"]
    assert record["words"][-1]["end"] > record["duration"] - 3.0
    assert "prosody" not in record and len(record["tokens"]) > 40
