"""The recipe runner (skip, resume, --from/--until, failures) on small callables, and the mini recipe's wiring."""

import json
from pathlib import Path

import pytest
import yaml

from textpro.recipe.config import MiniRecipeConfig, MiniWhisperProSettings, StageSettings
from textpro.recipe.mini import MiniRecipe
from textpro.recipe.runner import RecipeError, Step, StepContext, done_marker, run_steps, select
from textpro.recipe.stages import stage_config


def make_steps(calls: list, fail: set | None = None) -> list[Step]:
    def action(name):
        def run(ctx):
            calls.append(name)
            ctx.log(f"{name} ran")
            if name in (fail or set()):
                raise RecipeError("boom")
            (ctx.out / f"{name}.txt").write_text(name)
        return run
    return [Step(name, action(name), f"step {name}") for name in ("a", "b", "c", "d")]


def quiet(_message):
    pass


def test_runs_every_step_once_and_skips_done_ones(tmp_path):
    calls = []
    summary = run_steps(make_steps(calls), tmp_path, echo=quiet)
    assert calls == ["a", "b", "c", "d"]
    assert [r["status"] for r in summary["steps"]] == ["done"] * 4
    assert all(done_marker(tmp_path, n).is_file() for n in "abcd")
    assert (tmp_path / "logs" / "b.log").read_text() == "b ran\n"
    assert "| **total (done steps)** |" in (tmp_path / "summary.md").read_text()

    calls.clear()
    run_steps(make_steps(calls), tmp_path, echo=quiet)
    assert calls == []  # all done: nothing runs again


def test_failure_leaves_no_marker_and_the_next_run_resumes_there(tmp_path):
    calls = []
    with pytest.raises(RecipeError, match=r"step c failed: boom \(see .*c\.log\)"):
        run_steps(make_steps(calls, fail={"c"}), tmp_path, echo=quiet)
    assert calls == ["a", "b", "c"] and not done_marker(tmp_path, "c").exists()
    statuses = {r["step"]: r["status"] for r in json.loads((tmp_path / "summary.json").read_text())["steps"]}
    assert statuses == {"a": "done", "b": "done", "c": "failed", "d": "pending"}

    calls.clear()
    run_steps(make_steps(calls), tmp_path, echo=quiet)
    assert calls == ["c", "d"]


def test_a_background_step_runs_alongside_later_steps_until_its_user(tmp_path):
    import threading

    events, started = [], threading.Event()

    def slow(ctx):  # runs in the background: waits until "b" has started, i.e. truly alongside it
        events.append("slow start")
        assert started.wait(10)
        events.append("slow end")

    threads = {}

    def step(name):
        def run(ctx):
            events.append(name)
            threads[name] = ctx.env["OMP_NUM_THREADS"]
            if name == "b":
                started.set()
        return run

    steps = [Step("a", step("a")), Step("slow", slow, background_until="c"), Step("b", step("b")),
             Step("c", step("c"))]
    summary = run_steps(steps, tmp_path, env={"OMP_NUM_THREADS": "1"}, alone_env={"OMP_NUM_THREADS": "2"}, echo=quiet)
    assert threads == {"a": "2", "b": "1", "c": "2"}  # both cores' threads only while no background step runs
    assert events.index("slow end") < events.index("c")  # its user waited for it
    assert events.index("b") < events.index("slow end")  # the next step did not
    assert [r["status"] for r in summary["steps"]] == ["done"] * 4


# A background command as the recipe runs one: it installs the handler, then reports torch's threads until they change.
THREADS_CHILD = """
import os, time, torch
from textpro.recipe.runner import follow_threads_signal
follow_threads_signal()
print("listening", torch.get_num_threads(), flush=True)
deadline = time.time() + 60
while torch.get_num_threads() == 1 and time.time() < deadline:
    time.sleep(0.05)
print("threads", torch.get_num_threads(), os.environ["OMP_NUM_THREADS"], flush=True)
"""


def test_a_background_step_the_foreground_waits_for_takes_both_cores(tmp_path):
    import sys
    import time

    def background(ctx):
        ctx.command(sys.executable, "-c", THREADS_CHILD)
        ctx.command(sys.executable, "-c", "import os; print('next command', os.environ['OMP_NUM_THREADS'])")

    def foreground(ctx):  # returns once the background command listens, so its user has to wait for it
        log = tmp_path / "logs" / "bg.log"
        deadline = time.time() + 60
        while "listening 1" not in (log.read_text() if log.is_file() else "") and time.time() < deadline:
            time.sleep(0.05)

    messages = []
    steps = [Step("bg", background, background_until="user"), Step("fg", foreground),
             Step("user", lambda ctx: None)]
    run_steps(steps, tmp_path, env={"OMP_NUM_THREADS": "1"}, alone_env={"OMP_NUM_THREADS": "2"},
              echo=messages.append)
    log = (tmp_path / "logs" / "bg.log").read_text()
    assert "listening 1" in log and "threads 2 2" in log  # switched mid-run, by torch.set_num_threads
    assert "next command 2" in log  # and its later commands start with both
    assert "[bg] runs alone now: asked to take 2 threads" in messages


