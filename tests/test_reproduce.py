"""`textpro recipe reproduce`: step list and per-system data, dataset answers (w/o KD), the shared text-side cache,
per-kind gap scoring, the results tables; every system's steps through the real runner with the commands faked (the
dry run below); and (slow) the recipe at toy scale on real models, with one system of each kind of model."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from tests.test_recipe import RecordingContext
from textpro.errors import ConfigError
from textpro.eval.comparison import (
    benchmarks_section,
    replace_section,
    results_chart,
    results_markdown,
    semantic_by_kind,
)
from textpro.recipe.config import ReproduceConfig
from textpro.recipe.measure import dataset_answers, seed_text_responses
from textpro.recipe.reproduce import Reproduce
from textpro.recipe.timing import run_timing

REPO = Path(__file__).resolve().parents[1]


def test_steps_and_system_data(tmp_path):
    recipe = Reproduce(ReproduceConfig.from_yaml(REPO / "configs" / "reproduce-tiny.yaml"), tmp_path / "out",
                       tmp_path / "mini")
    steps = recipe.steps()
    names = [s.name for s in steps]
    assert names[0] == "mini-data" and names[-3:] == ["probe", "efficiency", "tables"]
    # w/o Recon's speech side needs only the data (beside the mini recipe); its distillation needs the teacher
    assert names.index("featurize-norecon") < names.index("mini") < names.index("distill-norecon")
    lanes = {s.name: s.background_until for s in steps}
    assert lanes["interleave-stage2"] == lanes["eval-no-para"] == "efficiency"  # the background lane
    assert lanes["adapter-stage1"] is None and lanes["eval-adapter"] is None  # the foreground lane
    # w/o KD starts from TextPro's stage 1 (stage 1 is the same for both), which the foreground waits for there
    assert "no-distill-stage1" not in names and recipe.stage1_dir("no-distill") == recipe.stage1_dir("textpro")
    assert lanes["textpro-stage1"] == lanes["textpro-stage2"] == "no-distill-stage2"
    assert lanes["eval-textpro"] == "efficiency"
    assert recipe.eval_splits() == ["test"]  # the mini recipe's (recipe-tiny.yaml), unless the config names some
    assert {"adapter-stage1", "adapter-stage2", "eval-cascade", "whisperpro-norecon"} <= set(names)
    assert "cascade-stage1" not in names
    features, distill, slm, extra = recipe.system_data("adapter")
    assert features == [recipe.encoder_features]
    assert slm == {"audio_input": "encoder_baseline", "acoustic_features": False, "projector_max_norm": None}
    # the peers' baseline: none of TextPro's robustness levers, and no KL term (no transcript for the text LLM)
    assert extra == {"branch_dropout": [0.0, 0.0], "kd_alpha": 0.0}
    assert recipe.system_data("no-distill")[1] == recipe.answers
    assert recipe.system_data("no-distill")[3] == {"kd_alpha": 0.0}  # no teacher, not even in a KL term
    assert recipe.system_data("no-para")[3] == {"use_paralinguistic": False}
    assert recipe.system_data("interleave")[2] == {"injection": "interleave"}
    # the shipped config reuses the mini recipe's own TextPro-SLM instead of training it again
    shipped = Reproduce(ReproduceConfig.from_yaml(REPO / "configs" / "reproduce-mini.yaml"), tmp_path, tmp_path / "m")
    assert "textpro-stage1" not in [s.name for s in shipped.steps()]
    assert shipped.stage1_dir("no-distill") == shipped.mini.stage1
    assert {s.name: s.background_until for s in shipped.steps()}["mini-slm"] == "no-distill-stage2"
    assert shipped.model_dir("textpro") == shipped.mini.stage2
    assert shipped.eval_splits() == ["test"]
    with pytest.raises(ConfigError, match="unknown system"):
        ReproduceConfig(systems=["textpro", "omni"])


@pytest.mark.parametrize("hearing_phase", [True, False])
def test_stage2_of_each_system_continues_its_own_hearing_phase(tmp_path, hearing_phase):
    """As the mini recipe: paralinguistic rows first (not for w/o para, which has none), then stage 2 from there."""
    config = ReproduceConfig.from_yaml(REPO / "configs" / "reproduce-mini.yaml")
    config.hearing_phase = hearing_phase
    recipe = Reproduce(config, tmp_path / "out", tmp_path / "mini")
    for system in ("adapter", "no-para"):
        ctx = RecordingContext(tmp_path / system)
        recipe.train_stage(ctx, system, 2)
        stages = [yaml.safe_load(Path(call[call.index("--config") + 1]).read_text()) for call in ctx.calls]
        hears = hearing_phase and system != "no-para"
        assert [s["train"]["output_dir"] for s in stages] == [
            str(tmp_path / "out" / system / name) for name in (*(["hearing"] if hears else []), "stage2")]
        assert stages[0]["init_from"] == str(recipe.stage1_dir(system))
        if hears:
            assert stages[1]["init_from"] == str(tmp_path / "out" / system / "hearing" / "model")
            assert stages[0]["features"] == stages[1]["features"] == [str(recipe.encoder_features)]
            assert stages[0]["kd_alpha"] == stages[1]["kd_alpha"] == 0.0  # the system's overrides reach both phases
        assert stages[-1]["distill"] == str(recipe.system_data(system)[1])


def test_dataset_answers_use_the_teachers_format():
    store = SimpleNamespace(index=[
        {"id": "q1", "text": "two plus two", "manifest": {"task": "semantic", "reference": "B", "answer_text": "four"}},
        {"id": "g1", "text": "hello", "manifest": {"task": "gender", "reference": "male"}},
    ])
    assert dataset_answers(store) == [{"id": "q1", "source": "dataset", "question": "two plus two",
                                       "response": "B. four"}]


def write_eval(eval_root: Path, system: str, split: str, rows: list[dict], speech_system: str) -> Path:
    directory = eval_root / system / split
    directory.mkdir(parents=True)
    (directory / "responses.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (directory / "results.json").write_text(json.dumps({"text_system": "teacher", "speech_system": speech_system,
                                                        "seed": 0}))
    return directory


def test_text_answers_are_shared_between_systems(tmp_path):
    text = {"side": "text", "system": "teacher", "id": "q", "task": "semantic", "fingerprint": "f", "response": "A"}
    speech = {**text, "side": "speech", "system": "slm"}
    write_eval(tmp_path, "textpro", "test", [text, speech], "slm")
    assert seed_text_responses(tmp_path, "test", tmp_path / "adapter" / "test") == 1
    copied = [json.loads(line) for line in (tmp_path / "adapter" / "test" / "responses.jsonl").read_text().splitlines()]
    assert copied == [text]
    assert seed_text_responses(tmp_path, "test", tmp_path / "adapter" / "test") == 0  # never over an existing cache


def test_semantic_by_kind_scores_each_question_kind(tmp_path):
    from textpro.eval.bench import load_bench
    from textpro.eval.harness import _fingerprint

    bench = tmp_path / "bench"
    bench.mkdir()
    records = [{"id": f"q{i}", "task": "semantic", "kind": kind, "audio": f"q{i}.flac", "reference": "A",
                "prompt": "Which?\nA. one\nB. two"} for i, kind in enumerate(["fact", "fact", "arithmetic"])]
    (bench / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    items = {i.id: i for i in load_bench(bench, "test")}
    rows = []
    for item_id, text, speech in [("q0", "A", "A"), ("q1", "A", "B"), ("q2", "A", "B")]:
        for side, system, answer in (("text", "teacher", text), ("speech", "slm", speech)):
            rows.append({"side": side, "system": system, "id": item_id, "task": "semantic",
                         "fingerprint": _fingerprint(items[item_id], side), "response": answer})
    eval_dir = write_eval(tmp_path / "eval", "textpro", "test", rows, "slm")
    table = semantic_by_kind(bench, "test", eval_dir)
    assert table == {"arithmetic": {"n": 1, "text": 100.0, "speech": 0.0, "gap": 100.0},
                     "fact": {"n": 2, "text": 100.0, "speech": 50.0, "gap": 50.0}}


def toy_results(text: float = 100.0) -> dict:
    by_kind = {"fact": {"n": 2, "text": text, "speech": 50.0, "gap": text - 50.0}}
    entry = lambda label, para: {"label": label, "training_audio_hours": 0.5,  # noqa: E731
                                 "test": {"average": {"gap": 10.0, "paralinguistic_accuracy": para},
                                          "paralinguistic_chance": 40.0,
                                          "paralinguistic": {"gender": para}, "semantic_by_kind": by_kind}}
    return {"mini_dir": "runs/mini", "splits": ["test"], "probe": None,
            "systems": {"textpro": entry("TextPro-SLM (global)", 90.0), "adapter": entry("Adapter", 60.0)},
            "efficiency": {"textpro": {"positions_per_second": 5.0, "latency_seconds": 1.0},
                           "adapter": {"positions_per_second": 25.0, "latency_seconds": 0.5}},
            "timing": {"wall_seconds": 7200.0, "step_seconds": 12000.0, "steps": 30, "cores": 2}}


def test_benchmarks_section_is_replaced_in_place_and_the_chart_is_drawn(tmp_path):
    document = "# Benchmarks\n\n## Serving\n\ntext\n"
    first = replace_section(document, benchmarks_section(toy_results(100.0), "reproduce.png"))
    assert first.startswith(document.rstrip("\n")) and "120 min wall clock" in first
    assert "### Modality gap" in first and "| Text LLM, text input | 100.0 |" in first
    second = replace_section(first + "\n## After\n", benchmarks_section(toy_results(80.0), "reproduce.png"))
    assert second.count("make reproduce: begin") == 1 and "| Text LLM, text input | 80.0 |" in second
    assert "| Text LLM, text input | 100.0 |" not in second and second.rstrip().endswith("## After")
    chart = results_chart(toy_results(), tmp_path / "chart.png")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_timing_is_the_wall_clock_of_overlapping_steps(tmp_path):
    done = tmp_path / "done"
    done.mkdir()
    for name, seconds, finished in [("a", 600.0, "2026-11-25 10:10:00"), ("b", 300.0, "2026-11-25 10:08:00"),
                                    ("c", 120.0, "2026-11-25 10:12:00")]:  # b ran beside a
        (done / f"{name}.json").write_text(json.dumps({"step": name, "seconds": seconds, "finished": finished}))
    timing = run_timing([done, tmp_path / "missing"])
    assert timing["wall_seconds"] == 720.0 and timing["step_seconds"] == 1020.0 and timing["steps"] == 3
    assert list(timing["step_minutes"]) == ["b", "a", "c"]  # in the order they finished
    assert run_timing([done], skip=("c",))["step_seconds"] == 900.0


def test_report_updates_benchmarks_only_when_asked(tmp_path, capsys):
    """The recipe writes only under its --out; `textpro recipe report OUT --update-benchmarks FILE` is what rewrites
    make reproduce's section of FILE (and copies the chart and results.json to benchmarks/results/ beside it)."""
    from textpro.cli import main

    out, repo = tmp_path / "reproduce", tmp_path / "repo"
    out.mkdir()
    repo.mkdir()
    (out / "results.json").write_text(json.dumps(toy_results()))
    document = repo / "BENCHMARKS.md"
    document.write_text("# Benchmarks\n")
    assert main(["recipe", "report", str(out)]) == 0
    assert (out / "results.md").is_file() and (out / "results.png").is_file()
    assert document.read_text() == "# Benchmarks\n" and not (repo / "benchmarks").exists()
    assert main(["recipe", "report", str(out), "--update-benchmarks", str(document)]) == 0
    assert "| Text LLM, text input | 100.0 |" in document.read_text()
    assert json.loads((repo / "benchmarks" / "results" / "reproduce.json").read_text())["splits"] == ["test"]
    assert (repo / "benchmarks" / "results" / "reproduce.png").is_file()
    assert main(["recipe", "report", str(tmp_path / "missing")]) == 2  # no results.json: one line, not a traceback


