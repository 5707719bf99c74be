import jiwer
import numpy as np
import pytest
import torch

from textpro.audio import load_audio
from textpro.whisperpro import Transcriber


def normalize(text: str) -> str:
    return " ".join("".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).split())


@pytest.fixture
def tiny_random_transcriber(whisper_tiny_en_dir):
    """Random weights, the real tokenizer and generation config: exercises the code path, not the accuracy."""
    from transformers import GenerationConfig, WhisperProcessor

    from textpro.whisperpro import WhisperPro, WhisperProConfig

    torch.manual_seed(0)
    config = WhisperProConfig(vocab_size=51864, d_model=64, encoder_layers=2, decoder_layers=2,
                           encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128,
                           decoder_ffn_dim=128, max_target_positions=448, decoder_start_token_id=50257,
                           pad_token_id=50256, eos_token_id=50256, bos_token_id=50256)
    model = WhisperPro(config)
    model.generation_config = GenerationConfig.from_pretrained(whisper_tiny_en_dir)
    model.generation_config.alignment_heads = [[1, 0], [1, 1]]
    model.generation_config.max_new_tokens = 12
    return Transcriber(model, WhisperProcessor.from_pretrained(whisper_tiny_en_dir))


def test_words_have_ordered_times_within_the_clip(tiny_random_transcriber):
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16_000 * 2)).astype(np.float32)
    transcript = tiny_random_transcriber.transcribe(audio)
    assert transcript.duration == pytest.approx(2.0)
    special = set(tiny_random_transcriber.tokenizer.all_special_ids)
    assert transcript.token_ids and not special & set(transcript.token_ids)
    previous_end = 0.0
    for word in transcript.words:
        assert 0.0 <= word.start <= word.end <= transcript.duration
        assert word.start >= previous_end - 1e-6
        previous_end = word.end
    assert "".join(w.text for w in transcript.words).replace(" ", "") == transcript.text.replace(" ", "")


@pytest.mark.slow
def test_converted_tiny_en_transcribes_synthesized_speech(whisper_tiny_en_dir):
    """The conversion is right when the real model hears real words: WER <= 10% on a sentence piper speaks."""
    from textpro.data.synth import synthesize_piper

    sentence = "The weather is lovely today, so we will walk to the market and buy fresh bread."
    samples, rate = synthesize_piper(sentence, noise=False)
    transcript = Transcriber.from_pretrained("whisper-tiny.en").transcribe(samples, rate)
    error = jiwer.wer(normalize(sentence), normalize(transcript.text))
    assert error <= 0.10, (transcript.text, error)
    duration = len(load_audio(samples, rate)) / 16_000
    assert transcript.words[0].start < 0.5 and transcript.words[-1].end > duration - 1.0
