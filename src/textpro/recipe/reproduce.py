"""`make reproduce`: every system of issue 6 on the mini world, same data and steps, side by side.

    textpro recipe reproduce [--mini-dir runs/mini] [--out runs/reproduce] [--config configs/reproduce-mini.yaml]

Built on the mini recipe's outputs in --mini-dir (data, WhisperPro, features, teacher, distillation targets; the
first step runs `textpro recipe mini --until …` there, which skips what is done), with the mini recipe's own stage
settings (its config's slm_stage1 / slm_stage2 / whisperpro / featurize / distill / eval), so every system trains on
the same records for the same steps:

    textpro      TextPro-SLM, global injection (the mini recipe's own slm-stage2 when reuse_mini_textpro)
    interleave   TextPro-SLM, one prosody vector per 5 transcript tokens
    adapter      continuous adapter: Whisper encoder states pooled to 25 Hz, MLP -> LLM (slm/adapter.py)
    no-recon     WhisperPro trained with --no-reconstruction (λ = 0), its own features and distillation targets
    no-distill   stage 2 on the dataset answers ("B. twelve") instead of the teacher's (from TextPro's stage 1: the
                 stages differ only there)
    no-para      no paralinguistic examples in either stage
    cascade      WhisperPro transcript -> the text LLM (no training)

Then every system is evaluated (`textpro eval`, the text side answered once and shared), the probe table is computed
(vanilla Whisper vs WhisperPro vs WhisperPro without reconstruction), efficiency is measured (LLM input positions per
second of audio, latency per query, both as ratios to the adapter, timed with nothing else running), and
OUT/results.{md,json,png} are written; with `benchmarks_md` in the config (the shipped one), the same tables replace
make reproduce's section of BENCHMARKS.md. Each step is skipped once done (runner.py); training steps resume.

Two lanes keep both cores of a small machine busy (one thread per step): the systems in BACKGROUND train and are
evaluated on the runner's background worker, the others (the adapter, the slowest) in the foreground; w/o Recon's
WhisperPro trains beside the mini recipe's teacher and WhisperPro.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from textpro.recipe.mini import (
    REPO,
    MiniRecipe,
    MiniRecipeConfig,
    config_path,
    distill_args,
    has_command,
    recipe_env,
    stage_config,
    subset_manifest,
    write_stage_config,
)
from textpro.recipe.runner import RecipeError, Step, StepContext
from textpro.train.config import load_config

SYSTEMS = ("textpro", "interleave", "adapter", "no-recon", "no-distill", "no-para", "cascade")
TRAINED = tuple(s for s in SYSTEMS if s != "cascade")
# Two lanes, one core each. These systems train and are evaluated on the background worker, the others in the
# foreground; with the adapter (the slowest, ~15 s/step) in the foreground the two lanes take about as long.
BACKGROUND = ("textpro", "interleave", "no-recon", "no-para")
LABELS = {"textpro": "TextPro-SLM (global)", "interleave": "TextPro-SLM 5:1 (interleave)",
          "adapter": "Continuous adapter (25 Hz)", "no-recon": "TextPro w/o Recon", "no-distill": "TextPro w/o KD",
          "no-para": "TextPro w/o paralinguistic training", "cascade": "Cascade (WhisperPro -> text LLM)"}


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
    systems: list[str] = field(default_factory=lambda: list(SYSTEMS))
    adapter_encoder: str | None = None  # Whisper whose encoder the adapter reads (None: the mini WhisperPro)
    eval_splits: list[str] | None = None  # benchmark splits every system is scored on (None: the mini recipe's)
    reuse_mini_textpro: bool = True  # the "textpro" system is the mini recipe's own slm-stage2 (same settings)
    # The tables also replace make reproduce's section of this Markdown file (relative to the repository root), with
    # the chart and results.json copied to benchmarks/results/ beside it. None: only OUT/results.*.
    benchmarks_md: str | None = None
    probe: ProbeSettings = field(default_factory=ProbeSettings)
    efficiency: EfficiencySettings = field(default_factory=EfficiencySettings)

    def __post_init__(self):
        unknown = sorted(set(self.systems) - set(SYSTEMS))
        if unknown:
            from textpro.errors import ConfigError

            raise ConfigError(f"unknown system(s) {', '.join(unknown)}: choose from {', '.join(SYSTEMS)}")

    @classmethod
    def from_yaml(cls, path) -> ReproduceConfig:
        return load_config(cls, path)


class Reproduce:
    def __init__(self, config: ReproduceConfig, out: str | Path, mini_dir: str | Path):
        self.config = config
        self.out = Path(out)
        self.mini_config = MiniRecipeConfig.from_yaml(config_path(config.mini_config))
        self.mini = MiniRecipe(self.mini_config, mini_dir)
        self.encoder_features = self.out / "features" / "encoder"
        self.answers = self.out / "features" / "answers.jsonl"
        self.norecon_whisperpro = self.out / "whisperpro-norecon" / "model"
        self.norecon_features = self.out / "features" / "norecon"
        self.norecon_distilled = self.out / "features" / "norecon-distill.jsonl"

    # ---- where things are -------------------------------------------------------------------------------------------
    def has(self, system: str) -> bool:
        return system in self.config.systems

    def eval_splits(self) -> list[str]:
        return self.config.eval_splits or self.mini_config.eval.splits

    def reuses_mini(self) -> bool:
        return self.has("textpro") and self.config.reuse_mini_textpro

    def shares_stage1(self) -> bool:
        """w/o KD differs from TextPro only in stage 2's targets (stage 1 is paralinguistic-only in both, the same
        config): it starts from TextPro's stage-1 model instead of training the same one again."""
        return self.has("no-distill") and self.has("textpro")

    def stage1_dir(self, system: str) -> Path:
        if system == "no-distill" and self.shares_stage1():
            system = "textpro"
        if system == "textpro" and self.config.reuse_mini_textpro:
            return self.mini.stage1
        return self.out / system / "stage1" / "model"

    def model_dir(self, system: str) -> Path:
        if system == "textpro" and self.config.reuse_mini_textpro:
            return self.mini.stage2
        return self.out / system / "stage2" / "model"

    def train_manifest(self) -> Path:
        """The records the mini recipe featurizes (the same evenly spaced subset when it takes a fraction), written
        here, so that systems with their own features need not wait for the mini recipe's featurize step."""
        return subset_manifest(self.mini.data / "train.jsonl", self.out / "features" / "train-manifest.jsonl",
                               self.mini_config.featurize.fraction, self.mini_config.featurize.task_fractions)

    def system_data(self, system: str) -> tuple[list[Path], Path, dict, dict]:
        """(feature caches, distillation targets, slm overrides, other top-level overrides) of a trained system."""
        features, distill, slm, extra = [self.mini.features], self.mini.distilled, {}, {}
        if system == "interleave":
            slm["injection"] = "interleave"
        elif system == "adapter":
            features, slm["audio_input"] = [self.encoder_features], "adapter"
            # the baseline as the paper's peers build it: no measured acoustics, no norm bound, no branch dropout
            slm.update(acoustic_features=False, projector_max_norm=None)
            extra["branch_dropout"] = [0.0, 0.0]
        elif system == "no-recon":
            features, distill = [self.norecon_features], self.norecon_distilled
        elif system == "no-distill":
            distill = self.answers
        elif system == "no-para":
            extra["use_paralinguistic"] = False
        return features, distill, slm, extra

    # ---- steps ------------------------------------------------------------------------------------------------------
    def steps(self) -> list[Step]:
        """Two lanes: the foreground and one background worker (runner.py), one core each. Background steps queue in
        list order and are submitted when the foreground reaches them, so a background step listed after "mini" starts
        only once the teacher and the mini features exist."""
        later = "efficiency"  # the first foreground step that needs background results (textpro's, interleave's)

        def lane(system: str) -> str | None:
            return later if system in BACKGROUND else None

        def training_lane(system: str) -> str | None:
            if system == "textpro" and self.shares_stage1() and "no-distill" not in BACKGROUND:
                return "no-distill-stage2"  # a foreground step starts from TextPro's stage 1: wait for it there
            return lane(system)

        steps = [Step("mini-data", lambda ctx: self.run_mini(ctx, until="data"), "the mini world (make-mini)")]
        if self.has("no-recon"):  # the speech side of w/o Recon needs only the data: beside the mini recipe
            steps += [Step("whisperpro-norecon", self.train_norecon, "WhisperPro without the reconstruction loss",
                           background_until="probe"),
                      Step("featurize-norecon", self.featurize_norecon, "its transcripts + prosody vectors",
                           background_until=lane("no-recon") or "no-recon-stage1")]
        steps.append(Step("mini", self.run_mini, "the mini recipe's shared outputs up to distill (skips what is done)"))
        if self.reuses_mini():
            steps.append(Step("mini-slm", self.run_mini_slm, "the mini recipe's TextPro-SLM (stages 1 and 2)",
                              background_until=training_lane("textpro") or "eval-textpro"))
        if self.has("no-recon"):
            steps.append(Step("distill-norecon", self.distill_norecon, "the teacher answers its transcripts",
                              background_until=lane("no-recon") or "no-recon-stage1"))
        if self.has("adapter"):
            steps.append(Step("encoder-features", self.encoder_featurize, "adapter features: pooled encoder states",
                              requires=lambda: has_command("featurize")))
        if self.has("no-distill"):
            steps.append(Step("answers", self.write_answers, "dataset answers as targets (the w/o KD ablation)"))
        trained = [s for s in TRAINED if self.has(s) and not (s == "textpro" and self.config.reuse_mini_textpro)]
        # Background systems first: they are submitted at once and their worker starts while the foreground trains.
        for system in sorted(trained, key=lambda s: s not in BACKGROUND):
            stages = (2,) if system == "no-distill" and self.shares_stage1() else (1, 2)
            steps += [Step(f"{system}-stage{stage}", lambda ctx, s=system, k=stage: self.train_stage(ctx, s, k),
                           f"{LABELS[system]}: stage {stage}", requires=lambda: has_command("train", "slm"),
                           background_until=training_lane(system)) for stage in stages]
        for system in sorted(self.config.systems, key=lambda s: s not in BACKGROUND):
            steps.append(Step(f"eval-{system}", lambda ctx, s=system: self.evaluate(ctx, s),
                              f"{LABELS[system]}: modality gap and paralinguistic accuracy",
                              background_until=lane(system)))
        steps += [Step("probe", self.probe, "probe table: vanilla Whisper vs WhisperPro utterance vectors"),
                  Step(later, self.efficiency, "LLM input positions per second and latency per query"),
                  Step("tables", self.tables, "OUT/results.md and results.json")]
        return steps

    def run_mini(self, ctx: StepContext, until: str = "distill") -> None:
        ctx.textpro("recipe", "mini", "--out", self.mini.out, "--config", config_path(self.config.mini_config),
                    "--until", until)

    def run_mini_slm(self, ctx: StepContext) -> None:
        self.run_mini(ctx, until="slm-stage2")

    def encoder_featurize(self, ctx: StepContext) -> None:
        settings = self.mini_config.featurize
        encoder = self.config.adapter_encoder or self.mini.whisperpro
        ctx.textpro("featurize", self.train_manifest(), "--whisperpro", encoder, "--out", self.encoder_features,
                    "--encoder-only", "--batch-size", str(settings.batch_size), "--shard-size",
                    str(settings.shard_size), "--quiet")

    def write_answers(self, ctx: StepContext) -> None:
        from textpro.slm.featurize import FeatureStore

        rows = dataset_answers(FeatureStore(self.mini.features), self.mini_config.distill.task)
        self.answers.parent.mkdir(parents=True, exist_ok=True)
        self.answers.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        ctx.log(f"wrote {len(rows)} dataset answers to {self.answers}")

    def train_norecon(self, ctx: StepContext) -> None:
        config = stage_config(self.mini_config.whisperpro, {"train_manifest": str(self.mini.data / "train.jsonl")},
                              self.norecon_whisperpro.parent)
        ctx.textpro("train", "whisperpro", "--config", write_stage_config(ctx, "whisperpro-norecon", config),
                    "--resume", "--no-reconstruction")

    def featurize_norecon(self, ctx: StepContext) -> None:
        settings = self.mini_config.featurize
        ctx.textpro("featurize", self.train_manifest(), "--whisperpro", self.norecon_whisperpro, "--out",
                    self.norecon_features, "--batch-size", str(settings.batch_size), "--shard-size",
                    str(settings.shard_size), "--quiet")

    def distill_norecon(self, ctx: StepContext) -> None:
        ctx.textpro(*distill_args(self.mini_config.distill, self.norecon_features, self.mini.teacher,
                                  self.norecon_distilled))

    def train_stage(self, ctx: StepContext, system: str, stage: int) -> None:
        import yaml

        features, distill, slm_overrides, extra = self.system_data(system)
        paths = {"features": [str(f) for f in features], **extra}
        output = self.out / system / f"stage{stage}"
        if stage == 1:
            settings = self.mini_config.slm_stage1
            base = yaml.safe_load(config_path(settings.config).read_text()) or {}
            paths["slm"] = {**(base.get("slm") or {}), "base_llm": str(self.mini.teacher), **slm_overrides}
            if extra.get("use_paralinguistic") is False:  # stage 1 is paralinguistic-only otherwise: nothing left
                paths["distill"] = str(distill)
        else:
            settings = self.mini_config.slm_stage2
            paths.update(init_from=str(self.stage1_dir(system)), distill=str(distill))
        config = stage_config(settings, paths, output)
        ctx.textpro("train", "slm", "--stage", str(stage), "--config",
                    write_stage_config(ctx, f"{system}-stage{stage}", config), "--resume")

    def evaluate(self, ctx: StepContext, system: str) -> None:
        for split in self.eval_splits():
            out = self.out / "eval" / system / split
            seed_text_responses(self.out / "eval", split, out)  # the text LLM's answers are the same for all
            args = ["eval", "--bench", self.mini.data, "--split", split, "--text-model", self.mini.teacher,
                    "--out", out]
            args += ["--cascade", self.mini.whisperpro] if system == "cascade" else ["--model", self.model_dir(system)]
            if self.mini_config.eval.limit:
                args += ["--limit", str(self.mini_config.eval.limit)]
            ctx.textpro(*args)

    def probe(self, ctx: StepContext) -> None:
        settings = self.config.probe
        args = [sys.executable, "-m", "textpro.eval.probe", "--bench", self.mini.data, "--out", self.out / "probe",
                "--model", settings.vanilla, "--model", self.mini.whisperpro, "--tasks", *settings.tasks, "--quiet"]
        if self.has("no-recon"):
            args += ["--model", self.norecon_whisperpro]
        if settings.train_limit:
            args += ["--train-limit", str(settings.train_limit)]
        if settings.test_limit:
            args += ["--test-limit", str(settings.test_limit)]
        ctx.command(*args)

    def efficiency(self, ctx: StepContext) -> None:
        from textpro.cli import _quiet_libraries

        _quiet_libraries()  # this step loads models in the recipe's own process: no loading bars on its console
        measured = {}
        for system in ("textpro", "interleave", "adapter", "cascade"):
            if self.has(system):
                measured[system] = measure_efficiency(self, system, self.config.efficiency)
                ctx.log(f"{system}: {measured[system]}")
        (self.out / "efficiency.json").write_text(json.dumps(measured, indent=2) + "\n")

    def tables(self, ctx: StepContext) -> None:
        results = collect_results(self)
        results["timing"] = run_timing([self.mini.out / "done", self.out / "done"], skip=MINI_WRAPPERS)
        (self.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        (self.out / "results.md").write_text(results_markdown(results), encoding="utf-8")
        results_chart(results, self.out / "results.png")
        ctx.log(f"wrote {self.out / 'results.md'} and results.png")
        if self.config.benchmarks_md:
            document = Path(self.config.benchmarks_md)  # the repository's, whatever the working directory
            document = document if document.is_absolute() else REPO / document
            figures = document.parent / "benchmarks" / "results"
            figures.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.out / "results.png", figures / "reproduce.png")
            shutil.copyfile(self.out / "results.json", figures / "reproduce.json")
            section = benchmarks_section(results, "benchmarks/results/reproduce.png")
            document.write_text(replace_section(document.read_text(encoding="utf-8"), section), encoding="utf-8")
            ctx.log(f"updated make reproduce's section of {document}")


