"""`textpro recipe paper --dry-run`: every step's exact commands, the data sizes and the GPU-hour estimate
(estimate.py), written for a person deciding whether to book the GPUs. Nothing runs and nothing is written."""

from __future__ import annotations

import shlex

from textpro.recipe.estimate import (
    CorpusSize,
    StepCost,
    corpus_size,
    format_count,
    llm_cost,
    model_params,
    whisper_cost,
)
from textpro.recipe.paper import PaperRecipe

CONFIG_STEPS = {"whisperpro": "whisperpro", "slm-stage1": "slm-stage1", "slm-stage2": "slm-stage2"}


def corpus_sizes(recipe: PaperRecipe) -> dict[str, CorpusSize]:
    settings = recipe.config.estimate
    return {spec.name: corpus_size(spec, recipe.manifest(spec), settings) for spec in recipe.config.imports}


def step_costs(recipe: PaperRecipe, sizes: dict[str, CorpusSize]) -> list[StepCost]:
    """The estimate per step that runs a model (the import and eval steps are left out: no training, little
    compute)."""
    config, settings = recipe.config, recipe.config.estimate
    whisper = model_params(config.whisperpro.base, settings, whisper=True) or (
        settings.whisper_encoder_params, settings.whisper_decoder_params)
    llm = (model_params(config.slm.base_llm, settings, whisper=False) or (settings.llm_params,))[0]
    teacher = (model_params(config.distill.teacher, settings, whisper=False) or (settings.llm_params,))[0]

    def members(caches) -> list[CorpusSize]:
        return [sizes[name] for cache in caches for name in config.featurize.caches[cache]]

    caches = list(config.featurize.caches)
    stage1 = recipe.slm_config(1)
    # Stage 1 without distillation targets (the paper's) trains on the paralinguistic caches only.
    stage1_caches = caches if stage1.get("distill") else [c for c in caches if c not in config.distill.caches]
    return [
        whisper_cost("whisperpro", [sizes[n] for n in config.whisperpro.manifests], whisper, settings, 6,
                     recipe.whisperpro_config()),
        whisper_cost("featurize", members(caches), whisper, settings, 2),
        llm_cost("distill", members(config.distill.caches), teacher, settings, 2,
                 what="prompt + transcript + answer (teacher, forward only)"),
        llm_cost("slm-stage1", members(stage1_caches), llm, settings, 6, stage1),
        llm_cost("slm-stage2", members(caches), llm, settings, 6, recipe.slm_config(2)),
    ]


def dry_run_text(recipe: PaperRecipe, config_name: str) -> str:
    sizes = corpus_sizes(recipe)
    lines = [f"textpro recipe paper: {config_name} → {recipe.out} (dry run: nothing runs, nothing is written)", ""]
    lines += data_lines(recipe, sizes) + [""] + command_lines(recipe) + [""]
    lines += estimate_lines(recipe, step_costs(recipe, sizes))
    return "\n".join(lines)


def data_lines(recipe: PaperRecipe, sizes: dict[str, CorpusSize]) -> list[str]:
    lines = ["data (measured from OUT's manifests once imported; until then the config's stated sizes)",
             f"  {'name':<18} {'kind':<15} {'use':<6} {'clips':>8} {'hours':>8} {'transcript tok':>15} "
             f"{'target tok':>11}  source"]
    total = [0, 0.0, 0.0, 0.0]
    for spec in recipe.config.imports:
        size = sizes[spec.name]
        use = "eval" if spec.eval else "train"
        if size.source == "unknown":  # not imported yet, no stated size (the eval sets): nothing to show
            lines.append(f"  {spec.name:<18} {spec.kind:<15} {use:<6} {'—':>8} {'—':>8} {'—':>15} {'—':>11}  "
                         "not imported yet")
            continue
        lines.append(f"  {spec.name:<18} {spec.kind:<15} {use:<6} "
                     f"{format_count(size.clips):>8} {size.hours:>8.1f} {format_count(size.transcript_tokens):>15} "
                     f"{format_count(size.answer_tokens):>11}  {size.source}")
        if not spec.eval:
            for i, value in enumerate((size.clips, size.hours, size.transcript_tokens, size.answer_tokens)):
                total[i] += value
    lines.append(f"  {'training (WhisperPro + LLM)':<41} {format_count(total[0]):>8} {total[1]:>8.1f} "
                 f"{format_count(total[2]):>15} {format_count(total[3]):>11}")
    return lines


def command_lines(recipe: PaperRecipe) -> list[str]:
    lines = [f"steps (launcher: {recipe.config.launch.launcher}, {recipe.config.launch.processes} processes; "
             "each step is skipped once OUT/done/<step>.json exists)"]
    for step in recipe.steps():
        lines.append(f"  [{step.name}] {step.description}")
        if step.name in CONFIG_STEPS:
            source = recipe.config.whisperpro.config if step.name == "whisperpro" else recipe.config.slm.config
            lines.append(f"    writes {recipe.config_file(step.name)}: {source} with the recipe's paths and sizes")
        if step.name == "import":
            lines.append("    (run in the recipe's process; existing manifests are kept)")
        lines += [f"    $ {shlex.join(argv)}" for argv in recipe.commands(step.name)]
    return lines


def estimate_lines(recipe: PaperRecipe, costs: list[StepCost]) -> list[str]:
    settings = recipe.config.estimate
    sustained = settings.gpu_tflops * settings.mfu
    lines = [f"GPU-hour estimate: {settings.gpu}, {settings.gpu_tflops:g} TFLOPS dense bf16 peak × MFU "
             f"{settings.mfu:.0%} = {sustained:g} TFLOPS per GPU (from FLOPs, not from this machine's speed)",
             f"  {'step':<11} {'tokens':>8} {'PFLOP':>10} {'GPU-h':>9}  counts"]
    for cost in costs:
        lines.append(f"  {cost.step:<11} {format_count(cost.tokens):>8} {cost.flops / 1e15:>10.1f} "
                     f"{cost.gpu_hours:>9.1f}  {cost.counts}")
    total = sum(c.gpu_hours for c in costs)
    lines.append(f"  {'total':<11} {'':>8} {sum(c.flops for c in costs) / 1e15:>10.1f} {total:>9.1f}  "
                 f"= {total / settings.gpus:.1f} h on {settings.gpus} GPUs")
    lines += ["  slm-stage1 trains the projector only: with the LLM frozen its backward skips the weight",
              "  gradients (~4·N, not 6·N), so its row is an upper bound. Not counted, so budget above the total:",
              "  gradient checkpointing (paper-7b.yaml; it recomputes the forward, ~8·N), padding, the speaker",
              "  questions `paralinguistic.every_clip` adds about spoken requests that carry gender/accent labels",
              "  (one short example per label), eval, the import step's TTS, WhisperPro's reconstructor."]
    return lines
