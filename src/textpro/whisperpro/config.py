"""WhisperPro configuration: a Whisper config plus the prosody tap and the (training-only) mel reconstructor."""

from __future__ import annotations

from transformers import WhisperConfig


class WhisperProConfig(WhisperConfig):
    """Any Whisper config, extended. Loads from a plain Whisper directory too (the extra fields take defaults).

    prosody_layer: decoder layer k whose output at each emitted token is that token's prosody vector
        (1-based: k = 16 of 32 for large-v3 is `decoder_hidden_states[16]`). Default: the middle layer.
    reconstruction_weight: λ in loss = ASR cross-entropy + λ · mel-reconstruction MSE (0 disables it).
    reconstructor_*: sizes of the mel reconstructor (training only; saved apart from the model).
    encoder_padding_seconds: silence appended to each clip before the encoder at inference, which otherwise runs
        on the clip's own frames. Pretrained Whisper stops on time only when it sees silence after the speech
        (5 s keeps tiny.en's transcripts of 3–8 s clips identical to the 30 s window); 0 once fine-tuned on
        unpadded clips; None = Whisper's full 30 s window.
    """

    model_type = "whisperpro"

    def __init__(
        self,
        prosody_layer: int | None = None,
        reconstruction_weight: float = 1.0,
        reconstructor_d_model: int = 256,
        reconstructor_encoder_layers: int = 2,
        reconstructor_decoder_layers: int = 2,
        reconstructor_heads: int = 4,
        reconstructor_max_frames: int = 3000,  # log-mel frames the learnable frame queries can cover (30 s)
        encoder_padding_seconds: float | None = 5.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.prosody_layer = prosody_layer if prosody_layer is not None else max(1, self.decoder_layers // 2)
        if not 1 <= self.prosody_layer <= self.decoder_layers:
            raise ValueError(f"prosody_layer must be in 1..{self.decoder_layers}, got {self.prosody_layer}")
        self.reconstruction_weight = reconstruction_weight
        self.reconstructor_d_model = reconstructor_d_model
        self.reconstructor_encoder_layers = reconstructor_encoder_layers
        self.reconstructor_decoder_layers = reconstructor_decoder_layers
        self.reconstructor_heads = reconstructor_heads
        self.reconstructor_max_frames = reconstructor_max_frames
        self.encoder_padding_seconds = encoder_padding_seconds