def test_ablations_are_yaml_overlays(tmp_path, capsys):
    from textpro.recipe.ablations import load_ablation

    shipped = REPO / "configs" / "ablations"
    adapter = load_ablation(shipped, "adapter")
    assert (adapter.label, adapter.features, adapter.distill) == ("Continuous adapter (25 Hz)", "encoder", "mini")
    assert not load_ablation(shipped, "cascade").trained
    assert load_ablation(shipped, "no-distill").stage1_like_textpro and not adapter.stage1_like_textpro
    (tmp_path / "louder.yaml").write_text("slm: {injection: interleave}\nfeature: mini\n")
    with pytest.raises(ConfigError, match="unknown key 'feature'"):
        load_ablation(tmp_path, "louder")
    (tmp_path / "louder.yaml").write_text("features: mel\n")
    with pytest.raises(ConfigError, match="features"):
        load_ablation(tmp_path, "louder")
    (tmp_path / "louder.yaml").write_text("slm: {injection: interleave}\n")
    config = ReproduceConfig(systems=["louder"], ablations=str(tmp_path))  # a new ablation is a new file
    recipe = Reproduce(config, tmp_path / "out", tmp_path / "mini")
    assert recipe.system_data("louder")[2] == {"injection": "interleave"}
    assert "louder-stage1" in [s.name for s in recipe.steps()]
    ReproduceConfig(benchmarks_md="BENCHMARKS.md")  # the old key: still read, ignored with a message
    assert "deprecated" in capsys.readouterr().err


