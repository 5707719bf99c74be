"""Mel reconstructor: it learns, it needs the prosody, it only scores real frames, it saves apart; and the
WhisperPro objective sends its gradient into decoder layers ≤ k only."""

import pytest
import torch
from transformers import WhisperConfig

from textpro.whisperpro.config import WhisperProConfig
from textpro.whisperpro.reconstructor import MelReconstructor, MelReconstructorConfig, masked_mse

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_reconstructor(**overrides) -> MelReconstructor:
    config = dict(vocab_size=100, d_whisper=24, n_mels=16, d_model=32, encoder_layers=1, decoder_layers=1,
                  heads=2, max_frames=120, max_tokens=32)
    return MelReconstructor(MelReconstructorConfig(**{**config, **overrides}))


def test_loss_falls_when_overfitting_and_uses_the_prosody():
    """Two clips with the same words but different prosody and different mels: text alone cannot tell them
    apart (the best it can do is their mean), so going well below that floor means the prosody is used."""
    torch.manual_seed(0)
    model = tiny_reconstructor()
    B, N, T = 2, 6, 80
    token_ids = torch.randint(0, 100, (1, N)).expand(B, N)  # same words
    prosody = torch.randn(B, N, 24)
    time = torch.linspace(0, 1, T)
    bins = torch.arange(16).float()[:, None]
    target = torch.stack([torch.sin(bins * time), torch.cos(2 * bins * time + 1)])  # (B, n_mels, T)
    token_mask = torch.ones(B, N, dtype=torch.bool)
    frame_mask = torch.ones(B, T, dtype=torch.bool)
    text_only_floor = ((target[0] - target[1]) / 2).pow(2).mean().item()

    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(100):
        loss = model.loss(token_ids, prosody, token_mask, target, frame_mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses
    assert losses[-1] < 0.5 * text_only_floor, (losses[-1], text_only_floor)


def test_padded_frames_and_tokens_do_not_count():
    torch.manual_seed(0)
    model = tiny_reconstructor().eval()
    token_ids, prosody = torch.randint(0, 100, (2, 5)), torch.randn(2, 5, 24)
    token_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
    frame_mask = torch.zeros(2, 40, dtype=torch.bool)
    frame_mask[0, :40], frame_mask[1, :25] = True, True
    target = torch.randn(2, 16, 40)
    loss = model.loss(token_ids, prosody, token_mask, target, frame_mask)

    changed = target.clone()
    changed[1, :, 25:] = 100.0  # padding frames of clip 2
    prosody_changed = prosody.clone()
    prosody_changed[1, 3:] = 100.0  # padding tokens of clip 2
    token_changed = token_ids.clone()
    token_changed[1, 3:] = 7
    assert torch.equal(loss, model.loss(token_changed, prosody_changed, token_mask, changed, frame_mask))

    # Clip 2 alone, unpadded, predicts the same frames as inside the padded batch.
    batch = model(token_ids, prosody, token_mask, 40, frame_mask)
    alone = model(token_ids[1:, :3], prosody[1:, :3], token_mask[1:, :3], 25, frame_mask[1:, :25])
    torch.testing.assert_close(batch[1, :25], alone[0], atol=1e-5, rtol=1e-5)


def test_masked_mse_is_mean_over_real_frames():
    predicted, target = torch.zeros(1, 4, 2), torch.tensor([[[1.0, 1.0], [3.0, 3.0], [9.0, 9.0], [9.0, 9.0]]])
    assert masked_mse(predicted, target, torch.tensor([[True, True, False, False]])).item() == pytest.approx(5.0)


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = tiny_reconstructor(frames_per_query=3).eval()
    model.save(tmp_path / "reconstructor")
    loaded = MelReconstructor.load(tmp_path / "reconstructor").eval()
    assert loaded.config == model.config
    args = (torch.randint(0, 100, (1, 4)), torch.randn(1, 4, 24), torch.ones(1, 4, dtype=torch.bool), 31)
    assert torch.equal(model(*args), loaded(*args))
    assert model(*args).shape == (1, 31, 16)


def test_sizes_come_from_the_whisperpro_config():
    whisper = WhisperProConfig(**WhisperConfig(d_model=48, num_mel_bins=128, vocab_size=500).to_dict(),
                               reconstructor_d_model=64, reconstructor_heads=8, reconstructor_max_frames=1000)
    config = MelReconstructorConfig.from_whisper_config(whisper)
    assert (config.d_whisper, config.n_mels, config.vocab_size) == (48, 128, 500)
    assert (config.d_model, config.heads, config.max_frames, config.max_queries) == (64, 8, 1000, 500)


def test_objective_sends_the_mel_gradient_into_layers_up_to_k_only():
    """The reconstructor reads decoder layer k, so its MSE trains layers 1..k (and the encoder) and nothing above."""
    from textpro.whisperpro.model import WhisperPro
    from textpro.whisperpro.training import WhisperProObjective

    torch.manual_seed(0)
    config = WhisperProConfig(vocab_size=120, d_model=16, encoder_layers=1, decoder_layers=3, encoder_attention_heads=2,
                              decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, num_mel_bins=16,
                              max_source_positions=20, max_target_positions=32, prosody_layer=2,
                              pad_token_id=100, eos_token_id=100, decoder_start_token_id=101, bos_token_id=100)
    whisper = WhisperPro(config)
    reconstructor = MelReconstructor(MelReconstructorConfig.from_whisper_config(
        config, d_model=16, heads=2, encoder_layers=1, decoder_layers=1))
    objective = WhisperProObjective(whisper, processor=None, reconstructor=reconstructor, prefix_length=2)
    frames = 36
    batch = {
        "input_features": torch.randn(2, 16, frames),
        "frame_mask": torch.ones(2, frames, dtype=torch.bool),
        "decoder_input_ids": torch.tensor([[101, 102, 5, 6, 7], [101, 102, 8, 9, 100]]),
        "labels": torch.tensor([[-100, 5, 6, 7, 100], [-100, 8, 9, 100, -100]]),
        "text_ids": torch.tensor([[5, 6, 7], [8, 9, 0]]),
        "text_mask": torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool),
    }
    outputs = objective(batch)
    assert set(outputs) == {"loss", "asr_loss", "mel_mse"}
    torch.testing.assert_close(outputs["loss"], outputs["asr_loss"] + config.reconstruction_weight * outputs["mel_mse"])

    def gradients(weight):  # parameter name → gradient of CE + weight · MSE
        whisper.config.reconstruction_weight = weight
        objective.zero_grad()
        objective(batch)["loss"].backward()
        return {name: p.grad.clone() for name, p in objective.named_parameters() if p.grad is not None}

    with_mel, without_mel = gradients(1.0), gradients(0.0)

    def changed(prefix):  # does the MSE term change any gradient under `prefix`?
        return any(not torch.equal(with_mel[n], without_mel[n]) for n in with_mel if n.startswith(prefix))

    assert changed("whisper.model.decoder.layers.0.") and changed("whisper.model.decoder.layers.1.")  # 1..k
    assert not changed("whisper.model.decoder.layers.2.")  # above k = 2
    assert changed("whisper.model.encoder.")  # through the cross-attention
    assert changed("reconstructor.")