def test_a_command_without_the_handler_is_not_signalled(tmp_path):
    import subprocess
    import sys

    ctx = StepContext(tmp_path, tmp_path / "x.log", {"OMP_NUM_THREADS": "1"})
    ctx.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert ctx.take_threads({"OMP_NUM_THREADS": "2"}) is False  # SIGUSR1's default action would end it
        assert ctx.process.poll() is None and ctx.env == {"OMP_NUM_THREADS": "2"}
    finally:
        ctx.process.kill()
        ctx.process.wait()


def test_a_failing_background_step_stops_the_recipe_at_its_user(tmp_path):
    def fail(ctx):
        raise RecipeError("no teacher")

    calls = []
    steps = [Step("t", fail, background_until="d"), Step("b", lambda ctx: calls.append("b")),
             Step("d", lambda ctx: calls.append("d"))]
    with pytest.raises(RecipeError, match="step t failed: no teacher"):
        run_steps(steps, tmp_path, echo=quiet)
    assert calls == ["b"] and not done_marker(tmp_path, "t").exists()


def test_until_stops_and_from_reruns_that_step_and_later_ones(tmp_path):
    calls = []
    run_steps(make_steps(calls), tmp_path, until="b", echo=quiet)
    assert calls == ["a", "b"] and not done_marker(tmp_path, "c").exists()

    calls.clear()
    with pytest.raises(RecipeError, match="earlier step 'c' is not done"):
        run_steps(make_steps(calls), tmp_path, start="d", echo=quiet)
    assert calls == []

    run_steps(make_steps(calls), tmp_path, echo=quiet)
    calls.clear()
    run_steps(make_steps(calls), tmp_path, start="b", until="c", echo=quiet)
    assert calls == ["b", "c"]
    assert not done_marker(tmp_path, "d").exists()  # --from clears later markers: d is stale after b re-ran
    calls.clear()
    run_steps(make_steps(calls), tmp_path, echo=quiet)
    assert calls == ["d"]


def test_select_and_unknown_steps(tmp_path):
    steps = make_steps([])
    assert [s.name for s in select(steps, "b", "c")] == ["b", "c"]
    with pytest.raises(RecipeError, match="unknown step 'x'"):
        select(steps, "x")
    with pytest.raises(RecipeError, match="comes after"):
        select(steps, "d", "a")


def test_a_missing_command_fails_with_one_line_naming_it(tmp_path):
    calls = []
    steps = make_steps(calls)
    steps[1].requires = lambda: "this build has no `textpro featurize` yet"
    with pytest.raises(RecipeError, match="step b: this build has no `textpro featurize` yet"):
        run_steps(steps, tmp_path, echo=quiet)
    assert calls == ["a"]


def test_commands_log_their_output_and_fail_on_nonzero_exit(tmp_path):
    import sys

    def ok(ctx):
        ctx.command(sys.executable, "-c", "print('hello from the step')")

    def bad(ctx):
        ctx.command(sys.executable, "-c", "import sys; sys.exit(3)")

    run_steps([Step("ok", ok)], tmp_path, echo=quiet)
    assert "hello from the step" in (tmp_path / "logs" / "ok.log").read_text()
    with pytest.raises(RecipeError, match="exited with status 3"):
        run_steps([Step("ok", ok), Step("bad", bad)], tmp_path, echo=quiet)


# ---- the mini recipe --------------------------------------------------------------------------------------------

def test_shipped_recipe_config_and_step_order():
    config = MiniRecipeConfig.from_yaml(Path(__file__).parents[1] / "configs" / "recipe-mini.yaml")
    names = [s.name for s in MiniRecipe(config, "out").steps()]
    assert names == ["data", "teacher", "whisperpro", "featurize", "distill", "slm-stage1", "slm-hearing",
                     "slm-stage2", "slm-gate", "export", "eval"]
    background = {s.name: s.background_until for s in MiniRecipe(config, "out").steps() if s.background_until}
    assert background == {"teacher": "distill"}  # it trains alongside the speech side, until its first user
    for stage in (config.teacher, config.whisperpro, config.slm_stage1, config.slm_hearing, config.slm_stage2,
                  config.slm_gate):
        assert (Path(__file__).parents[1] / stage.config).is_file()


