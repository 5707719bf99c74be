"""The recipes' settings: what `configs/recipe-*.yaml` (the mini recipe) and `configs/reproduce-*.yaml` (every system
of the paper's tables) hold. Each training stage still reads its own shipped config (configs/…); these say which one,
with which paths and sizes. The ablations are YAML overlays of those stage configs: `configs/ablations/` (ablations.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from textpro.errors import ConfigError
from textpro.train.config import load_config

# configs/ lives at the repository root (src layout). Recipes only *read* there; they write under their --out.
REPO = Path(__file__).resolve().parents[3]
SYSTEMS = ("textpro", "interleave", "adapter", "no-recon", "no-distill", "no-para", "cascade")  # the shipped overlays
BACKGROUND = ("textpro", "interleave", "no-recon", "no-para")


def config_path(name: str | Path) -> Path:
    """A config path as given when it exists, else relative to the repository root (configs/…)."""
    path = Path(name)
    return path if path.is_absolute() or path.is_file() or path.is_dir() else REPO / path


@dataclass
class DataSettings:
    seed: int = 0  # benchmark seed (same seed, same benchmark)
    hours: float = 2.0  # audio in train + dev + test (test_robust on top)
    workers: int = 1  # make-mini processes (the output does not depend on it)
    test_sizes: list[int] | None = None  # [semantic, per paralinguistic task] records of test (None: its share)


@dataclass
class StageSettings:
    config: str = ""  # the stage's YAML (relative to the repository root, or absolute)
    max_steps: int | None = None  # overrides train.max_steps (None: the config's)
    overrides: dict = field(default_factory=dict)  # more top-level keys to override in the stage config


@dataclass
class MiniWhisperProSettings(StageSettings):
    # An existing WhisperPro instead of training one: a directory, or "default" for the embedded default's. The speech
    # side does not depend on the LLM, so a recipe that changes only the LLM (recipe-mini-qwen.yaml) hears through
    # the same WhisperPro as the default: the comparison isolates the LLM.
    use: str | None = None


@dataclass
class FeaturizeSettings:
    # Share of the train split's clips to featurize, taken evenly spaced within each task (1.0 = all). Featurizing
    # is a full WhisperPro decode + alignment pass per clip, the recipe's most expensive step per clip.
    fraction: float = 1.0
    task_fractions: dict = field(default_factory=dict)  # per-task overrides of `fraction` (e.g. {request: 1.0})
    batch_size: int = 8  # clips per WhisperPro batch
    shard_size: int = 256  # utterances per shard


@dataclass
class DistillSettings:
    task: str | None = "semantic"  # only these records get teacher answers (None: all)
    source: str = "asr"  # what the teacher reads: "asr" (the paper's best) or "ground_truth"
    max_new_tokens: int = 48  # teacher answer length
    batch_size: int = 8
    limit: int | None = None  # only the first N records (None: all)
    # More tasks the teacher answers into the same file, each with its own answer length (e.g. {request: 96}: the
    # everyday spoken requests, so that the SLM keeps talking like its LLM, not only picking letters), or with a
    # limit too ({request: {max_new_tokens: 96, limit: 64}}: the first 64 of them)
    more_tasks: dict = field(default_factory=dict)


@dataclass
class EvalSettings:
    splits: list[str] = field(default_factory=lambda: ["test", "test_robust"])  # benchmark splits to score
    limit: int | None = None  # at most N items per task (None: all)
    wer_limit: int | None = None  # WhisperPro WER on an evenly spaced subset (None: every utterance)
    wer_base: str | None = None  # also the WER of this base Whisper on the same clips (WhisperPro must keep its ears)


@dataclass
class MiniRecipeConfig:
    threads: int = 1  # OMP_NUM_THREADS of every step (1 is fastest on a shared, loaded machine)
    # OMP_NUM_THREADS of a step that starts while no background step runs beside it (None: `threads`)
    threads_alone: int | None = None
    data: DataSettings = field(default_factory=DataSettings)
    teacher: StageSettings = field(default_factory=lambda: StageSettings("configs/teacher-mini.yaml"))
    whisperpro: MiniWhisperProSettings = field(
        default_factory=lambda: MiniWhisperProSettings("configs/whisperpro-mini.yaml"))
    featurize: FeaturizeSettings = field(default_factory=FeaturizeSettings)
    distill: DistillSettings = field(default_factory=DistillSettings)
    slm_stage1: StageSettings = field(default_factory=lambda: StageSettings("configs/slm-mini-stage1.yaml"))
    # Stage 2's first phase, paralinguistic rows only (configs/slm-mini-stage2-hearing.yaml); stage 2 continues its
    # adapter. None: stage 2 starts from stage 1 (the paper's single stage 2)
    slm_hearing: StageSettings | None = field(
        default_factory=lambda: StageSettings("configs/slm-mini-stage2-hearing.yaml"))
    slm_stage2: StageSettings = field(default_factory=lambda: StageSettings("configs/slm-mini-stage2.yaml"))
    # Stage 2's last phase (configs/slm-mini-stage2-gate.yaml): the projector alone trained on with half the content
    # rows at the mean voice, the adapter and its gate (fitted by stage 2 or here) kept; the export reads it.
    # None: export stage 2 as it is
    slm_gate: StageSettings | None = None
    eval: EvalSettings = field(default_factory=EvalSettings)

    @classmethod
    def from_yaml(cls, path) -> MiniRecipeConfig:
        return load_config(cls, path)


@dataclass
class ProbeSettings:
    vanilla: str = "whisper-tiny.en"  # the Whisper WhisperPro was fine-tuned from
    tasks: list[str] = field(default_factory=lambda: ["gender", "pitch", "rate", "style"])
    train_limit: int | None = 100  # train clips per task
    test_limit: int | None = None  # test clips per task (None: all)


@dataclass
class EfficiencySettings:
    split: str = "test"
    queries: int = 24  # spoken items timed one at a time per system (spread over the tasks)
    max_new_tokens: int = 32


@dataclass
class ReproduceConfig:
    mini_config: str = "configs/recipe-mini.yaml"  # the mini recipe whose outputs and stage settings are reused
    # The systems to build and compare, each a YAML overlay in `ablations` (configs/ablations/<name>.yaml): its label,
    # which features and distillation targets it trains on, and what it changes in the stage configs.
    systems: list[str] = field(default_factory=lambda: list(SYSTEMS))
    ablations: str = "configs/ablations"  # the overlays' directory (relative to the repository root, or absolute)
    adapter_encoder: str | None = None  # Whisper whose encoder the adapter reads (None: the mini WhisperPro)
    eval_splits: list[str] | None = None  # benchmark splits every system is scored on (None: the mini recipe's)
    reuse_mini_textpro: bool = True  # the "textpro" system is the mini recipe's own slm-stage2 (same settings)
    # Every system (but w/o para) trains stage 2's first phase as the mini recipe does (its slm_hearing). False: stage 2
    # starts from stage 1 (the toy check, for time: the toy mini recipe inside it still runs the phase)
    hearing_phase: bool = True
    # Deprecated: the tables step writes only under --out now; `textpro recipe report OUT --update-benchmarks FILE`
    # replaces make reproduce's section of FILE. Still read (one release), ignored with a message.
    benchmarks_md: str | None = None
    # Two lanes, one core each (runner.py): these systems train and are evaluated on the background worker, the others
    # in the foreground; with the adapter (the slowest, ~15 s/step) in the foreground both lanes take about as long.
    background: list[str] = field(default_factory=lambda: list(BACKGROUND))
    probe: ProbeSettings = field(default_factory=ProbeSettings)
    efficiency: EfficiencySettings = field(default_factory=EfficiencySettings)

    def __post_init__(self):
        known = sorted(p.stem for p in config_path(self.ablations).glob("*.yaml"))
        unknown = sorted(set(self.systems) - set(known))
        if unknown:
            raise ConfigError(f"unknown system(s) {', '.join(unknown)}: no {self.ablations}/<name>.yaml (choose from "
                              f"{', '.join(known)})")
        if self.benchmarks_md is not None:
            print(f"warning: benchmarks_md is deprecated and ignored: the recipe writes only under its --out; run "
                  f"`textpro recipe report OUT --update-benchmarks {self.benchmarks_md}`", file=sys.stderr)

    @classmethod
    def from_yaml(cls, path) -> ReproduceConfig:
        return load_config(cls, path)


# ---- the paper recipe (configs/recipe-paper-*.yaml; paper.py runs it, estimate.py sizes it) ----------------------

LAUNCHERS = ("accelerate", "torchrun", "python")


@dataclass
class ImportSpec:
    """One `textpro data import` of the paper recipe's import step."""

    name: str = ""  # manifest name: OUT/manifests/<name>.jsonl (eval sets: OUT/eval-data/<name>/test.jsonl)
    kind: str = ""  # the importer (`textpro data import KIND`)
    dir: str = ""  # the dataset folder, as its public release unpacks
    splits: list[str] | None = None  # write only these splits (None: all)
    options: dict = field(default_factory=dict)  # the importer's --option KEY=VALUE settings
    limit: int | None = None  # at most N records (TTS kinds: N clips spoken)
    voice: str | None = None  # TTS kinds: espeak (default rotation), espeak:<accent>+<variant>, piper
    eval: bool = False  # an evaluation set for the eval step, not training data
    # Stated sizes (the paper's) that --dry-run uses until the manifest exists; measured from it afterwards.
    hours: float | None = None
    clips: int | None = None  # None: hours / estimate.mean_clip_seconds
    answer_tokens: int = 4  # mean tokens of the SLM's target per clip (teacher answer, or a label)


