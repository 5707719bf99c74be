"""TextPro-SLM: any HF causal LM reading WhisperPro transcripts plus projected prosody vectors."""

from textpro.slm.config import TextProSLMConfig
from textpro.slm.inputs import (
    IGNORE_INDEX,
    InputBuilder,
    as_speech_tokens,
    build_training_batch,
    positions_per_second,
)
from textpro.slm.model import TextProSLM, setup_placeholder
from textpro.slm.projector import ProsodyProjector

__all__ = ["IGNORE_INDEX", "InputBuilder", "ProsodyProjector", "TextProSLM", "TextProSLMConfig",
           "as_speech_tokens", "build_training_batch", "positions_per_second", "setup_placeholder"]
