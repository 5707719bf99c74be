"""The paper recipe (`textpro recipe paper`): its commands, the dry run's sizes and GPU-hour arithmetic, and the
whole chain at toy scale under torchrun with 2 CPU processes (tiny random Whisper and Qwen2, the importer fixtures)."""

import json
import math
import shlex
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
import torch
import yaml

from textpro.errors import ConfigError
from textpro.recipe.config import PaperRecipeConfig
from textpro.recipe.estimate import corpus_size
from textpro.recipe.paper import STEPS, PaperRecipe
from textpro.recipe.plan import corpus_sizes, step_costs

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "importers"
TINY_RECONSTRUCTOR = {"d_model": 32, "heads": 2, "encoder_layers": 1, "decoder_layers": 1}


def small_config(**changes) -> PaperRecipeConfig:
    """One stated corpus of 1 h / 100 clips for every stage, with round numbers for the arithmetic."""
    data = {
        "imports": [{"name": "speech", "kind": "librispeech", "dir": "/nowhere", "hours": 1.0, "clips": 100,
                     "answer_tokens": 10}],
        "whisperpro": {"config": "configs/whisperpro-paper.yaml", "base": "/nowhere/whisper", "manifests": ["speech"]},
        "featurize": {"caches": {"speech": ["speech"]}},
        "distill": {"teacher": "/nowhere/llm", "caches": ["speech"]},
        "slm": {"config": "configs/paper-7b.yaml", "base_llm": "/nowhere/llm"},
        "estimate": {"gpu_tflops": 100.0, "mfu": 0.5, "llm_params": 1e9, "whisper_encoder_params": 2e8,
                     "whisper_decoder_params": 3e8, "words_per_second": 2.5, "tokens_per_word": 1.3,
                     "prompt_tokens": 30, "encoder_frames": 1500},
    }
    data.update(changes)
    from textpro.train.config import config_from_dict

    return config_from_dict(PaperRecipeConfig, data)


# ---- the estimate -----------------------------------------------------------------------------------------------

def test_gpu_hour_arithmetic_on_a_small_config(tmp_path):
    recipe = PaperRecipe(small_config(), tmp_path / "out")
    costs = {c.step: c for c in step_costs(recipe, corpus_sizes(recipe))}
    transcript = 1.0 * 3600 * 2.5 * 1.3  # 1 h × 2.5 words/s × 1.3 tokens/word = 11,700 tokens
    per_epoch = 30 * 100 + transcript + 10 * 100  # prompt + transcript + targets of 100 clips = 15,700 tokens
    sustained = 100e12 * 0.5  # FLOP/s per GPU

    # Stage 2 of configs/paper-7b.yaml: 2 epochs over every cache (its batch of 1024 is larger than the data: the
    # estimate counts epochs × clips, not steps).
    stage2 = costs["slm-stage2"]
    assert stage2.tokens == pytest.approx(2 * per_epoch)
    assert stage2.flops == pytest.approx(6 * 1e9 * 2 * per_epoch)
    assert stage2.gpu_hours == pytest.approx(6 * 1e9 * 2 * per_epoch / sustained / 3600)
    # Stage 1 without distillation targets (the paper's) trains on the caches the teacher does not answer: none here.
    assert costs["slm-stage1"].tokens == 0
    # The teacher reads and writes once, forward only.
    assert costs["distill"].flops == pytest.approx(2 * 1e9 * per_epoch)
    # WhisperPro: 2 epochs (configs/whisperpro-paper.yaml); the encoder reads 1500 frames of every clip, the decoder
    # the transcript and 4 special tokens.
    assert costs["whisperpro"].flops == pytest.approx(6 * 2 * (2e8 * 1500 * 100 + 3e8 * (transcript + 400)))
    assert costs["featurize"].flops == pytest.approx(2 * (2e8 * 1500 * 100 + 3e8 * (transcript + 400)))


def test_max_steps_counts_steps_not_epochs(tmp_path):
    config = small_config(slm={"config": "configs/paper-7b.yaml", "base_llm": "/nowhere/llm",
                               "stage2": {"max_steps": 3, "overrides": {"train": {"batch_size": 8}}}})
    recipe = PaperRecipe(config, tmp_path / "out")
    stage2 = {c.step: c for c in step_costs(recipe, corpus_sizes(recipe))}["slm-stage2"]
    assert stage2.tokens == pytest.approx((30 * 100 + 11_700 + 1000) * 3 * 8 / 100)  # 24 examples of 157 tokens