def test_qwen_recipe_hears_through_the_default_whisperpro(tmp_path):
    """recipe-mini-qwen.yaml changes only the LLM: whisperpro.use trains nothing and featurize reads the embedded
    default's WhisperPro; a `use` that holds no WhisperPro fails at once, naming the path."""
    from textpro.errors import ConfigError
    from textpro.pipeline import DEFAULT_MODEL_DIR

    config = MiniRecipeConfig.from_yaml(Path(__file__).parents[1] / "configs" / "recipe-mini-qwen.yaml")
    assert config.teacher.overrides["model"] == "qwen2.5-coder-0.5b-instruct"
    recipe = MiniRecipe(config, tmp_path)
    assert recipe.whisperpro == DEFAULT_MODEL_DIR / "whisperpro"
    ctx = RecordingContext(tmp_path)
    steps = {step.name: step for step in recipe.steps()}
    steps["whisperpro"].run(ctx)
    assert ctx.calls == []
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(json.dumps({"id": "a", "task": "gender", "audio": "a.flac"}) + "\n")
    steps["featurize"].run(ctx)
    assert ctx.calls[0][ctx.calls[0].index("--whisperpro") + 1] == str(DEFAULT_MODEL_DIR / "whisperpro")
    steps["distill"].run(ctx)  # the semantic answers in full, then the first 64 everyday requests
    semantic, request = ctx.calls[1:]
    assert "--limit" not in semantic and request[request.index("--task") + 1] == "request"
    assert request[request.index("--limit") + 1] == "64" and request[request.index("--max-new-tokens") + 1] == "96"
    config.whisperpro = MiniWhisperProSettings(config.whisperpro.config, use=str(tmp_path))
    with pytest.raises(ConfigError, match="holds no WhisperPro"):
        MiniRecipe(config, tmp_path)


class RecordingContext(StepContext):
    """Runs nothing: records each `textpro` command's arguments."""

    def __init__(self, out: Path):
        super().__init__(out, out / "step.log", {})
        self.calls: list[list[str]] = []

    def textpro(self, *args) -> None:
        self.calls.append([str(a) for a in args])


@pytest.mark.parametrize("hearing", [True, False])
def test_stage2_continues_the_hearing_phase_when_there_is_one(tmp_path, hearing):
    config = MiniRecipeConfig.from_yaml(Path(__file__).parents[1] / "configs" / "recipe-mini.yaml")
    if not hearing:
        config.slm_hearing = None
    recipe = MiniRecipe(config, tmp_path)
    ctx = RecordingContext(tmp_path)
    for step in recipe.steps():
        if step.name.startswith("slm-"):
            step.run(ctx)
    stages = [yaml.safe_load(Path(call[call.index("--config") + 1]).read_text()) for call in ctx.calls]
    names = ("slm-stage1", *(["slm-hearing"] if hearing else []), "slm-stage2", "slm-gate")
    assert [s["train"]["output_dir"] for s in stages] == [str(tmp_path / name) for name in names]
    assert stages[-2]["init_from"] == str(tmp_path / ("slm-hearing" if hearing else "slm-stage1") / "model")
    # stage 2 fits the adapter's gate before its first step (sessions 40-41); the last phase keeps stage 2's adapter
    # and gate (only the projector trains)
    gate = stages[-1]
    assert stages[-2]["adapter_gate_layer"] == 15
    assert gate["init_from"] == str(tmp_path / "slm-stage2" / "model") and gate["freeze_adapter"] is True
    assert gate["adapter_gate_layer"] == 15 and gate["train"]["max_steps"] == config.slm_gate.max_steps
    assert gate["distill"] == stages[-2]["distill"] and gate["features"] == stages[-2]["features"]
    if hearing:  # paralinguistic rows only, from stage 1, the recipe's size; stage 2 keeps its adapter's modules
        assert stages[1]["init_from"] == str(tmp_path / "slm-stage1" / "model")
        assert stages[1]["distill"] is None and stages[1]["train"]["max_steps"] == config.slm_hearing.max_steps
        assert stages[1]["lora_settings"]["target_modules"] == stages[2]["lora_settings"]["target_modules"]


def test_stage_config_fills_paths_and_sizes(tmp_path):
    base = tmp_path / "stage.yaml"
    base.write_text(yaml.safe_dump({"model": "m", "train_manifest": "x", "train": {"max_steps": 200, "seed": 3}}))
    data = stage_config(StageSettings(str(base), max_steps=7, overrides={"model": "n"}),
                        {"train_manifest": "out/data/train.jsonl"}, tmp_path / "run")
    assert data == {"model": "n", "train_manifest": "out/data/train.jsonl",
                    "train": {"max_steps": 7, "seed": 3, "output_dir": str(tmp_path / "run")}}


