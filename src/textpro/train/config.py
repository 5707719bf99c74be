"""Training settings shared by every stage, and the one YAML → dataclass loader, with typed, one-line errors.

    config = load_config(WhisperProTrainingConfig, "configs/whisperpro-mini.yaml", ["train.max_steps=5"])

`read_yaml` reads a mapping, `merge` lays one mapping over another (nested mappings merge key by key), `override`
applies dotted `key.sub=value` settings (the value read as YAML: `5`, `1e-4`, `null`, `[a, b]`), and
`config_from_dict` builds the dataclass (nested dataclasses from nested mappings; unknown keys are errors).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from textpro.errors import ConfigError


@dataclass
class TrainConfig:
    output_dir: str = "runs/train"  # run directory: config.yaml, log.jsonl, checkpoints/, model/
    seed: int = 0  # model init, data order and dropout all follow from it
    epochs: int = 1  # passes over the data (ignored when max_steps is set)
    max_steps: int | None = None  # optimizer steps to run; None = epochs × steps per epoch
    batch_size: int = 16  # global batch: examples per optimizer step, over all processes and accumulation
    micro_batch_size: int = 4  # examples per process per forward pass (what has to fit in memory)
    learning_rate: float = 1e-5  # peak LR of the linear schedule
    warmup_steps: int = 500  # linear warmup from 0 to the peak, then linear decay to 0 at the last step
    weight_decay: float = 0.0  # AdamW decay, applied to matrices only (not to biases, norms)
    adam_betas: tuple[float, float] = (0.9, 0.999)
    max_grad_norm: float | None = 1.0  # gradient clipping; None = off
    mixed_precision: str = "no"  # "no", "bf16" or "fp16" (accelerate); "no" on CPU
    log_every: int = 10  # optimizer steps between loss-log lines
    save_every: int = 500  # optimizer steps between checkpoints (one is always written at the end)
    keep_last: int = 2  # checkpoints kept on disk; older ones are deleted
    num_workers: int = 0  # DataLoader worker processes per training process

    def __post_init__(self):
        self.adam_betas = tuple(self.adam_betas)  # YAML gives a list
        for name in ("epochs", "batch_size", "micro_batch_size", "log_every", "save_every", "keep_last"):
            if getattr(self, name) < 1:
                raise ConfigError(f"train.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"train.max_steps must be ≥ 1 or null, got {self.max_steps}")
        if self.batch_size % self.micro_batch_size:
            raise ConfigError(f"train.batch_size {self.batch_size} is not a multiple of "
                              f"train.micro_batch_size {self.micro_batch_size}")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise ConfigError(f"train.mixed_precision must be no, bf16 or fp16, got {self.mixed_precision!r}")

    def accumulation_steps(self, num_processes: int) -> int:
        """Micro-batches per process per optimizer step, so that the global batch is `batch_size`."""
        per_round = self.micro_batch_size * num_processes
        if self.batch_size % per_round:
            raise ConfigError(f"train.batch_size {self.batch_size} is not a multiple of micro_batch_size × "
                              f"processes = {self.micro_batch_size} × {num_processes}")
        return self.batch_size // per_round


T = typing.TypeVar("T")


def config_from_dict(cls: type[T], data: dict, where: str = "config") -> T:
    """Build dataclass `cls` from a dict; nested dataclass fields take nested dicts. Unknown keys are errors."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values = {}
    for name, value in data.items():
        nested = _dataclass_in(hints[name])
        if nested:
            value = config_from_dict(nested, value or {}, f"{where}.{name}")
        elif isinstance(value, str) and float in _types_in(hints[name]):
            try:  # YAML reads 1e-5 (no dot) as a string
                value = float(value)
            except ValueError:
                raise ConfigError(f"{where}.{name}: expected a number, got {value!r}") from None
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def read_yaml(path: str | Path) -> dict:
    """A YAML file's mapping (an empty file: {})."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping, got {type(data).__name__}")
    return data


def merge(base: dict, overrides: dict) -> dict:
    """`overrides` laid over `base` (a new dict): nested mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in overrides.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def override(data: dict, settings: Sequence[str]) -> dict:
    """`data` with dotted settings applied in order: "train.max_steps=5" sets data["train"]["max_steps"] = 5."""
    for setting in settings:
        key, sep, raw = setting.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {setting!r}: expected key=value (e.g. train.max_steps=5)")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        for part in reversed(key.strip().split(".")):
            value = {part: value}
        data = merge(data, value)
    return data


def load_config(cls: type[T], path: str | Path, overrides: Sequence[str] = ()) -> T:
    """Load dataclass `cls` from a YAML file, with dotted `overrides` ("train.max_steps=5") applied."""
    return config_from_dict(cls, override(read_yaml(path), overrides), str(path))


def config_to_dict(config) -> dict:
    """The inverse of config_from_dict (tuples become lists so the result dumps as plain YAML)."""
    def plain(value):
        return list(value) if isinstance(value, tuple) else value
    return {f.name: (config_to_dict(v) if dataclasses.is_dataclass(v := getattr(config, f.name)) else plain(v))
            for f in dataclasses.fields(config) if f.init}


def _types_in(hint) -> tuple:
    """The types in a hint: (X,) for `X`, (X, NoneType) for `X | None`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return (hint,)


def _dataclass_in(hint) -> type | None:
    """The dataclass in a type hint (`X` or `X | None`), if any."""
    return next((arg for arg in _types_in(hint) if dataclasses.is_dataclass(arg)), None)
