"""The shared training loop and WhisperPro training: configs, manifests, resume == uninterrupted, 2 processes
(gloo), and the CLI on the real tiny.en."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from safetensors.torch import load_file

from textpro.cli import main
from textpro.errors import AudioError, ConfigError
from textpro.train import TrainConfig, config_from_dict, latest_checkpoint
from textpro.whisperpro.training import ManifestDataset, WhisperProTrainingConfig, build, run

SENTENCES = ["The cat sat on the mat.", "Please open the window.", "It is raining again today.",
             "We will meet at noon."]
TINY_RECONSTRUCTOR = {"d_model": 32, "heads": 2, "encoder_layers": 1, "decoder_layers": 1}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """Four natural-speech clips (piper), 1.5–2.5 s each, with their transcripts; audio paths relative."""
    from textpro.data.synth import synthesize_piper

    directory = tmp_path_factory.mktemp("clips")
    with open(directory / "train.jsonl", "w") as f:
        for i, text in enumerate(SENTENCES):
            samples, rate = synthesize_piper(text, noise=False)
            sf.write(directory / f"clip{i}.wav", samples, rate)
            f.write(json.dumps({"audio": f"clip{i}.wav", "text": text}) + "\n")
    return directory / "train.jsonl"


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory, whisper_tiny_en_dir) -> Path:
    """A plain HF Whisper directory (random, tiny, with dropout) with the real tiny.en tokenizer and features."""
    from transformers import GenerationConfig, WhisperConfig, WhisperForConditionalGeneration, WhisperProcessor

    directory = tmp_path_factory.mktemp("tiny-whisper")
    config = WhisperConfig.from_pretrained(whisper_tiny_en_dir)
    config.update(dict(d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
                       decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, dropout=0.1))
    torch.manual_seed(0)
    WhisperForConditionalGeneration(config).save_pretrained(directory)
    WhisperProcessor.from_pretrained(whisper_tiny_en_dir).save_pretrained(directory)
    GenerationConfig.from_pretrained(whisper_tiny_en_dir).save_pretrained(directory)
    return directory


def tiny_config(model, manifest, output, **train) -> WhisperProTrainingConfig:
    settings = dict(output_dir=str(output), max_steps=6, batch_size=2, micro_batch_size=1, learning_rate=1e-3,
                    warmup_steps=2, log_every=1, save_every=2, keep_last=2)
    return WhisperProTrainingConfig(model=str(model), train_manifest=str(manifest), prosody_layer=1,
                                    reconstructor=dict(TINY_RECONSTRUCTOR), train=TrainConfig(**{**settings, **train}))


# ---- configs ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["whisperpro-mini.yaml", "whisperpro-paper.yaml"])
def test_shipped_configs_load(name):
    config = WhisperProTrainingConfig.from_yaml(Path(__file__).parents[1] / "configs" / name)
    assert config.reconstruction_weight == 1.0 and config.use_reconstructor
    if name == "whisperpro-paper.yaml":
        train = config.train
        assert (train.learning_rate, train.batch_size, train.epochs, train.warmup_steps) == (1e-5, 16, 2, 500)
        assert config.prosody_layer == 16


def test_config_errors_and_coercion(tmp_path):
    assert config_from_dict(TrainConfig, {"learning_rate": "1e-5"}).learning_rate == 1e-5  # YAML's string
    with pytest.raises(ConfigError, match="unknown key 'lr'"):
        config_from_dict(TrainConfig, {"lr": 1})
    with pytest.raises(ConfigError, match="not a multiple"):
        TrainConfig(batch_size=6, micro_batch_size=4)
    with pytest.raises(ConfigError, match="not a multiple"):
        TrainConfig(batch_size=4, micro_batch_size=4).accumulation_steps(num_processes=3)
    assert TrainConfig(batch_size=16, micro_batch_size=2).accumulation_steps(num_processes=4) == 2
    with pytest.raises(ConfigError, match="reconstructor: unknown key 'width'"):
        WhisperProTrainingConfig(reconstructor={"width": 3})
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  batch_size: [")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        WhisperProTrainingConfig.from_yaml(path)
    path.write_text("train:\n  warmup: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml.train: unknown key 'warmup'"):
        WhisperProTrainingConfig.from_yaml(path)


# ---- manifests --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("line, error, message", [
    ("{not json", ConfigError, "not valid JSON"),
    ('["clip0.wav"]', ConfigError, "expected a JSON object"),
    ('{"audio": "clip0.wav"}', ConfigError, "'text' must be a non-empty string"),
    ('{"audio": "missing.wav", "text": "hi"}', AudioError, ""),
    ('{"audio": "long.wav", "text": "hi"}', AudioError, "over the 30 s limit"),
])
def test_bad_manifest_lines_name_file_and_line(tmp_path, whisper_tiny_en_dir, line, error, message):
    from transformers import WhisperTokenizer

    sf.write(tmp_path / "clip0.wav", np.zeros(8000, np.float32), 16000)
    sf.write(tmp_path / "long.wav", np.zeros(16000 * 31, np.float32), 16000)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"audio": "clip0.wav", "text": "fine"}\n' + line + "\n")
    with pytest.raises(error, match=f"m.jsonl:2: .*{message}") as caught:
        ManifestDataset(manifest, WhisperTokenizer.from_pretrained(whisper_tiny_en_dir))
    assert "\n" not in str(caught.value)


def test_no_reconstruction_builds_no_reconstructor(tiny_whisper, manifest, tmp_path):
    config = tiny_config(tiny_whisper, manifest, tmp_path)
    config.reconstruction_weight = 0.0
    config.__post_init__()
    objective, dataset, collate = build(config)
    assert objective.reconstructor is None
    assert not [name for name, _ in objective.named_parameters() if "reconstructor" in name]
    assert len(objective.parameter_groups()) == 1
    outputs = objective(collate([dataset[0], dataset[1]]))
    assert set(outputs) == {"loss", "asr_loss"}


def test_lora_trains_only_the_adapter_and_saves_a_resolvable_adapter(tiny_whisper, manifest, tmp_path, monkeypatch):
    from textpro.hub import resolve_model
    from textpro.whisperpro.model import WhisperPro

    monkeypatch.setenv("TEXTPRO_CACHE", str(tmp_path / "cache"))
    config = tiny_config(tiny_whisper, manifest, tmp_path / "run", max_steps=2)
    config.lora = {"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj", "fc1"]}
    objective, _, _ = build(config)
    trainable = {name for name, p in objective.whisper.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)  # the Whisper weights themselves stay frozen

    result = run(config)
    names = sorted(p.name for p in result.model_dir.iterdir())
    assert names == ["adapter_config.json", "adapter_model.safetensors", "config.json", "reconstructor"]
    merged = WhisperPro.from_pretrained(resolve_model(result.model_dir))
    assert merged.config.prosody_layer == 1  # the adapter carries the WhisperPro settings it was trained with
    base = WhisperPro.from_pretrained(tiny_whisper)
    changed = [n for n, p in merged.state_dict().items() if not torch.equal(p, base.state_dict()[n])]
    assert changed and all(("q_proj" in n or "v_proj" in n or "fc1" in n) for n in changed)


def test_batch_layout(tiny_whisper, manifest, tmp_path):
    """Labels are the inputs shifted by one; the prefix is not learned; text ids are the labels after it."""
    objective, dataset, collate = build(tiny_config(tiny_whisper, manifest, tmp_path))
    whisper_group, reconstructor_group = objective.parameter_groups()
    assert reconstructor_group["lr_scale"] == 10.0 and "lr_scale" not in whisper_group
    assert len(whisper_group["params"]) + len(reconstructor_group["params"]) == len(list(objective.parameters()))
    batch = collate([dataset[0], dataset[3]])
    P = objective.prefix_length
    inputs, labels = batch["decoder_input_ids"], batch["labels"]
    assert (labels[:, : P - 1] == -100).all()
    for row in range(2):
        n = int(batch["text_mask"][row].sum())
        assert torch.equal(labels[row, P - 1: P - 1 + n], batch["text_ids"][row, :n])
        assert torch.equal(inputs[row, P: P + n], batch["text_ids"][row, :n])  # teacher forcing
        assert labels[row, P - 1 + n] == 50256  # EOT is learned
    frames = batch["input_features"].shape[-1]  # the longest clip's own length (even), not 30 s
    assert frames % 2 == 0 and frames < 600 and frames - int(batch["frame_mask"].sum(1).max()) <= 2


# ---- the loop ---------------------------------------------------------------------------------------------------

def test_resume_equals_uninterrupted(tiny_whisper, manifest, tmp_path):
    """6 steps straight == 3 steps, stop, resume, 3 more: same weights, same logged losses. Gradient accumulation
    (2 micro-batches per step), dropout, and a stop in the middle of an epoch are all in play."""
    straight = run(tiny_config(tiny_whisper, manifest, tmp_path / "straight"))
    assert straight.step == 6

    stopped = run(tiny_config(tiny_whisper, manifest, tmp_path / "resumed"), stop_after=3)
    assert stopped.step == 3 and stopped.model_dir is None
    with pytest.raises(ConfigError, match="already has checkpoints"):
        run(tiny_config(tiny_whisper, manifest, tmp_path / "resumed"))
    resumed = run(tiny_config(tiny_whisper, manifest, tmp_path / "resumed"), resume=True)
    assert resumed.step == 6

    for weights in ["model.safetensors", "reconstructor/model.safetensors"]:
        a, b = load_file(straight.model_dir / weights), load_file(resumed.model_dir / weights)
        assert a.keys() == b.keys()
        for name in a:
            torch.testing.assert_close(a[name], b[name], rtol=0, atol=0, msg=name)

    def losses(run_dir):
        return [(r["step"], r["loss"], r["lr"]) for r in map(json.loads, open(run_dir / "log.jsonl"))]

    assert losses(tmp_path / "straight") == losses(tmp_path / "resumed")
    checkpoints = sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir())
    assert checkpoints == ["step-00000004", "step-00000006"]  # keep_last = 2, no tmp- leftovers
    assert latest_checkpoint(tmp_path / "resumed" / "checkpoints").name == "step-00000006"


def test_two_process_cpu_training_step(tiny_whisper, manifest, tmp_path):
    """torchrun with 2 CPU processes (gloo): the global batch is split, both take the step, both save their RNG.
    (`accelerate launch --cpu` needs MPI for several processes; torchrun is what accelerate joins on CPU.)"""
    config = tiny_config(tiny_whisper, manifest, tmp_path / "run", max_steps=2, save_every=1)
    config_file = tmp_path / "config.yaml"
    from textpro.train import config_to_dict

    config_file.write_text(yaml.safe_dump(config_to_dict(config)))
    # --standalone: torchrun binds its own free port (a port picked here could be taken before torchrun binds it)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "textpro.cli", "train", "whisperpro", "--config", str(config_file)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("trained 2 steps") == 1  # the main process reports
    records = [json.loads(line) for line in open(tmp_path / "run" / "log.jsonl")]
    assert [r["step"] for r in records] == [1, 2]
    assert all(np.isfinite(r["loss"]) for r in records)
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    state = tmp_path / "run" / "checkpoints" / "step-00000002"
    assert {"random_states_0.pkl", "random_states_1.pkl"} <= {p.name for p in state.iterdir()}


# ---- the CLI on real weights ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_trains_real_tiny_en_and_resumes(manifest, tmp_path, capsys):
    config = {"model": "whisper-tiny.en", "train_manifest": str(manifest), "prosody_layer": 2,
              "reconstructor": TINY_RECONSTRUCTOR,
              "train": {"max_steps": 2, "batch_size": 4, "micro_batch_size": 2, "learning_rate": "1e-5",
                        "warmup_steps": 1, "log_every": 1, "save_every": 2}}
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"
    assert main(["train", "whisperpro", "--config", str(config_file), "--output", str(run_dir)]) == 0

    # Same run directory without --resume: refused in one line, exit 2.
    assert main(["train", "whisperpro", "--config", str(config_file), "--output", str(run_dir)]) == 2
    assert "already has checkpoints" in capsys.readouterr().err

    config["train"]["max_steps"] = 3  # extend the run by a step
    config_file.write_text(yaml.safe_dump(config))
    assert main(["train", "whisperpro", "--config", str(config_file), "--output", str(run_dir), "--resume"]) == 0
    assert "resuming from" in capsys.readouterr().out
    records = [json.loads(line) for line in open(run_dir / "log.jsonl")]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert records[0]["asr_loss"] < 2.0  # real weights: these sentences are already nearly transcribed right

    # The result is a complete checkpoint: the model loads with or without its reconstructor.
    from transformers import AutoConfig

    from textpro.whisperpro.reconstructor import MelReconstructor
    from textpro.whisperpro.training import load_whisper

    model, _ = load_whisper(run_dir / "model")
    assert model.config.prosody_layer == 2
    assert AutoConfig.from_pretrained(run_dir / "model").reconstruction_weight == 1.0
    assert MelReconstructor.load(run_dir / "model" / "reconstructor").config.d_model == 32


def test_cli_bad_config_is_one_line(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("train_manifest: x.jsonl\nbogus: 1\n")
    assert main(["train", "whisperpro", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'bogus'" in err and err.count("\n") == 1