@dataclass
class LaunchSettings:
    # How the multi-process steps (WhisperPro, featurize, both SLM stages) start: "accelerate" (accelerate launch
    # with the step's config file: GPUs, DeepSpeed), "torchrun" (CPU processes over gloo, or GPUs without
    # accelerate's config) or "python" (one process).
    launcher: str = "accelerate"
    processes: int = 8  # processes per machine (one per GPU)
    accelerate_configs: dict = field(default_factory=dict)  # step name → accelerate config (configs/accelerate/…)

    def __post_init__(self):
        if self.launcher not in LAUNCHERS:
            raise ConfigError(f"launch.launcher must be one of {', '.join(LAUNCHERS)}, got {self.launcher!r}")
        if self.processes < 1:
            raise ConfigError(f"launch.processes must be at least 1, got {self.processes}")


@dataclass
class PaperWhisperProSettings(StageSettings):
    base: str = ""  # the Whisper to fine-tune (an HF directory, e.g. /models/whisper-large-v3)
    manifests: list[str] = field(default_factory=list)  # imports whose train records it learns from (concatenated)


@dataclass
class PaperFeaturizeSettings:
    caches: dict = field(default_factory=dict)  # feature cache name → the imports it holds (one manifest each)
    batch_size: int = 8
    shard_size: int = 256