def test_results_markdown_tables_and_ratios_to_the_adapter():
    by_kind = {"fact": {"n": 2, "text": 100.0, "speech": 50.0, "gap": 50.0}}
    entry = lambda label, para: {"label": label, "training_audio_hours": 0.5,  # noqa: E731
                                 "test": {"average": {"gap": 10.0, "paralinguistic_accuracy": para},
                                          "paralinguistic": {"gender": para}, "semantic_by_kind": by_kind}}
    results = {"mini_dir": "runs/mini", "splits": ["test"], "probe": None,
               "systems": {"textpro": entry("TextPro-SLM (global)", 90.0), "adapter": entry("Adapter", 60.0)},
               "efficiency": {"textpro": {"positions_per_second": 5.0, "latency_seconds": 1.0},
                              "adapter": {"positions_per_second": 25.0, "latency_seconds": 0.5}}}
    md = results_markdown(results)
    assert "| TextPro-SLM (global) | 50.0 (50.0) | **50.0** | 10.0 |" in md
    assert "| Text LLM, text input | 100.0 |" in md
    assert "| TextPro-SLM (global) | 90.0 | **90.0** |" in md
    assert "| TextPro-SLM (global) | 5.0 | 5.0 | 1.00 | 2.00 | 0.50 |" in md  # 5x fewer positions, 2x the latency