@pytest.mark.slow
def test_mini_recipe_data_and_teacher_steps_at_tiny_scale(tmp_path, capsys):
    """The first two real steps, seconds-long: a 0.005 h benchmark, then 2 teacher steps on a tiny random LLM."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from textpro.hub import resolve_model

    llm_dir = tmp_path / "tiny-llm"
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m-instruct"))
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                 num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                 tie_word_embeddings=True)).save_pretrained(llm_dir)
    tokenizer.save_pretrained(llm_dir)

    config = MiniRecipeConfig()
    config.data.hours = 0.005
    config.data.workers = 1
    config.teacher = StageSettings("configs/teacher-mini.yaml", max_steps=2, overrides={
        "model": str(llm_dir), "generated_questions": 4, "trainable_layers": None,
        "train": {"batch_size": 2, "micro_batch_size": 2, "warmup_steps": 0, "log_every": 1, "save_every": 1}})
    out = tmp_path / "mini"
    recipe = MiniRecipe(config, out)
    steps = [s for s in recipe.steps() if s.name in ("data", "teacher")]
    summary = run_steps(steps, out, echo=quiet)
    assert [r["status"] for r in summary["steps"]] == ["done", "done"]
    teacher = out / "teacher" / "model"  # a LoRA adapter (the shipped config), usable wherever a model dir is
    assert (out / "data" / "test.jsonl").is_file() and (teacher / "adapter_model.safetensors").is_file()
    assert json.loads((teacher / "adapter_config.json").read_text())["base_model_name_or_path"] == str(llm_dir)
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(resolve_model(teacher)).config.hidden_size == 32
    written = yaml.safe_load((out / "configs" / "teacher.yaml").read_text())
    assert written["train_file"] == str(out / "data" / "train.jsonl") and written["train"]["max_steps"] == 2

    # The data step keeps a complete benchmark made with the same seed and size (a rerun after --from).
    run_steps(steps, out, start="data", until="data", echo=quiet)
    assert "already holds the benchmark" in (out / "logs" / "data.log").read_text()


def test_wer_references_subset_is_evenly_spaced(tmp_path):
    from textpro.recipe.wer import read_references

    (tmp_path / "dev.jsonl").write_text("".join(json.dumps({"audio": f"a/{i}.flac", "text": f"t{i}"}) + "\n"
                                                for i in range(10)))
    assert [t for _, t, _ in read_references(tmp_path, "dev", limit=5)] == ["t0", "t2", "t4", "t6", "t8"]
    assert len(read_references(tmp_path, "dev")) == 10
    assert read_references(tmp_path, "dev")[3][0] == tmp_path / "a" / "3.flac"
    with pytest.raises(Exception, match="no benchmark split"):
        read_references(tmp_path, "test")


def test_featurize_subset_keeps_a_share_of_every_task(tmp_path):
    from textpro.recipe.stages import subset_manifest

    manifest = tmp_path / "data" / "train.jsonl"
    manifest.parent.mkdir()
    manifest.write_text("".join(json.dumps({"id": f"{t}{i}", "task": t, "audio": f"audio/{t}{i}.flac"}) + "\n"
                                for t, n in (("semantic", 4), ("gender", 10)) for i in range(n)))
    assert subset_manifest(manifest, tmp_path / "x.jsonl", 1.0) == manifest
    subset = subset_manifest(manifest, tmp_path / "features" / "m.jsonl", 0.5)
    records = [json.loads(line) for line in subset.read_text().splitlines()]
    assert [r["id"] for r in records] == ["semantic0", "semantic2", "gender0", "gender2", "gender4", "gender6",
                                          "gender8"]
    assert records[0]["audio"] == str((manifest.parent / "audio" / "semantic0.flac").resolve())


@pytest.mark.parametrize("gate", [True, False])
def test_export_packs_the_gated_phase_when_there_is_one(tmp_path, monkeypatch, gate):
    import textpro.recipe.export as export

    config = MiniRecipeConfig.from_yaml(Path(__file__).parents[1] / "configs" / "recipe-mini.yaml")
    if not gate:
        config.slm_gate = None
    packed = []
    monkeypatch.setattr(export, "export_default", lambda slm, *rest: packed.append(slm))
    monkeypatch.setattr(export, "directory_megabytes", lambda directory: 0.0)
    recipe = MiniRecipe(config, tmp_path)
    steps = {step.name: step for step in recipe.steps()}
    assert ("slm-gate" in steps) == gate
    steps["export"].run(RecordingContext(tmp_path))
    assert packed == [tmp_path / ("slm-gate" if gate else "slm-stage2") / "model"]