@dataclass
class PaperDistillSettings:
    teacher: str = ""  # the original text LLM: it answers locally, or renders the prompts for `endpoint`
    endpoint: str | None = None  # an OpenAI-compatible server running the teacher (vLLM …); None: answer locally
    caches: list[str] = field(default_factory=list)  # feature caches whose transcripts the teacher answers
    source: str = "asr"  # the paper's best: the teacher reads the ASR transcript the student hears
    max_new_tokens: int = 512
    batch_size: int = 8  # local teacher only
    concurrency: int = 64  # endpoint only: requests in flight


@dataclass
class PaperSLMSettings:
    config: str = "configs/paper-7b.yaml"  # both stages (its `stages:` section), with the recipe's paths
    base_llm: str = ""  # the text LLM the SLM is built on (an HF directory)
    stage1: StageSettings = field(default_factory=StageSettings)  # max_steps / overrides of stage 1 only
    stage2: StageSettings = field(default_factory=StageSettings)


@dataclass
class PaperEvalSettings:
    benches: list[str] | None = None  # eval imports to score (None: every import with eval: true)
    limit: int | None = None  # at most N items per task
    diagnostics: bool = True  # also the prosody-neutral SLM and its cascade (about 2× the model time)
    max_new_tokens: int = 48


@dataclass
class EstimateSettings:
    """What --dry-run's GPU-hour estimate assumes: compute = 6·N·tokens per training step (2·N·tokens for
    forward-only steps), at `mfu` of the GPU's dense peak. Parameter counts are read from the models' config.json
    when their directories exist, else these (whisper-large-v3 and Qwen2.5-7B-Instruct, counted on the meta
    device)."""

    gpu: str = "H100 SXM"
    gpu_tflops: float = 989.0  # dense bf16 peak per GPU (H100 SXM; A100: 312)
    mfu: float = 0.40  # model-FLOPs utilisation reached in practice
    gpus: int = 8  # for the wall-clock line
    whisper_encoder_params: float = 636_968_960
    whisper_decoder_params: float = 906_521_600
    llm_params: float = 7_615_616_512
    encoder_frames: int = 1500  # Whisper pads every clip to 30 s: its encoder always reads 1500 positions
    mean_clip_seconds: float = 5.5  # clips from hours where a corpus states none (paper: ~990 h, ~651k examples)
    words_per_second: float = 2.5  # transcript words from hours where a manifest has no text (150 words/min)
    tokens_per_word: float = 1.3  # BPE tokens per English word
    prompt_tokens: int = 30  # chat template + instruction + the prosody vector, per SLM example
    sample_clips: int = 500  # audio headers read per manifest to measure its hours (evenly spaced, scaled up)

    def __post_init__(self):
        if not 0 < self.mfu <= 1:
            raise ConfigError(f"estimate.mfu must be in (0, 1], got {self.mfu}")
        if self.gpu_tflops <= 0 or self.gpus < 1:
            raise ConfigError("estimate.gpu_tflops must be positive and estimate.gpus at least 1")