# ---- the dry run: every system's steps through the real runner, each command parsed and checked, not run ----------
# A command line is parsed by the real CLI parser; a training's config is read by the real `textpro train` handler
# (only the training itself is replaced); every other command checks that its inputs exist (so a step that runs
# before the step that writes them fails) and writes stand-ins for its outputs: feature caches whose index the real
# readers read (the w/o KD answers, the distillation targets, the paralinguistic labels). The background lane runs
# each of its steps either as soon as it is queued or only once the runner waits for it (the earliest and the latest
# the runner allows): a step that reads another lane's output without waiting for it fails in one of the two.

RECORDS = [  # make-mini's fields that the steps downstream read
    {"id": "q1", "task": "semantic", "audio": "audio/q1.flac", "text": "what is two plus two", "reference": "B",
     "answer_text": "four", "prompt": "What is two plus two?\nA. three\nB. four\nC. five\nD. six",
     "gender": "female", "accent": "american", "duration": 2.0},
    {"id": "g1", "task": "gender", "audio": "audio/g1.flac", "text": "the weather is fine", "reference": "male",
     "gender": "male", "accent": "american", "duration": 1.5},
]


def must(path) -> Path:
    path = Path(path)
    assert path.exists(), f"{path} is read before any step wrote it"
    return path


