"""The probe table (the paper's Table 2): how much of each paralinguistic label a Whisper's utterance vectors hold.

    python -m textpro.eval.probe --bench runs/mini/data --model whisper-tiny.en --model runs/mini/whisperpro/model \
        --out runs/reproduce/probe

Per clip, the utterance vector is what TextPro-SLM reads in global mode: the mean over transcript tokens of the
prosody layer's decoder states (`SpeechTokens.utterance`, the same layer for vanilla Whisper and WhisperPro). On the
train split's clips of each task, two probes are fitted on standardized vectors and scored on the test split (whose
voices they never heard):

    1-layer   softmax regression (textpro.data.probe.LinearProbe, the make-mini --check probe)
    2-layer   MLP: Linear(d -> 256) -> ReLU -> Linear(256 -> classes), Adam, full batch, fixed steps, seeded

Vectors are cached per model and split in OUT/vectors/ (safetensors + the record ids), so a rerun only fits probes.
Writes OUT/probe.json and OUT/probe.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textpro.errors import ConfigError

DEFAULT_TASKS = ("gender", "pitch", "rate", "style")  # the labels of the reproduction's Table-2-like table
PROBES = ("1-layer", "2-layer")


# ---- data -------------------------------------------------------------------------------------------------------

def select_records(bench: str | Path, split: str, tasks, limit_per_task: int | None) -> list[dict]:
    """The split's records of the given tasks; with a limit, that many per task, evenly spaced (every voice range
    stays represented)."""
    from textpro.data.mini import read_split

    chosen = []
    records = read_split(bench, split)
    for task in tasks:
        of_task = [r for r in records if r.get("task") == task]
        if limit_per_task is not None and len(of_task) > limit_per_task:
            of_task = [of_task[i * len(of_task) // limit_per_task] for i in range(limit_per_task)]
        chosen += of_task
    if not chosen:
        raise ConfigError(f"{bench}: split {split!r} has no records of the tasks {', '.join(tasks)}")
    return chosen


def model_tag(name: str | Path) -> str:
    """A file-name-safe tag for a model name or directory (its last two path parts + a hash of the full path)."""
    path = Path(name)
    full = str(path.resolve()) if path.exists() else str(name)
    short = "-".join(path.parts[-2:]) if path.exists() else str(name)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", short) + "-" + hashlib.sha1(full.encode()).hexdigest()[:8]


def utterance_vectors(transcriber, records: list[dict], bench: str | Path, cache: Path | None = None,
                      batch_size: int = 8, progress: bool = True) -> np.ndarray:
    """(n, d) utterance vectors of the records' clips; read from / written to `cache` (.safetensors) when given."""
    from safetensors.numpy import load_file, save_file
    from tqdm.auto import tqdm

    ids = [str(r["id"]) for r in records]
    if cache is not None and cache.is_file():
        stored = json.loads(cache.with_suffix(".json").read_text())
        if stored == ids:
            return load_file(cache)["vectors"]
    vectors = []
    for first in tqdm(range(0, len(records), batch_size), desc="probe vectors", disable=not progress, leave=False):
        batch = records[first:first + batch_size]
        heard = transcriber.transcribe([str(Path(bench) / r["audio"]) for r in batch], max_seconds=None)
        vectors += [s.utterance for s in heard]
    vectors = np.stack(vectors).astype(np.float32)  # (n, d)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        save_file({"vectors": vectors}, cache)
        cache.with_suffix(".json").write_text(json.dumps(ids))  # written last: the pair is complete
    return vectors


# ---- probes -----------------------------------------------------------------------------------------------------

