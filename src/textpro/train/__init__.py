"""One accelerate training loop shared by all stages, its config, and YAML loading. See `loop.py`."""

from textpro.train.config import TrainConfig, config_from_dict, config_to_dict, load_config
from textpro.train.loop import SeededSampler, TrainResult, latest_checkpoint, process_state, train

__all__ = ["SeededSampler", "TrainConfig", "TrainResult", "config_from_dict", "config_to_dict", "latest_checkpoint",
           "load_config", "process_state", "train"]