def produce(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class Lane:
    """The runner's background worker, without a thread: a queued step runs at once (eager) or when the runner asks
    for its result (lazy), after the steps queued before it, as on the one worker."""

    def __init__(self, eager: bool):
        self.eager, self.queue = eager, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        task = Task(self, lambda: fn(*args))
        self.queue.append(task)
        if self.eager:
            task.result_or_error()
        return task


class Task:
    def __init__(self, lane: Lane, run):
        self.lane, self.run, self.finished, self.cancelled, self.error = lane, run, False, False, None

    def done(self) -> bool:
        return self.finished

    def cancel(self) -> bool:
        self.cancelled = not self.finished
        return self.cancelled

    def result_or_error(self) -> None:
        for task in self.lane.queue[:self.lane.queue.index(self) + 1]:
            if not (task.finished or task.cancelled):
                try:
                    task.run()
                except BaseException as exc:  # kept for the runner's wait, as a Future keeps it
                    task.error = exc
                task.finished = True

    def result(self):
        self.result_or_error()
        if self.error is not None:
            raise self.error


class DryRun:
    """Patches the step context, the trainers' last call and the efficiency measurement; records what would run."""

    def __init__(self, monkeypatch, eager: bool = False):
        from textpro import cli, console
        from textpro.eval import probe
        from textpro.recipe import reproduce, runner
        from textpro.recipe.runner import StepContext

        self.commands: list[list[str]] = []  # every `textpro …` and `python -m …` command line, in order
        self.trained: dict[str, tuple[str, object]] = {}  # output_dir -> (kind, the config as the CLI read it)
        self.evals: dict[str, str] = {}  # --out -> the model (or --cascade WhisperPro) evaluated
        self.measured: list[str] = []
        self.probed: list[str] = []
        dry = self

        def textpro(ctx, *args):
            dry.run(ctx, [str(a) for a in args])

        def command(ctx, *argv):
            argv = [str(a) for a in argv]
            dry.commands.append(argv)
            assert argv[1:3] == ["-m", "textpro.eval.probe"], f"unexpected command {argv}"
            assert probe.main(argv[3:]) == 0  # its real parser, then dry.probe

        monkeypatch.setattr(StepContext, "textpro", textpro)
        monkeypatch.setattr(StepContext, "command", command)
        monkeypatch.setattr(cli, "_train_kind", self.train)
        monkeypatch.setattr(probe, "run_cli", self.probe)
        monkeypatch.setattr(reproduce, "measure_efficiency", self.efficiency)
        monkeypatch.setattr(console, "quiet_libraries", lambda: None)  # nothing is loaded here
        monkeypatch.setattr(runner, "ThreadPoolExecutor", lambda max_workers: Lane(eager))  # one per run_steps

    def run(self, ctx, argv: list[str]) -> None:
        from textpro.cli import build_parser
        from textpro.recipe.runner import RecipeError

        self.commands.append(argv)
        ctx.log("$ textpro " + " ".join(argv))
        args = build_parser().parse_args(argv)  # a flag the CLI does not know fails here (SystemExit)
        if argv[0] in ("recipe", "train"):  # the nested mini recipe (faked the same way); the real config loading
            code = args.run(args)
        else:
            code = {"data": self.make_mini, "featurize": self.featurize, "distill": self.distill,
                    "eval": self.eval}[argv[0]](args)
        if code != 0:
            raise RecipeError(f"`textpro {' '.join(argv[:3])} …` exited with status {code}")

    def make_mini(self, args) -> int:
        out = produce(Path(args.out))
        for split in ("train", "dev", "test", "test_robust"):
            (out / f"{split}.jsonl").write_text("".join(json.dumps({**r, "split": split}) + "\n" for r in RECORDS))
        return 0

    def featurize(self, args) -> int:
        manifest = must(args.manifest)
        must(args.whisperpro)
        records = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
        out = produce(Path(args.out))
        (out / "featurize.json").write_text(json.dumps({
            "whisperpro": args.whisperpro, "d_whisper": 4, "shard_size": 256, "num_records": len(records),
            **({"kind": "encoder"} if args.encoder_only else {})}))
        (out / "index.jsonl").write_text("".join(json.dumps(
            {"id": r["id"], "text": r["text"], "duration": r["duration"], "manifest": r}) + "\n" for r in records))
        return 0

    def distill(self, args) -> int:
        from textpro.slm.featurize import FeatureStore

        store = FeatureStore(must(args.features))
        must(args.teacher)
        rows = [{"id": e["id"], "source": args.source, "question": e["text"], "response": "B. four"}
                for e in store.index if args.task is None or e["manifest"]["task"] == args.task]
        produce(Path(args.out).parent)
        with open(args.out, "a") as f:
            f.write("".join(json.dumps(r) + "\n" for r in rows))
        return 0

    def train(self, config, run, args, what) -> int:
        """`textpro train KIND`'s last call, with the config its real handler read: check its inputs, write the
        model directory."""
        if args.kind == "slm":
            from textpro.slm.featurize import FeatureStore
            from textpro.slm.tasks import distillation_examples, paralinguistic_examples

            stores = [FeatureStore(must(f)) for f in config.features]
            must(config.init_from or config.slm.base_llm)
            distilled = distillation_examples(stores, must(config.distill)) if config.distill else []
            para = paralinguistic_examples(stores, config.paralinguistic) if config.use_paralinguistic else []
            assert distilled or para, f"{config.train.output_dir}: no training examples"
        else:
            must(config.train_manifest if args.kind == "whisperpro" else config.train_file)
        self.trained[config.train.output_dir] = (args.kind, config)
        produce(Path(config.train.output_dir) / "model")
        return 0

    def eval(self, args) -> int:
        must(args.bench)
        must(args.text_model)
        self.evals[args.out] = str(must(args.model or args.cascade))
        produce(Path(args.out))
        return 0

    def probe(self, args) -> int:
        must(args.bench)
        self.probed = args.models  # the vanilla Whisper (a name), then trained ones
        for model in args.models[1:]:
            must(model)
        produce(Path(args.out))
        return 0

    def efficiency(self, recipe, system, settings) -> dict:
        if recipe.ablations[system].trained:
            must(recipe.model_dir(system))
        else:
            must(recipe.mini.whisperpro)
            must(recipe.mini.teacher)
        self.measured.append(system)
        return {"positions_per_second": 1.0, "latency_seconds": 1.0}


@pytest.mark.parametrize("eager", [False, True], ids=["background-late", "background-early"])
@pytest.mark.parametrize("config_name", ["reproduce-tiny.yaml", "reproduce-mini.yaml"])
def test_every_system_runs_in_order_on_what_earlier_steps_wrote(tmp_path, monkeypatch, config_name, eager):
    """The dry run of every system up to the efficiency step (the tables have their own tests): each command parses,
    each training config loads and finds its features, targets, starting model and examples, each eval its model."""
    from textpro.recipe.reproduce import run_reproduce

    dry = DryRun(monkeypatch, eager)
    config_file = REPO / "configs" / config_name
    out = tmp_path / "out"
    summary = run_reproduce(str(config_file), str(out), str(tmp_path / "mini"), until="efficiency")
    recipe = Reproduce(ReproduceConfig.from_yaml(config_file), out, tmp_path / "mini")
    assert [r["step"] for r in summary["steps"] if r["status"] == "done"] == \
        [s.name for s in recipe.steps()][:-1]  # every step but the tables
    systems = recipe.config.systems
    assert set(systems) == {"textpro", "interleave", "adapter", "no-recon", "no-distill", "no-para", "cascade"}

    # every system is evaluated, on its own trained model (the cascade: WhisperPro -> the text LLM)
    assert dry.evals == {str(out / "eval" / s / "test"): str(recipe.model_dir(s) if s != "cascade"
                                                              else recipe.mini.whisperpro) for s in systems}
    # every trained system's stages, each from the one before (its stage 1, or TextPro's for w/o KD)
    slm = {str(Path(d).relative_to(out)): config for d, (kind, config) in dry.trained.items()
           if kind == "slm" and Path(d).is_relative_to(out)}
    phases = {s: ["stage1", *(["hearing"] if recipe.config.hearing_phase and s != "no-para" else []), "stage2"]
              for s in systems if s != "cascade" and not (s == "textpro" and recipe.config.reuse_mini_textpro)}
    phases["no-distill"].remove("stage1")
    assert set(slm) == {f"{s}/{phase}" for s, names in phases.items() for phase in names}
    for system, names in phases.items():
        features, distill, _, _ = recipe.system_data(system)
        start = recipe.stage1_dir(system)
        for phase in names:
            config = slm[f"{system}/{phase}"]
            assert config.features == [str(f) for f in features]
            if phase == "stage1":
                assert config.stage == 1 and Path(config.train.output_dir) / "model" == start
            else:
                assert config.stage == 2 and config.init_from == str(start)
                start = Path(config.train.output_dir) / "model"
        assert slm[f"{system}/stage2"].distill == str(distill)
    # the overlays reach the configs the trainer reads
    assert slm["adapter/stage1"].slm.audio_input == "encoder_baseline" and slm["adapter/stage2"].kd_alpha == 0.0
    assert slm["interleave/stage1"].slm.injection == "interleave"
    assert slm["no-distill/stage2"].kd_alpha == 0.0
    assert not slm["no-para/stage1"].use_paralinguistic and not slm["no-para/stage2"].use_paralinguistic
    assert slm["no-para/stage1"].distill  # with no paralinguistic rows, its stage 1 learns the teacher's answers
    # w/o Recon: WhisperPro trained without the reconstructor (the CLI flag), its own features and targets, probed
    norecon = dry.trained[str(recipe.norecon_whisperpro.parent)][1]
    assert norecon.reconstruction_weight == 0.0 and not norecon.use_reconstructor
    assert dry.trained[str(recipe.mini.whisperpro.parent)][1].use_reconstructor
    assert dry.probed == [recipe.config.probe.vanilla, str(recipe.mini.whisperpro), str(recipe.norecon_whisperpro)]
    assert dry.measured == ["textpro", "interleave", "adapter", "cascade"]
    answers = [json.loads(line) for line in recipe.answers.read_text().splitlines()]
    assert answers == [{"id": "q1", "source": "dataset", "question": "what is two plus two", "response": "B. four"}]


@pytest.mark.slow
def test_reproduce_at_toy_scale(tmp_path):
    """The recipe on real tiny.en + SmolLM2 at toy scale (configs/reproduce-tiny.yaml: 2 steps per stage) with one
    system of each kind of model: TextPro-SLM (global, in the background lane), the continuous adapter (encoder-only
    features, its own model kind, in the foreground lane) and the cascade (no SLM). The other overlays are the same
    steps with other settings and inputs, which the dry run above checks for every system. Every step runs, and
    results.md holds every table (probes, efficiency too) with a row for each system."""
    from textpro.recipe.reproduce import run_reproduce

    systems = ["textpro", "adapter", "cascade"]
    config = yaml.safe_load((REPO / "configs" / "reproduce-tiny.yaml").read_text())
    config["systems"] = systems
    config_file = tmp_path / "reproduce.yaml"
    config_file.write_text(yaml.safe_dump(config))
    summary = run_reproduce(str(config_file), str(tmp_path / "out"), str(tmp_path / "mini"))
    assert all(r["status"] == "done" for r in summary["steps"])
    md = (tmp_path / "out" / "results.md").read_text()
    for heading in ("Modality gap", "Paralinguistic accuracy", "Probes on utterance vectors", "Efficiency"):
        assert heading in md
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(results["systems"]) == set(systems)
    for system, entry in results["systems"].items():
        assert "test" in entry, f"{system}: no eval results collected"
        assert f"| {entry['label']} |" in md  # its row in the tables
    efficiency = results["efficiency"]
    assert efficiency["adapter"]["positions_per_second"] > efficiency["textpro"]["positions_per_second"]