@dataclass
class MLPProbe:
    """2-layer MLP on standardized vectors: Linear(d, hidden) -> ReLU -> Linear(hidden, classes)."""

    hidden: int = 256
    steps: int = 300
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0

    def fit(self, x: np.ndarray, y: list[str]) -> MLPProbe:
        import torch

        self.classes = sorted(set(y))
        self.mean, self.std = x.mean(0), x.std(0) + 1e-9
        torch.manual_seed(self.seed)
        self.net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], self.hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(self.hidden, len(self.classes)))
        optimizer = torch.optim.Adam(self.net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        z = torch.from_numpy(((x - self.mean) / self.std).astype(np.float32))  # (n, d)
        target = torch.tensor([self.classes.index(label) for label in y])  # (n,)
        for _ in range(self.steps):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(self.net(z), target).backward()
            optimizer.step()
        return self

    def predict(self, x: np.ndarray) -> list[str]:
        import torch

        with torch.no_grad():
            logits = self.net(torch.from_numpy(((x - self.mean) / self.std).astype(np.float32)))
        return [self.classes[i] for i in logits.argmax(1).tolist()]


def make_probe(kind: str, seed: int = 0):
    from textpro.data.probe import LinearProbe

    if kind == "1-layer":
        return LinearProbe()
    if kind == "2-layer":
        return MLPProbe(seed=seed)
    raise ConfigError(f"unknown probe {kind!r}: use one of {', '.join(PROBES)}")


def probe_accuracy(train_x: np.ndarray, train_y: list[str], test_x: np.ndarray, test_y: list[str],
                   kind: str, seed: int = 0) -> float:
    """Test accuracy (%) of a probe of `kind` fitted on the train vectors."""
    predicted = make_probe(kind, seed).fit(train_x, train_y).predict(test_x)
    return 100.0 * float(np.mean(np.array(predicted) == np.array(test_y)))


# ---- the table --------------------------------------------------------------------------------------------------

def run_probes(bench: str | Path, models: list[str], out: str | Path | None = None, *, tasks=DEFAULT_TASKS,
               train_split: str = "train", test_split: str = "test", train_limit: int | None = 100,
               test_limit: int | None = None, seed: int = 0, progress: bool = True, transcribers=None) -> dict:
    """Accuracy % per model, probe and task (+ "average"), and chance per task. transcribers: already loaded
    Transcribers in the order of `models` (tests); otherwise each is loaded by name."""
    from textpro.data.paralinguistic import LABELS

    train = select_records(bench, train_split, tasks, train_limit)
    test = select_records(bench, test_split, tasks, test_limit)
    out = Path(out) if out is not None else None
    result: dict = {"bench": str(bench), "train_split": train_split, "test_split": test_split, "tasks": list(tasks),
                    "chance": {t: 100.0 / len(LABELS[t]) for t in tasks if t in LABELS},
                    "n_train": {t: sum(r["task"] == t for r in train) for t in tasks},
                    "n_test": {t: sum(r["task"] == t for r in test) for t in tasks}, "models": {}}
    for m, name in enumerate(models):
        if transcribers is not None:
            transcriber = transcribers[m]
        else:
            from textpro.whisperpro import Transcriber

            transcriber = Transcriber.from_pretrained(name)
        train_cache, test_cache = ((out / "vectors" / f"{model_tag(name)}-{split}.safetensors" if out else None)
                                   for split in (train_split, test_split))
        train_x = utterance_vectors(transcriber, train, bench, train_cache, progress=progress)  # (n_train, d)
        test_x = utterance_vectors(transcriber, test, bench, test_cache, progress=progress)  # (n_test, d)
        scores: dict = {}
        for kind in PROBES:
            per_task = {}
            for task in tasks:
                tr = [i for i, r in enumerate(train) if r["task"] == task]
                te = [i for i, r in enumerate(test) if r["task"] == task]
                train_y = [train[i]["reference"] for i in tr]
                if len(set(train_y)) < 2 or not te:
                    continue  # nothing to learn or nothing to score
                per_task[task] = probe_accuracy(train_x[tr], train_y, test_x[te], [test[i]["reference"] for i in te],
                                                kind, seed)
            per_task["average"] = float(np.mean(list(per_task.values()))) if per_task else float("nan")
            scores[kind] = per_task
        result["models"][str(name)] = {"layer": int(transcriber.model.config.prosody_layer),
                                       "d": int(transcriber.model.config.d_model), "probes": scores}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "probe.json").write_text(json.dumps(result, indent=2) + "\n")
        (out / "probe.md").write_text(markdown_table(result))
    return result


def _cell(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def markdown_table(result: dict, names: dict[str, str] | None = None) -> str:
    """One row per model and probe: test accuracy % per task and the average; a chance row first.
    names: display names of the models (default: the names as given)."""
    tasks = result["tasks"]
    lines = ["| Encoder | Probe | " + " | ".join(tasks) + " | Avg |", "|---|---|" + "---:|" * (len(tasks) + 1)]
    chance = [result["chance"].get(t) for t in tasks]
    lines.append("| chance | | " + " | ".join(_cell(c) for c in chance) + f" | {_cell(float(np.mean(chance)))} |")
    for model, entry in result["models"].items():
        shown = (names or {}).get(model, model)
        for kind, scores in entry["probes"].items():
            lines.append(f"| {shown} (layer {entry['layer']}) | {kind} | "
                         + " | ".join(_cell(scores.get(t)) for t in tasks) + f" | **{_cell(scores.get('average'))}** |")
    n = ", ".join(f"{t} {result['n_train'][t]}/{result['n_test'][t]}" for t in tasks)
    lines += ["", f"Test accuracy % of probes on utterance vectors (mean of the prosody layer's states over the "
              f"transcript tokens), fitted on `{result['train_split']}`, scored on `{result['test_split']}` "
              f"(train/test clips: {n}).", ""]
    return "\n".join(lines)


# ---- command line -----------------------------------------------------------------------------------------------

def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("probe", help="probe table: 1- and 2-layer probes on Whisper utterance vectors "
                                 "(vanilla vs WhisperPro) for paralinguistic labels", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(parser)
    parser.set_defaults(run=run_cli)
    return parser


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bench", required=True, help="make-mini benchmark directory ({train,test}.jsonl + audio)")
    parser.add_argument("--model", action="append", required=True, dest="models",
                        help="Whisper name or directory; repeat for each encoder (e.g. whisper-tiny.en and a "
                             "WhisperPro checkpoint)")
    parser.add_argument("--out", required=True, help="output directory (probe.json, probe.md, vectors/)")
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS), help="label tasks (default: "
                        + " ".join(DEFAULT_TASKS) + ")")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--test-split", default="test")
    parser.add_argument("--train-limit", type=int, default=100, help="train clips per task (default 100)")
    parser.add_argument("--test-limit", type=int, default=None, help="test clips per task (default all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_cli(args: argparse.Namespace) -> int:
    result = run_probes(args.bench, args.models, args.out, tasks=args.tasks, train_split=args.train_split,
                        test_split=args.test_split, train_limit=args.train_limit, test_limit=args.test_limit,
                        seed=args.seed, progress=not args.quiet)
    print(markdown_table(result))
    print(f"wrote {Path(args.out) / 'probe.json'} and {Path(args.out) / 'probe.md'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    import sys

    from textpro.errors import TextproError

    parser = argparse.ArgumentParser(prog="python -m textpro.eval.probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_cli(args)
    except TextproError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