@dataclass
class PaperRecipeConfig:
    threads: int = 4  # OMP_NUM_THREADS of every step (data loading, tokenization)
    launch: LaunchSettings = field(default_factory=LaunchSettings)
    imports: list = field(default_factory=list)  # ImportSpec mappings, in order
    whisperpro: PaperWhisperProSettings = field(
        default_factory=lambda: PaperWhisperProSettings("configs/whisperpro-paper.yaml"))
    featurize: PaperFeaturizeSettings = field(default_factory=PaperFeaturizeSettings)
    distill: PaperDistillSettings = field(default_factory=PaperDistillSettings)
    slm: PaperSLMSettings = field(default_factory=PaperSLMSettings)
    eval: PaperEvalSettings = field(default_factory=PaperEvalSettings)
    estimate: EstimateSettings = field(default_factory=EstimateSettings)

    def __post_init__(self):
        from textpro.train.config import config_from_dict

        self.imports = [spec if isinstance(spec, ImportSpec) else config_from_dict(ImportSpec, spec, f"imports[{i}]")
                        for i, spec in enumerate(self.imports)]
        names = [spec.name for spec in self.imports]
        if len(set(names)) != len(names) or not all(names):
            raise ConfigError("imports: every import needs a unique name")
        training = {spec.name for spec in self.imports if not spec.eval}
        wanted = [*self.whisperpro.manifests, *(n for members in self.featurize.caches.values() for n in members)]
        if missing := sorted(set(wanted) - training):
            raise ConfigError(f"no training import named {missing[0]!r} (imports: {', '.join(sorted(training))})")
        if missing := sorted(set(self.distill.caches) - set(self.featurize.caches)):
            raise ConfigError(f"distill.caches: no feature cache named {missing[0]!r} under featurize.caches")
        evals = {spec.name for spec in self.imports if spec.eval}
        if missing := sorted(set(self.eval.benches or ()) - evals):
            raise ConfigError(f"eval.benches: no eval import named {missing[0]!r}")

    @classmethod
    def from_yaml(cls, path, overrides=()) -> PaperRecipeConfig:
        return load_config(cls, path, overrides)