def test_sizes_are_measured_from_a_manifest_once_imported(tmp_path):
    from textpro.data.importers import import_dataset

    config = small_config()
    manifest = PaperRecipe(config, tmp_path / "out").manifest(config.imports[0])
    import_dataset("librispeech", FIXTURES / "librispeech", manifest)
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    size = corpus_size(config.imports[0], manifest, config.estimate)
    seconds = sum(sf.info(str(manifest.parent / r["audio"])).duration for r in records)
    words = sum(len(r["text"].split()) for r in records)
    assert (size.source, size.clips) == ("manifest", len(records))
    assert size.hours == pytest.approx(seconds / 3600)
    assert size.transcript_tokens == pytest.approx(words * 1.3)


def test_parameters_are_counted_from_a_model_directory(tmp_path):
    from transformers import Qwen2Config

    from textpro.recipe.estimate import model_params

    config = Qwen2Config(vocab_size=100, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False)
    config.save_pretrained(tmp_path)
    from transformers import Qwen2ForCausalLM

    expected = sum(p.numel() for p in Qwen2ForCausalLM(config).parameters())
    assert model_params(str(tmp_path), PaperRecipeConfig().estimate, whisper=False) == (expected,)
    assert model_params(str(tmp_path / "absent"), PaperRecipeConfig().estimate, whisper=False) is None


# ---- commands and the dry run -----------------------------------------------------------------------------------

def test_dry_run_of_the_7b_config_prints_every_step_and_writes_nothing(tmp_path, capsys):
    from textpro.cli import main

    out = tmp_path / "paper-7b"
    assert main(["recipe", "paper", "--config", "configs/recipe-paper-7b.yaml", "--out", str(out), "--dry-run",
                 "--set", "estimate.mfu=0.5"]) == 0
    text = capsys.readouterr().out
    assert not out.exists()
    for step in STEPS:
        assert f"[{step}]" in text
    assert "deepspeed-zero3.yaml --num_processes 8 -m textpro.cli train slm --stage 2" in text
    assert "--teacher-endpoint http://localhost:8000" in text
    assert "MFU 50%" in text and "librispeech" in text and "960.0" in text  # the stated size until imported
    total = next(line for line in text.splitlines() if line.strip().startswith("total"))
    config = PaperRecipeConfig.from_yaml(REPO / "configs" / "recipe-paper-7b.yaml", ["estimate.mfu=0.5"])
    recipe = PaperRecipe(config, out)
    expected = sum(c.gpu_hours for c in step_costs(recipe, corpus_sizes(recipe)))
    assert f"{expected:.1f}" in total.split()  # the printed total is the estimate's sum