# ---- pieces ---------------------------------------------------------------------------------------------------------

def dataset_answers(store, task: str | None = "semantic") -> list[dict]:
    """The w/o-KD targets: each question's gold answer from the manifest, in the teacher's format ("B. twelve"),
    in `textpro distill`'s JSONL schema, for the same records the teacher answered."""
    rows = []
    for entry in store.index:
        manifest = entry.get("manifest", {})
        if task is not None and manifest.get("task") != task:
            continue
        letter = str(manifest.get("reference", "")).strip()
        text = manifest.get("answer_text")
        response = f"{letter}. {text}" if text else letter
        rows.append({"id": entry["id"], "source": "dataset", "question": entry["text"], "response": response})
    return rows


def seed_text_responses(eval_root: Path, split: str, destination: Path) -> int:
    """Copy the text side's cached answers of earlier systems into a new eval directory (the harness re-asks
    nothing it finds there), so the text LLM answers each question once per run. Returns the rows copied."""
    cache = destination / "responses.jsonl"
    if cache.exists():
        return 0
    rows = []
    for path in sorted(eval_root.glob(f"*/{split}/responses.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line).get("side") == "text":
                    rows.append(line)
            except json.JSONDecodeError:
                continue
    if rows:
        destination.mkdir(parents=True, exist_ok=True)
        cache.write_text("\n".join(dict.fromkeys(rows)) + "\n", encoding="utf-8")
    return len(rows)


def efficiency_queries(bench: Path, split: str, count: int) -> list:
    from textpro.eval.bench import load_bench
    from textpro.eval.harness import limit_per_task
    from textpro.eval.responders import AudioQuery

    items = load_bench(bench, split)
    tasks = {item.task for item in items}
    items = limit_per_task(items, max(1, math.ceil(count / len(tasks))))[:count]
    return [AudioQuery(item.audio_path, item.instruction) for item in items]


def measure_efficiency(recipe: Reproduce, system: str, settings: EfficiencySettings) -> dict:
    """LLM input positions per second of audio (the speech part of the prompt) and mean seconds per query
    (audio in, answer out, one query at a time) of one system on `settings.queries` items."""
    from textpro.audio import SAMPLE_RATE, load_audio
    from textpro.slm import SLMResponder

    queries = efficiency_queries(recipe.mini.data, settings.split, settings.queries)
    if system == "cascade":
        from textpro.eval.responders import CascadeResponder, TextLLMResponder
        from textpro.whisperpro import Transcriber

        transcriber = Transcriber.from_pretrained(recipe.mini.whisperpro)
        text = TextLLMResponder.from_pretrained(recipe.mini.teacher, batch_size=1,
                                                max_new_tokens=settings.max_new_tokens)
        responder = CascadeResponder(lambda path: transcriber.transcribe(str(path), max_seconds=None).text, text)
        heard = [transcriber.transcribe(str(q.audio_path), max_seconds=None) for q in queries]
        positions = sum(len(text.tokenizer.encode(h.text, add_special_tokens=False)) for h in heard)
    else:
        responder = SLMResponder.from_pretrained(recipe.model_dir(system), batch_size=1,
                                                 max_new_tokens=settings.max_new_tokens)
        builder = responder.pipeline.slm.builder
        heard = responder.pipeline.listen([str(q.audio_path) for q in queries])
        positions = sum(builder.speech_positions(h) for h in heard)
    seconds = sum(len(load_audio(q.audio_path, max_seconds=None)) / SAMPLE_RATE for q in queries)
    responder.answer_audio(queries[:1])  # warm-up: first-call allocations are not per-query latency
    started = time.perf_counter()
    for query in queries:
        responder.answer_audio([query])
    latency = (time.perf_counter() - started) / len(queries)
    return {"positions_per_second": positions / seconds, "latency_seconds": latency, "queries": len(queries),
            "audio_seconds": round(seconds, 2)}


def training_hours(features: list[Path], distill: Path | None, use_paralinguistic: bool) -> float:
    """Hours of distinct audio in a system's training examples (either stage)."""
    from textpro.slm.featurize import FeatureStore
    from textpro.slm.tasks import ParalinguisticConfig, distillation_examples, paralinguistic_examples

    stores = [FeatureStore(f) for f in features]
    examples = distillation_examples(stores, distill) if distill and Path(distill).is_file() else []
    if use_paralinguistic:
        examples += paralinguistic_examples(stores, ParalinguisticConfig())
    used = {(e.store, e.index) for e in examples}
    return sum(float(stores[s].index[i]["duration"]) for s, i in used) / 3600


def semantic_by_kind(bench: Path, split: str, eval_dir: Path) -> dict:
    """{kind: {"n", "text", "speech", "gap"}} for the multiple-choice items of one eval directory, per question
    kind (arithmetic, fact, …: the mini world's counterpart of the paper's six benchmarks), from its cached
    responses and the harness's own scoring. Items without both answers (a --limit run) are left out."""
    from textpro.data.mini import read_split
    from textpro.eval.bench import MCQ, load_bench
    from textpro.eval.harness import SPEECH, TEXT, ResponseCache, score_mcq

    summary = json.loads((eval_dir / "results.json").read_text())
    cache = ResponseCache(eval_dir / "responses.jsonl")
    kinds = {str(r["id"]): r.get("kind") or r.get("task") for r in read_split(bench, split)}
    groups: dict[str, list] = {}
    for item in load_bench(bench, split):
        if item.kind == MCQ:
            groups.setdefault(kinds.get(item.id, item.task), []).append(item)
    table = {}
    for kind, items in sorted(groups.items()):
        answered = [(i, cache.get(TEXT, summary["text_system"], i), cache.get(SPEECH, summary["speech_system"], i))
                    for i in items]
        answered = [(i, t, s) for i, t, s in answered if t is not None and s is not None]
        if not answered:
            continue
        chosen = [i for i, _, _ in answered]
        text = score_mcq(chosen, {i.id: t for i, t, _ in answered}, seed=summary.get("seed", 0)).accuracy
        speech = score_mcq(chosen, {i.id: s for i, _, s in answered}, seed=summary.get("seed", 0)).accuracy
        table[kind] = {"n": len(chosen), "text": text, "speech": speech, "gap": text - speech}
    return table


def collect_results(recipe: Reproduce) -> dict:
    splits = recipe.eval_splits()
    out: dict = {"mini_dir": str(recipe.mini.out), "splits": splits, "systems": {}}
    for system in recipe.config.systems:
        entry: dict = {"label": LABELS[system], "model": None if system == "cascade" else str(recipe.model_dir(system))}
        for split in splits:
            eval_dir = recipe.out / "eval" / system / split
            if not (eval_dir / "results.json").is_file():
                continue
            summary = json.loads((eval_dir / "results.json").read_text())
            para = summary["paralinguistic"]
            entry[split] = {"average": summary["average"],
                            "paralinguistic_chance": sum(t["chance"] for t in para) / len(para) if para else None,
                            "paralinguistic": {t["task"]: t["speech"]["accuracy"] for t in summary["paralinguistic"]},
                            "semantic_by_kind": semantic_by_kind(recipe.mini.data, split, eval_dir)}
        if system != "cascade":
            features, distill, _, extra = recipe.system_data(system)
            if system == "textpro" and recipe.config.reuse_mini_textpro:
                features, distill = [recipe.mini.features], recipe.mini.distilled
            if all((f / "index.jsonl").is_file() for f in features):
                entry["training_audio_hours"] = training_hours(features, distill, extra.get("use_paralinguistic", True))
        out["systems"][system] = entry
    for name in ("efficiency.json",):
        path = recipe.out / name
        out["efficiency"] = json.loads(path.read_text()) if path.is_file() else {}
    probe = recipe.out / "probe" / "probe.json"
    out["probe"] = json.loads(probe.read_text()) if probe.is_file() else None
    out["probe_names"] = {recipe.config.probe.vanilla: f"vanilla {recipe.config.probe.vanilla}",
                          str(recipe.mini.whisperpro): "WhisperPro",
                          str(recipe.norecon_whisperpro): "WhisperPro w/o Recon"}
    return out


def _num(value, digits: int = 1) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def results_markdown(results: dict) -> str:
    """Table-3-like (speech accuracy (gap) per question kind, average gap), Table-5-like (paralinguistic accuracy),
    Table-2-like (probes) and efficiency (ratios to the adapter), from `collect_results`."""
    systems, splits = results["systems"], results["splits"]
    main = splits[0]
    lines = [f"# Reproduction on the mini world ({results['mini_dir']})", ""]

    kinds = sorted({k for e in systems.values() for k in e.get(main, {}).get("semantic_by_kind", {})})
    lines += [f"## Modality gap (Table 3-like), split `{main}`: speech accuracy % (gap, points)", "",
              "| System | " + " | ".join(kinds) + " | Avg gap | " + " | ".join(f"gap `{s}`" for s in splits) + " |",
              "|---|" + "---:|" * (len(kinds) + 1 + len(splits))]
    text_row = None
    for entry in systems.values():
        by_kind = entry.get(main, {}).get("semantic_by_kind", {})
        if text_row is None and by_kind:
            text_row = "| Text LLM, text input | " + " | ".join(_num(by_kind.get(k, {}).get("text")) for k in kinds)
        cells = [f"{_num(by_kind[k]['speech'])} ({_num(by_kind[k]['gap'])})" if k in by_kind else "–" for k in kinds]
        gaps = [by_kind[k]["gap"] for k in kinds if k in by_kind]
        per_split = [_num(entry.get(s, {}).get("average", {}).get("gap")) for s in splits]
        average = sum(gaps) / len(gaps) if gaps else None
        lines.append(f"| {entry['label']} | " + " | ".join(cells) + f" | **{_num(average)}** | "
                     + " | ".join(per_split) + " |")
    if text_row:
        lines.append(text_row + " | | " + " | ".join("" for _ in splits) + " |")
    lines += ["", "Avg gap: the mean over question kinds (as the paper averages over benchmarks); `gap <split>`: the "
              "harness's gap over all questions of that split.", ""]

    tasks = sorted({t for e in systems.values() for t in e.get(main, {}).get("paralinguistic", {})})
    lines += [f"## Paralinguistic accuracy % (Table 5-like), split `{main}`", "",
              "| System | " + " | ".join(tasks) + " | Avg |", "|---|" + "---:|" * (len(tasks) + 1)]
    for entry in systems.values():
        para = entry.get(main, {}).get("paralinguistic", {})
        avg = entry.get(main, {}).get("average", {}).get("paralinguistic_accuracy")
        lines.append(f"| {entry['label']} | " + " | ".join(_num(para.get(t)) for t in tasks) + f" | **{_num(avg)}** |")
    lines.append("")

    if results.get("probe"):
        from textpro.eval.probe import markdown_table

        lines += ["## Probes on utterance vectors (Table 2-like)", "",
                  markdown_table(results["probe"], results.get("probe_names"))]

    efficiency = results.get("efficiency") or {}
    if efficiency:
        adapter = efficiency.get("adapter")
        lines += ["## Efficiency", "", "| System | LLM input positions / s of audio | × fewer than adapter | "
                  "Latency / query (s) | × adapter's latency | Training audio (h) |", "|---|---:|---:|---:|---:|---:|"]
        for system, measured in efficiency.items():
            fewer = adapter["positions_per_second"] / measured["positions_per_second"] if adapter else None
            relative = measured["latency_seconds"] / adapter["latency_seconds"] if adapter else None
            hours = systems.get(system, {}).get("training_audio_hours")
            lines.append(f"| {systems.get(system, {}).get('label', system)} | {_num(measured['positions_per_second'])}"
                         f" | {_num(fewer)} | {_num(measured['latency_seconds'], 2)} | {_num(relative, 2)} | "
                         f"{_num(hours, 2)} |")
        lines.append("")
    return "\n".join(lines)


def run_timing(done_dirs: list[Path], skip: tuple[str, ...] = ()) -> dict:
    """Wall clock of everything `make reproduce` ran (the mini recipe's steps and its own, from their done markers),
    the sum of the steps' own times (more than the wall clock: two lanes overlap), and the machine's cores.
    skip: steps that only wrap others already counted (the `recipe mini` calls)."""
    from textpro.recipe.runner import wall_seconds

    rows = [json.loads(p.read_text()) for d in done_dirs if d.is_dir() for p in sorted(d.glob("*.json"))]
    rows = [r for r in rows if r.get("step") not in skip]
    rows.sort(key=lambda r: r.get("finished") or "")
    return {"wall_seconds": wall_seconds(rows), "step_seconds": round(sum(r.get("seconds") or 0 for r in rows), 1),
            "steps": len(rows), "cores": os.cpu_count(),
            "step_minutes": {r["step"]: round((r.get("seconds") or 0) / 60, 1) for r in rows}}


MINI_WRAPPERS = ("mini-data", "mini", "mini-slm")  # steps that run `textpro recipe mini` (its steps are timed there)
SECTION_BEGIN = "<!-- make reproduce: begin (this section is rewritten by its tables step) -->"
SECTION_END = "<!-- make reproduce: end -->"


def benchmarks_section(results: dict, figure: str) -> str:
    timing = results.get("timing") or {}
    wall = timing.get("wall_seconds")
    lines = [SECTION_BEGIN, "## Reproduction of the paper's tables on the mini world (`make reproduce`)", "",
             "```bash", "make reproduce   # = textpro recipe reproduce --mini-dir runs/mini --out runs/reproduce "
             "--config configs/reproduce-mini.yaml", "```", "",
             f"Generated {time.strftime('%Y-%m-%d')} on {timing.get('cores', '?')} CPU cores: "
             f"{_num(wall / 60 if wall else None, 0)} min wall clock for the mini recipe and every system "
             f"({_num((timing.get('step_seconds') or 0) / 60, 0)} min of steps in two lanes). Every system trains on "
             "the same records for the same steps; raw numbers: [reproduce.json](benchmarks/results/reproduce.json).",
             "", demote_headings(results_markdown(results).split("\n", 2)[2]), "",
             "Step wall times in minutes, in the order they finished (two at a time; the mini recipe's steps are "
             "those of `textpro recipe mini`): " + ", ".join(f"{k} {v}" for k, v in
                                                             (timing.get("step_minutes") or {}).items()) + ".", "",
             f"![gap and paralinguistic accuracy per system]({figure})", "", SECTION_END]
    return "\n".join(lines)


def demote_headings(markdown: str) -> str:
    """## → ### (the tables sit under the section's own heading)."""
    return "\n".join("#" + line if line.startswith("## ") else line for line in markdown.split("\n"))


def replace_section(document: str, section: str) -> str:
    """`document` with make reproduce's section replaced (appended when it has none)."""
    if SECTION_BEGIN in document and SECTION_END in document:
        head, rest = document.split(SECTION_BEGIN, 1)
        return head + section + rest.split(SECTION_END, 1)[1]
    return document.rstrip("\n") + "\n\n" + section + "\n"


def results_chart(results: dict, path: Path) -> Path:
    """Per system: speech accuracy and gap on the multiple-choice questions, paralinguistic average (chance marked)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    main = results["splits"][0]
    systems = [(e["label"], e[main]["average"]) for e in results["systems"].values() if main in e]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    names = [label for label, _ in systems]
    xs = range(len(systems))
    panels = [(axes[0], [a.get("gap") for _, a in systems], "gap, points (text − speech; lower is better)",
               "#DD8452"),
              (axes[1], [a.get("paralinguistic_accuracy") for _, a in systems], "paralinguistic accuracy %",
               "#55A868")]
    for ax, values, title, color in panels:
        ax.bar(list(xs), [v if v is not None and not math.isnan(v) else 0 for v in values], 0.6, color=color)
        for x, v in zip(xs, values, strict=True):
            ax.annotate(_num(v), (x, v if v is not None and not math.isnan(v) else 0), ha="center",
                        va="bottom", fontsize=8)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(list(xs), names, rotation=25, ha="right", fontsize=8)
        ax.set_title(f"{title}, split {main}", fontsize=10)
    chance = [e[main].get("paralinguistic_chance") for e in results["systems"].values() if main in e]
    if any(c is not None for c in chance):
        axes[1].axhline(next(c for c in chance if c is not None), color="black", linestyle="--", linewidth=0.8,
                        label="chance")
        axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run_reproduce(config_file: str, out: str, mini_dir: str, start: str | None = None,
                  until: str | None = None) -> dict:
    from textpro.recipe.runner import run_steps

    config = ReproduceConfig.from_yaml(config_path(config_file))
    recipe = Reproduce(config, out, mini_dir)
    if Path(out).resolve() == Path(mini_dir).resolve():
        raise RecipeError("--out must differ from --mini-dir (the mini recipe's outputs are read, not rewritten)")
    return run_steps(recipe.steps(), out, start=start, until=until, env=recipe_env(recipe.mini_config))
