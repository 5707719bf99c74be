"""WhisperPro fine-tuning: ASR cross-entropy + λ · mel-reconstruction MSE, on the shared accelerate loop.

Teacher forcing, per utterance (P = prefix length, e.g. 2 for tiny.en: <|startoftranscript|> <|notimestamps|>):

    sequence          = prefix(P) + transcript y_1..y_N + <|endoftext|>
    decoder_input_ids = sequence[:-1]
    labels            = sequence[1:], with the prefix predictions masked (-100): only y_1..y_N and EOT are learned

The decoder position whose output is y_i sits at index P-1+i-1, and its input is the token before y_i: that is
"the step that emits y_i" at inference, so the prosody vector p_i is `decoder_hidden_states[k]` at positions
P-1 .. P-2+N. The reconstructor reads (y_i, p_i) and rebuilds the clip's log-mel; MSE over its real frames.

    textpro train whisperpro --config configs/whisperpro-mini.yaml [--resume] [--output DIR]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

from textpro.audio import SAMPLE_RATE, WINDOW_SECONDS, load_audio
from textpro.data.jsonl import parse_jsonl
from textpro.errors import AudioError, ConfigError
from textpro.train.config import TrainConfig, load_config
from textpro.train.kind import IGNORE_INDEX, run_training
from textpro.whisperpro.config import WhisperProConfig
from textpro.whisperpro.reconstructor import MelReconstructor, MelReconstructorConfig


@dataclass
class WhisperProTrainingConfig:
    model: str = "whisper-tiny.en"  # base model name (textpro hub) or an HF Whisper / WhisperPro directory
    train_manifest: str = ""  # JSONL, one {"audio": path, "text": transcript} per line; paths relative to it
    language: str | None = "en"  # language token of the prefix (multilingual checkpoints only)
    prosody_layer: int | None = None  # decoder layer k (1-based) of the prosody vectors; None = the model's
    reconstruction_weight: float = 1.0  # λ; 0 = ablation: no reconstructor at all, plain ASR fine-tuning
    freeze_encoder: bool = False  # train the decoder (and reconstructor) only
    # A LoRA adapter instead of every weight (peft LoraConfig arguments, e.g. {r: 32, lora_alpha: 64,
    # target_modules: [q_proj, v_proj]}): the checkpoint is then the adapter + WhisperPro's config, a few MB, and
    # `resolve_model` merges it over the base on first use (what the embedded default ships). None = full fine-tune.
    lora: dict | None = None
    # The reconstructor starts from random weights next to a pretrained Whisper: at Whisper's LR it learns only the
    # average spectrum in the first ~30 steps (MSE 0.20, the per-bin-mean floor, on 4 piper clips with tiny.en);
    # at 10× it goes below that floor within ~15 steps and reaches 0.024 by step 80.
    reconstructor_lr_scale: float = 10.0
    reconstructor: dict = field(default_factory=dict)  # overrides of reconstructor sizes: d_model, heads, …
    max_audio_seconds: float = WINDOW_SECONDS  # longer clips are manifest errors (Whisper's window)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(output_dir="runs/whisperpro"))

    def __post_init__(self):
        if self.reconstruction_weight < 0:
            raise ConfigError(f"reconstruction_weight must be ≥ 0, got {self.reconstruction_weight}")
        allowed = {"d_model", "encoder_layers", "decoder_layers", "heads", "max_frames"}
        if unknown := sorted(set(self.reconstructor) - allowed):
            raise ConfigError(f"reconstructor: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
        self.use_reconstructor = self.reconstruction_weight > 0  # derived: λ = 0 builds no reconstructor

    @classmethod
    def from_yaml(cls, path, overrides=()) -> WhisperProTrainingConfig:
        return load_config(cls, path, overrides)


# ---- model loading: the one place that knows which Whisper class we train ---------------------------------------

def load_whisper(name_or_path, **config_overrides):
    """(WhisperPro, processor) from a base-model name or an HF Whisper / WhisperPro directory.

    WhisperPro takes each batch at its longest clip's length with a frame mask (not HF Whisper's fixed 30 s
    window): training on the clips' own lengths is what makes its unpadded inference safe, and it is far cheaper
    for 3–8 s clips. This is the one place that names the model class."""
    from transformers import WhisperProcessor

    from textpro.hub import resolve_model
    from textpro.whisperpro.model import WhisperPro

    path = resolve_model(name_or_path)
    overrides = {k: v for k, v in config_overrides.items() if v is not None}
    try:
        config = WhisperProConfig.from_pretrained(path, **overrides)
    except ValueError as exc:  # e.g. prosody_layer out of range
        raise ConfigError(f"{path}: {exc}") from None
    model = WhisperPro.from_pretrained(path, config=config, dtype=torch.float32)
    return model, WhisperProcessor.from_pretrained(path)


# ---- data -------------------------------------------------------------------------------------------------------

@dataclass
class Utterance:
    audio_path: Path
    token_ids: list[int]  # prefix + transcript + EOT
    seconds: float
    where: str  # "manifest.jsonl:12", for error messages


class ManifestDataset(Dataset):
    """(audio, text) pairs from a JSONL manifest. Every line is checked up front (JSON, fields, the audio file's
    header, duration, token count) so a bad line fails before training starts, naming file:line."""

    def __init__(self, manifest, tokenizer, max_seconds: float = WINDOW_SECONDS, max_tokens: int = 448):
        manifest = Path(manifest)
        try:
            lines = manifest.read_text().splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read manifest {manifest}: {exc.strerror}") from None
        self.utterances = []
        for number, record in parse_jsonl(lines, manifest, ConfigError):
            self.utterances.append(self._parse(record, f"{manifest}:{number}", manifest.parent, tokenizer,
                                               max_seconds, max_tokens))
        if not self.utterances:
            raise ConfigError(f"{manifest}: no utterances")
        self.max_seconds = max_seconds

    @staticmethod
    def _parse(record, where, base, tokenizer, max_seconds, max_tokens) -> Utterance:
        if not isinstance(record, dict):
            raise ConfigError(f"{where}: expected a JSON object with 'audio' and 'text'")
        audio, text = record.get("audio"), record.get("text")
        if not isinstance(audio, str) or not audio:
            raise ConfigError(f"{where}: 'audio' must be a file path")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{where}: 'text' must be a non-empty string")
        path = base / audio
        seconds = record.get("duration")  # the mini world's manifests carry it; otherwise read the file header
        if not isinstance(seconds, (int, float)) or seconds <= 0:
            seconds = _audio_seconds(path, where)
        if seconds > max_seconds:
            raise AudioError(f"{where}: {audio} is {seconds:.1f} s long, over the {max_seconds:g} s limit")
        # Leading space: Whisper emits the first word as " word", as in its own training data.
        token_ids = tokenizer(" " + text.strip()).input_ids
        if len(token_ids) > max_tokens:
            raise ConfigError(f"{where}: transcript is {len(token_ids)} tokens, over the model's {max_tokens}")
        return Utterance(path, token_ids, seconds, where)

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def lengths(self) -> list[int]:
        """Duration in milliseconds, for length-grouped batching."""
        return [int(u.seconds * 1000) for u in self.utterances]

    def __getitem__(self, index: int) -> dict:
        utterance = self.utterances[index]
        try:
            samples = load_audio(utterance.audio_path, max_seconds=self.max_seconds)
        except AudioError as exc:
            raise AudioError(f"{utterance.where}: {exc}") from None
        return {"audio": samples, "token_ids": utterance.token_ids}


def _audio_seconds(path: Path, where: str) -> float:
    import soundfile

    try:
        info = soundfile.info(str(path))
        return info.frames / info.samplerate
    except Exception:  # not a soundfile format (or missing): load_audio says why in one line
        try:
            return len(load_audio(path, max_seconds=None)) / SAMPLE_RATE
        except AudioError as exc:
            raise AudioError(f"{where}: {exc}") from None


class Collator:
    """Batch of {"audio", "token_ids"} → Whisper inputs. pad_to_frames=None pads the features to the batch's
    longest clip (an even frame count, for the encoder's stride-2 conv); an int pads every clip to it (3000 for
    HF Whisper)."""

    def __init__(self, feature_extractor, prefix_length: int, eot_id: int, pad_to_frames: int | None = None):
        self.feature_extractor = feature_extractor
        self.prefix_length = prefix_length
        self.eot_id = eot_id
        self.pad_to_frames = pad_to_frames

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        hop = self.feature_extractor.hop_length
        if self.pad_to_frames is None:
            padding = {"padding": "longest", "pad_to_multiple_of": 2 * hop}
        else:
            padding = {"padding": "max_length", "max_length": self.pad_to_frames * hop, "truncation": True}
        features = self.feature_extractor([e["audio"] for e in examples], sampling_rate=SAMPLE_RATE,
                                          return_tensors="pt", return_attention_mask=True, **padding)
        sequences = [torch.tensor(e["token_ids"]) for e in examples]
        decoder_input_ids = pad_sequence([s[:-1] for s in sequences], batch_first=True, padding_value=self.eot_id)
        labels = pad_sequence([s[1:] for s in sequences], batch_first=True, padding_value=IGNORE_INDEX)
        labels[:, : self.prefix_length - 1] = IGNORE_INDEX  # the forced prefix is given, not learned
        # Transcript tokens y_1..y_N start right after the prefix: labels[:, P-1 : P-1+N].
        transcripts = [s[self.prefix_length:-1] for s in sequences]
        text_ids = pad_sequence(transcripts, batch_first=True, padding_value=0)  # (B, N)
        text_mask = pad_sequence([torch.ones(len(t), dtype=torch.bool) for t in transcripts], batch_first=True)
        return {
            "input_features": features.input_features,  # (B, n_mels, T)
            "frame_mask": features.attention_mask.bool(),  # (B, T) True = real audio
            "decoder_input_ids": decoder_input_ids,  # (B, L)
            "labels": labels,  # (B, L)
            "text_ids": text_ids,  # (B, N)
            "text_mask": text_mask,  # (B, N)
        }


# ---- objective --------------------------------------------------------------------------------------------------

class WhisperProObjective(nn.Module):
    """loss = ASR cross-entropy + λ · MSE(reconstructor(y, p), log-mel). With λ = 0 there is no reconstructor."""

    def __init__(self, whisper, processor, reconstructor: MelReconstructor | None, prefix_length: int,
                 reconstructor_lr_scale: float = 1.0):
        super().__init__()
        self.reconstructor_lr_scale = reconstructor_lr_scale
        self.whisper = whisper
        self.reconstructor = reconstructor
        self.processor = processor  # saved with the model so the result is a complete checkpoint
        self.prefix_length = prefix_length
        self.base_model = None  # with a LoRA adapter: the base's name, written into the adapter's config

    def parameter_groups(self) -> list[dict]:
        groups = [{"params": list(self.whisper.parameters())}]
        if self.reconstructor is not None:
            groups.append({"params": list(self.reconstructor.parameters()), "lr_scale": self.reconstructor_lr_scale})
        return groups

    @property
    def prosody_layer(self) -> int:
        return self.whisper.config.prosody_layer

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = self.whisper(input_features=batch["input_features"], attention_mask=batch["frame_mask"],
                           decoder_input_ids=batch["decoder_input_ids"], labels=batch["labels"],
                           output_hidden_states=self.reconstructor is not None)
        if self.reconstructor is None:
            return {"loss": out.loss, "asr_loss": out.loss.detach()}

        start, n_text = self.prefix_length - 1, batch["text_ids"].shape[1]
        prosody = out.decoder_hidden_states[self.prosody_layer][:, start:start + n_text]  # (B, N, d_whisper)
        frame_mask = batch["frame_mask"]
        num_frames = int(frame_mask.sum(1).max())  # reconstruct real frames only; padding beyond is not a target
        mel_mse = self.reconstructor.loss(batch["text_ids"], prosody, batch["text_mask"],
                                          batch["input_features"][:, :, :num_frames], frame_mask[:, :num_frames])
        weight = self.whisper.config.reconstruction_weight
        return {"loss": out.loss + weight * mel_mse, "asr_loss": out.loss.detach(), "mel_mse": mel_mse.detach()}

    def save_pretrained(self, directory) -> None:
        """An HF checkpoint (safetensors) + processor, or with LoRA the adapter + WhisperPro config (the processor
        then comes from the base); the reconstructor apart in `directory/reconstructor`."""
        directory = Path(directory)
        if self.base_model is not None:
            from textpro.hub.adapters import save_adapter

            save_adapter(self.whisper, directory, self.base_model, extra_config=self.whisper.get_base_model().config)
        else:
            self.whisper.save_pretrained(directory)
            self.processor.save_pretrained(directory)
        if self.reconstructor is not None:
            self.reconstructor.save(directory / "reconstructor")


def build(config: WhisperProTrainingConfig, reconstructor_dir: Path | None = None):
    """(objective, dataset, collator) for a training config."""
    whisper, processor = load_whisper(
        config.model, prosody_layer=config.prosody_layer, reconstruction_weight=config.reconstruction_weight,
        **{f"reconstructor_{k}": v for k, v in config.reconstructor.items()})
    if config.freeze_encoder:
        whisper.freeze_encoder()

    tokenizer = processor.tokenizer
    if whisper.generation_config.is_multilingual:
        tokenizer.set_prefix_tokens(language=config.language, task="transcribe", predict_timestamps=False)
    else:
        tokenizer.set_prefix_tokens(predict_timestamps=False)
    prefix_length = len(tokenizer.prefix_tokens)

    reconstructor = None
    if config.use_reconstructor:
        if reconstructor_dir is not None and reconstructor_dir.is_dir():
            reconstructor = MelReconstructor.load(reconstructor_dir)  # continue training a saved one
        else:
            reconstructor = MelReconstructor(MelReconstructorConfig.from_whisper_config(whisper.config))

    if not config.train_manifest:
        raise ConfigError("train_manifest is not set")
    dataset = ManifestDataset(config.train_manifest, tokenizer, config.max_audio_seconds,
                              whisper.config.max_target_positions)
    collator = Collator(processor.feature_extractor, prefix_length, tokenizer.eos_token_id)
    if config.lora:
        from peft import LoraConfig, get_peft_model

        whisper = get_peft_model(whisper, LoraConfig(**config.lora))  # everything but the adapter frozen
    objective = WhisperProObjective(whisper, processor, reconstructor, prefix_length, config.reconstructor_lr_scale)
    if config.lora:
        objective.base_model = config.model
    return objective, dataset, collator


def run(config: WhisperProTrainingConfig, resume: bool = False, stop_after: int | None = None):
    """Train as configured (`textpro.train.kind.run_training`); returns the loop's TrainResult (final model in
    `<output_dir>/model`). A WhisperPro directory as `model` brings its reconstructor along."""
    model_dir = Path(config.model)
    reconstructor_dir = model_dir / "reconstructor" if model_dir.is_dir() else None
    return run_training(config, lambda: build(config, reconstructor_dir), "whisperpro", resume=resume,
                     stop_after=stop_after)