def test_launchers_build_the_multi_process_commands(tmp_path):
    config = PaperRecipeConfig.from_yaml(REPO / "configs" / "recipe-paper-7b.yaml")
    recipe = PaperRecipe(config, tmp_path)
    accelerate = recipe.commands("slm-stage1")[0]
    assert accelerate[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert accelerate[accelerate.index("--config_file") + 1].endswith("configs/accelerate/deepspeed-zero2.yaml")
    config.launch.launcher = "torchrun"
    torchrun = shlex.join(recipe.commands("whisperpro")[0])
    assert "-m torch.distributed.run --standalone --nproc_per_node 8 -m textpro.cli train whisperpro" in torchrun
    config.launch.launcher = "python"
    assert recipe.commands("featurize")[0][:4] == [sys.executable, "-m", "textpro.cli", "featurize"]
    assert len(recipe.commands("featurize")) == 5 and len(recipe.commands("distill")) == 2
    assert recipe.cache_manifest("emotion") == tmp_path.resolve() / "manifests" / "emotion.jsonl"  # 5 imports, one


@pytest.mark.parametrize("launcher", ["accelerate", "torchrun"])
def test_every_command_parses_as_a_textpro_command(tmp_path, launcher):
    """What the recipe runs in subprocesses (recipe/ cannot import the command line above it) is in the parser."""
    from textpro.cli import build_parser

    config = PaperRecipeConfig.from_yaml(REPO / "configs" / "recipe-paper-7b.yaml", [f"launch.launcher={launcher}",
                                                                                    "distill.endpoint=null"])
    recipe = PaperRecipe(config, tmp_path)
    parser = build_parser()
    for step in STEPS:
        for argv in recipe.commands(step):
            args = argv[argv.index("textpro.cli") + 1:]
            assert parser.parse_args(args).run is not None, argv


def test_stage_configs_carry_the_recipe_paths(tmp_path):
    config = PaperRecipeConfig.from_yaml(REPO / "configs" / "recipe-paper-7b.yaml")
    recipe = PaperRecipe(config, tmp_path)
    one, two = recipe.slm_config(1), recipe.slm_config(2)
    assert "stages" not in one and one["stage"] == 1 and one["distill"] is None  # the paper's stage 1: no KD data
    assert one["train"]["learning_rate"] == 1e-4 and two["train"]["learning_rate"] == 1e-5
    assert two["init_from"] == str(recipe.stage1) and two["distill"] == str(recipe.distilled)
    assert one["features"] == [str(tmp_path.resolve() / "features" / c) for c in config.featurize.caches]
    assert two["train"]["output_dir"] == str(recipe.stage2.parent)
    from textpro.slm.training import SLMTrainingConfig  # the stage configs load as the trainer reads them

    for stage, data in ((1, one), (2, two)):
        path = tmp_path / f"s{stage}.yaml"
        path.write_text(yaml.safe_dump(data))
        assert SLMTrainingConfig.from_yaml(path, stage=stage).slm.base_llm == "/models/Qwen2.5-7B-Instruct"


def test_config_errors_are_one_line():
    with pytest.raises(ConfigError, match="no training import named 'absent'"):
        small_config(featurize={"caches": {"speech": ["absent"]}})
    with pytest.raises(ConfigError, match="launch.launcher must be one of"):
        small_config(launch={"launcher": "mpirun"})
    with pytest.raises(ConfigError, match=r"estimate.mfu must be in \(0, 1\]"):
        small_config(estimate={"mfu": 40})


# ---- the toy run: the whole chain, 2 processes under torchrun ----------------------------------------------------

def tiny_whisper(directory: Path, whisper_tiny_en_dir) -> Path:
    """A random 1+2-layer Whisper (d 32) with the real tiny.en tokenizer; it decodes at most 6 tokens."""
    from transformers import GenerationConfig, WhisperConfig, WhisperForConditionalGeneration, WhisperProcessor

    config = WhisperConfig.from_pretrained(whisper_tiny_en_dir)
    config.update(dict(d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
                       decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64))
    torch.manual_seed(0)
    WhisperForConditionalGeneration(config).save_pretrained(directory)
    WhisperProcessor.from_pretrained(whisper_tiny_en_dir).save_pretrained(directory)
    generation = GenerationConfig.from_pretrained(whisper_tiny_en_dir)
    generation.alignment_heads = [[1, 0], [1, 1]]  # word times from the tiny decoder's own heads
    generation.max_new_tokens = 6
    generation.save_pretrained(directory)
    return directory


def tiny_qwen(directory: Path, smollm2_dir) -> Path:
    from tests.test_slm import tiny_qwen2

    model, tokenizer = tiny_qwen2(smollm2_dir)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def toy_config(whisper: Path, qwen: Path) -> dict:
    """The paper recipe at toy scale: the shipped stage configs with tiny sizes; torchrun, 2 CPU processes."""
    train = {"batch_size": 2, "micro_batch_size": 1, "warmup_steps": 0, "mixed_precision": "no", "log_every": 1,
             "save_every": 1, "num_workers": 0}
    slm = {"max_length": 128, "gradient_checkpointing": False, "train": train}
    return {
        "threads": 1,
        "launch": {"launcher": "torchrun", "processes": 2},
        "imports": [
            {"name": "librispeech", "kind": "librispeech", "dir": str(FIXTURES / "librispeech")},
            {"name": "commonsenseqa", "kind": "commonsenseqa", "dir": str(FIXTURES / "commonsenseqa"), "limit": 4},
            {"name": "vctk", "kind": "vctk", "dir": str(FIXTURES / "vctk")},
            {"name": "crema-d", "kind": "crema-d", "dir": str(FIXTURES / "crema-d")},
            {"name": "voxeval", "kind": "voxeval", "dir": str(FIXTURES / "voxeval"), "eval": True},
        ],
        "whisperpro": {"config": "configs/whisperpro-paper.yaml", "base": str(whisper),
                       "manifests": ["librispeech", "commonsenseqa"], "max_steps": 2,
                       "overrides": {"prosody_layer": 1, "reconstructor": TINY_RECONSTRUCTOR, "train": train}},
        "featurize": {"caches": {"commonsenseqa": ["commonsenseqa"], "para": ["vctk", "crema-d"]},
                      "batch_size": 2, "shard_size": 4},
        "distill": {"teacher": str(qwen), "caches": ["commonsenseqa"], "max_new_tokens": 4, "batch_size": 2},
        "slm": {"config": "configs/paper-7b.yaml", "base_llm": str(qwen),
                "stage1": {"max_steps": 2, "overrides": slm}, "stage2": {"max_steps": 2, "overrides": slm}},
        "eval": {"limit": 1, "diagnostics": False, "max_new_tokens": 4},
        "estimate": {"gpus": 2},
    }


@pytest.mark.slow
def test_toy_paper_recipe_under_torchrun_two_processes(tmp_path, whisper_tiny_en_dir, smollm2_dir, capsys,
                                                      monkeypatch):
    from textpro.cli import main

    whisper = tiny_whisper(tmp_path / "whisper", whisper_tiny_en_dir)
    qwen = tiny_qwen(tmp_path / "qwen", smollm2_dir)
    config = tmp_path / "recipe-paper-toy.yaml"
    config.write_text(yaml.safe_dump(toy_config(whisper, qwen)))
    out = tmp_path / "out"
    monkeypatch.chdir(REPO)  # stage configs are named relative to the repository (configs/…)

    started = time.perf_counter()
    assert main(["recipe", "paper", "--config", str(config), "--out", str(out)]) == 0, capsys.readouterr()
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\ntoy paper recipe, 7 steps under torchrun (2 processes): {seconds:.0f} s")
    summary = json.loads((out / "summary.json").read_text())
    assert [r["status"] for r in summary["steps"]] == ["done"] * len(STEPS)

    # Both ranks took part in every multi-process training step: each saved its own RNG state with the checkpoint.
    for run in ("whisperpro", "slm-stage1", "slm-stage2"):
        checkpoint = out / run / "checkpoints" / "step-00000002"
        assert {"random_states_0.pkl", "random_states_1.pkl"} <= {p.name for p in checkpoint.iterdir()}, run
        losses = [json.loads(line)["loss"] for line in open(out / run / "log.jsonl")]
        assert len(losses) == 2 and all(math.isfinite(x) for x in losses), run
        assert (out / run / "model").is_dir()
    log = (out / "logs" / "slm-stage2.log").read_text()
    assert "torch.distributed.run --standalone --nproc_per_node 2" in log

    # featurize: the para cache holds every record of its two imports (shards of both ranks), with prosody
    from textpro.slm.featurize import FeatureStore

    manifests = out / "manifests"
    para = FeatureStore(out / "features" / "para")
    expected = sum(len(manifests.joinpath(f"{n}.jsonl").read_text().splitlines()) for n in ("vctk", "crema-d"))
    assert len(para) == expected and para[0]["prosody"].shape[1] == 32
    answers = [json.loads(line) for line in open(out / "features" / "distill.jsonl")]
    assert len(answers) == len(FeatureStore(out / "features" / "commonsenseqa"))
    assert json.loads((out / "slm-stage2" / "model" / "config.json").read_text())  # a TextPro-SLM checkpoint
    assert (out / "eval" / "voxeval" / "results.json").is_file()

    # Resumable: a second run finds every step done and runs nothing.
    capsys.readouterr()
    assert main(["recipe", "paper", "--config", str(config), "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("done already") == len(STEPS)

    # The dry run now measures the imported manifests and counts the tiny models' parameters.
    assert main(["recipe", "paper", "--config", str(config), "--out", str(out), "--dry-run"]) == 0
    text = capsys.readouterr().out
    data = text.split("steps (")[0]
    assert sum(line.endswith("  manifest") for line in data.splitlines()) == 5  # 4 training imports + the eval set
    assert "N 0.01B" in text and "N 7.62B" not in text  # the tiny Qwen2 (~6M), not the stated 7B
