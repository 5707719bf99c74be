"""The modality-gap harness: ask both sides, extract answers the same way, score per task.

For every multiple-choice item the text responder (the original text LLM) answers the text prompt and the speech
responder answers the audio; one extractor scores both. Gap = text accuracy − speech accuracy, in points.
Paralinguistic items are asked to the speech side only (a text LLM cannot hear a voice); open-ended requests to both,
and the speech answer is compared with the text LLM's (ROUGE-L, length ratio). Pairs (spoken StoryCloze) are scored
by likelihood on every side (`pairs`) and then read as multiple choice between their two endings.

Diagnostics, for a speech responder that offers `answer_audio_variants` (the TextPro-SLM): the same model with its
prosody replaced by the training mean (prosody-neutral accuracy, agreement = share of identical answers) and the
cascade of its own transcript into the text LLM; beside agreement, the text LLM's own self-agreement under changes
of its text prompt that carry no content (a trailing space, a trailing newline, a leading space: how stable a greedy
answer is at all when the surface of the input moves, the reference agreement is read against). For every speech
system: the acoustic-rule baseline of each paralinguistic task (`rules`), answer histograms, balanced accuracy,
per-speaker and per-phrasing accuracy and a paired bootstrap of speech against cascade (`diagnostics`).

Responses go to a JSONL cache as soon as each batch is answered, keyed by (side, system, item id) and a
fingerprint of what was asked, so an interrupted run resumes without asking again, and a changed item is re-asked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from textpro.data.labels import match_label
from textpro.errors import ConfigError
from textpro.eval import diagnostics as diag
from textpro.eval import pairs
from textpro.eval.bench import LABEL, MCQ, OPEN, PAIR, Item
from textpro.eval.extract import extract_choice, seeded_fallback
from textpro.eval.responders import (
    AudioQuery,
    PairQuery,
    SpeechResponder,
    TextResponder,
    cascade_prompt,
    score_pair_turns,
)
from textpro.eval.results import EvalResult, OpenTask, ParalinguisticTask, SemanticTask, SideScore

TEXT, SPEECH = "text", "speech"
NEUTRAL, TRANSCRIPT, CASCADE = "neutral", "transcript", "cascade"  # the SLM's diagnostic sides
# Agreement's reference: the text LLM asked again with its text prompt changed without content, one side each. The
# default's text LLM keeps its greedy answer on 90.7-97.7% of 300 questions under one of them, depending on the change
# and the split (session 46); asked in other batches alone it keeps every answer, so the harness's padding moves none.
CONTENT_FREE = {"text+space": lambda prompt: prompt + " ", "text+newline": lambda prompt: prompt + "\n",
                "text+leading-space": lambda prompt: " " + prompt}


# --------------------------------------------------------------------------------------------------------------------
# Response cache


def _fingerprint(item: Item, side: str) -> str:
    asked = item.prompt if side == TEXT or side in CONTENT_FREE else f"{item.audio_path}\n{item.instruction}"
    if item.kind == PAIR:  # both clips and both texts make what is scored
        asked = json.dumps([sorted((k, str(v)) for k, v in item.option_audio.items()), sorted(item.options.items())])
    return hashlib.sha1(asked.encode("utf-8")).hexdigest()[:12]


class ResponseCache:
    """Append-only JSONL of responses. Later lines win, so re-asking an item simply appends."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._responses: dict[tuple[str, str, str], tuple[str, str]] = {}
        if self.path and self.path.is_file():
            with self.path.open(encoding="utf-8") as lines:
                for line in lines:
                    try:
                        row = json.loads(line)
                        key = (row["side"], row["system"], row["id"])
                        self._responses[key] = (row["fingerprint"], row["response"])
                    except (json.JSONDecodeError, KeyError, TypeError):
                        continue  # a line cut short by an interruption: that item is asked again

    def get(self, side: str, system: str, item: Item) -> str | None:
        hit = self._responses.get((side, system, item.id))
        return hit[1] if hit and hit[0] == _fingerprint(item, side) else None

    def put_many(self, side: str, system: str, items: Sequence[Item], responses: Sequence[str]) -> None:
        rows = []
        for item, response in zip(items, responses, strict=True):
            fingerprint = _fingerprint(item, side)
            self._responses[(side, system, item.id)] = (fingerprint, response)
            rows.append({"side": side, "system": system, "id": item.id, "task": item.task,
                         "fingerprint": fingerprint, "response": response})
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _ask_for(side: str, responder):
    if side == TEXT:
        return lambda batch: responder.answer_text([item.prompt for item in batch])
    return lambda batch: responder.answer_audio([AudioQuery(item.audio_path, item.instruction) for item in batch])


def collect_responses(items: Sequence[Item], side: str, responder, cache: ResponseCache, *, progress: bool = True,
                      system: str | None = None, ask=None, also: Sequence[str] = ()) -> dict[str, str]:
    """Item id → response for every item, asking (`ask(batch) -> answers`, by default the responder's own method
    for the side) only for those not in the cache. `also`: further sides that `ask` caches itself; an item missing
    from any of them is asked again."""
    system = system or responder.name
    ask = ask or _ask_for(side, responder)
    responses = {}
    todo = []
    for item in items:
        cached = cache.get(side, system, item)
        if cached is None or any(cache.get(other, system, item) is None for other in also):
            todo.append(item)
        else:
            responses[item.id] = cached
    batch_size = max(1, int(getattr(responder, "batch_size", 1)))
    with tqdm(total=len(items), initial=len(items) - len(todo), desc=f"{side}: {system}", unit="item",
              disable=not progress, leave=False) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            answers = ask(batch)
            if len(answers) != len(batch):
                raise RuntimeError(f"{system} returned {len(answers)} answers for {len(batch)} questions")
            cache.put_many(side, system, batch, answers)
            responses.update((item.id, answer) for item, answer in zip(batch, answers, strict=True))
            bar.update(len(batch))
    return responses


@dataclass
class SpeechAnswers:
    """What the speech side said: as heard, with the prosody replaced by the training mean, and the cascade of its
    own transcript into the text LLM (item id → answer; None where the responder cannot)."""

    heard: dict[str, str]
    neutral: dict[str, str] | None = None
    cascade: dict[str, str] | None = None
    cascade_system: str | None = None


def collect_speech(items: Sequence[Item], speech, text, cache: ResponseCache, *, progress: bool = True,
                   diagnostics: bool = True) -> SpeechAnswers:
    """The speech side's answers; with `answer_audio_variants` (the SLM) and `diagnostics` also its prosody-neutral
    answers and, given a text responder, the cascade of its transcripts: each clip is transcribed once for all."""
    if not diagnostics or not hasattr(speech, "answer_audio_variants"):
        return SpeechAnswers(collect_responses(items, SPEECH, speech, cache, progress=progress))
    sides = tuple(side for side, offered in ((NEUTRAL, getattr(speech, "has_neutral", False)),
                                             (TRANSCRIPT, getattr(speech, "has_transcript", False))) if offered)

    def ask(batch):
        rows = speech.answer_audio_variants([AudioQuery(item.audio_path, item.instruction) for item in batch])
        for side in sides:
            cache.put_many(side, speech.name, batch, [row[side] or "" for row in rows])
        return [row["answer"] for row in rows]

    answers = SpeechAnswers(collect_responses(items, SPEECH, speech, cache, progress=progress, ask=ask, also=sides))
    if NEUTRAL in sides:
        answers.neutral = {item.id: cache.get(NEUTRAL, speech.name, item) for item in items}
    if text is not None and TRANSCRIPT in sides:
        transcripts = {item.id: cache.get(TRANSCRIPT, speech.name, item) for item in items}
        answers.cascade_system = f"cascade:{speech.name}+{text.name}"
        answers.cascade = collect_responses(
            items, CASCADE, text, cache, progress=progress, system=answers.cascade_system,
            ask=lambda batch: text.answer_text([cascade_prompt(transcripts[i.id], i.instruction) for i in batch]))
    return answers


def _choices(responses: dict[str, str]) -> dict[str, str]:
    """Item id → the letter a pair side chose ("A", "B"; "" on a tie), from its cached scores."""
    return {item_id: pairs.choice(scores).upper() for item_id, scores in responses.items()}


def collect_pairs(items: Sequence[Item], text, speech, answers: SpeechAnswers | None, cache: ResponseCache, *,
                  progress: bool = True) -> dict[str, str] | None:
    """Pair items (`eval.pairs`): the text side's choices (items with texts; None without a text responder), and the
    speech side's, added to `answers` with its prosody-neutral and cascade choices where `answers` has those sides
    (the SLM's diagnostics). Scores are cached as they come; a choice is the letter of the likelier ending ("A"/"B",
    "" on a tie) so that the multiple-choice scoring reads it."""
    if not items:
        return {} if text is not None else None
    text_choices = None
    if text is not None:
        with_texts = [item for item in items if item.options]
        if with_texts and not hasattr(text, "response_logprobs"):
            raise ConfigError(f"{text.name} gives no likelihoods: it cannot score pair items (spoken StoryCloze)")
        text_choices = _choices(collect_responses(with_texts, TEXT, text, cache, progress=progress,
                                                 ask=lambda batch: pairs.text_scores(text, batch)))
    if speech is None:
        return text_choices
    if not hasattr(speech, "score_pairs"):
        raise ConfigError(f"{speech.name} gives no likelihoods: pair items (spoken StoryCloze) need --model, "
                          "--cascade or --text-only")
    sides = tuple(side for side, wanted in ((NEUTRAL, answers.neutral is not None),
                                            (TRANSCRIPT, answers.cascade is not None)) if wanted)

    def ask(batch):
        rows = speech.score_pairs([PairQuery(item.option_audio, item.options or None) for item in batch],
                                  neutral=NEUTRAL in sides)
        if NEUTRAL in sides:
            cache.put_many(NEUTRAL, speech.name, batch, [pairs.response(row["neutral"]) for row in rows])
        if TRANSCRIPT in sides:
            cache.put_many(TRANSCRIPT, speech.name, batch, [json.dumps(row["transcript"]) for row in rows])
        return [pairs.response(row["speech"]) for row in rows]

    answers.heard.update(_choices(collect_responses(items, SPEECH, speech, cache, progress=progress, ask=ask,
                                                   also=sides)))
    if NEUTRAL in sides:
        answers.neutral.update(_choices({item.id: cache.get(NEUTRAL, speech.name, item) for item in items}))
    if TRANSCRIPT in sides:
        read = [json.loads(cache.get(TRANSCRIPT, speech.name, item)) for item in items]
        asked = dict(zip((item.id for item in items), read, strict=True))
        answers.cascade.update(_choices(collect_responses(
            items, CASCADE, text, cache, progress=progress, system=answers.cascade_system,
            ask=lambda batch: [pairs.response(s) for s in score_pair_turns([asked[i.id] for i in batch],
                                                                           text.response_logprobs)])))
    return text_choices


# --------------------------------------------------------------------------------------------------------------------
# Scores


def score_mcq(items: Sequence[Item], responses: dict[str, str], *, seed: int = 0,
              match_option_text: bool = False) -> SideScore:
    score = SideScore()
    for item in items:
        choice = extract_choice(responses[item.id], item.letters, options=item.options,
                                match_option_text=match_option_text).choice
        fallback = choice if choice is not None else seeded_fallback(item.id, item.letters, seed)
        score.add(item.id, choice == item.reference, choice is None, fallback == item.reference)
    return score


def predict_labels(items: Sequence[Item], responses: dict[str, str]) -> dict[str, str | None]:
    """Item id → the label each response names (None: none or several), yes/no questions read as such."""
    return {item.id: match_label(responses[item.id], item.labels, yes_label=item.yes_label) for item in items}


def score_labels(items: Sequence[Item], responses: dict[str, str], *, seed: int = 0,
                 predicted: dict[str, str | None] | None = None) -> SideScore:
    predicted = predicted if predicted is not None else predict_labels(items, responses)
    score = SideScore()
    for item in items:
        label = predicted[item.id]
        fallback = label if label is not None or not item.labels else seeded_fallback(item.id, item.labels, seed)
        score.add(item.id, label == item.reference, label is None, fallback == item.reference)
    return score


def _agrees(first: dict[str, str], second: dict[str, str], item_id: str) -> bool:
    """Whether the two answers to one item are identical (after stripping whitespace)."""
    return first[item_id].strip() == second[item_id].strip()


def agreement(items: Sequence[Item], first: dict[str, str], second: dict[str, str]) -> float | None:
    """% of items whose two answers are identical (after stripping whitespace)."""
    if not items:
        return None
    return 100.0 * sum(_agrees(first, second, i.id) for i in items) / len(items)


# --------------------------------------------------------------------------------------------------------------------
# The run


def _by_task(items: Sequence[Item]) -> dict[str, list[Item]]:
    tasks: dict[str, list[Item]] = {}
    for item in items:
        tasks.setdefault(item.task, []).append(item)
    return tasks


def _covers(answers: dict | None, items: Sequence[Item]) -> bool:
    """Whether a side answered every item of a task (a text LLM has no text for pairs that carry none)."""
    return answers is not None and all(item.id in answers for item in items)


def _semantic_tasks(mcq: Sequence[Item], text: dict | None, speech: SpeechAnswers | None, score,
                    text_changed: dict[str, dict] | None = None) -> list:
    tasks = []
    for task, its in _by_task(mcq).items():
        entry = SemanticTask(task=task, n=len(its), text=score(its, text) if _covers(text, its) else None,
                             speech=score(its, speech.heard) if speech and _covers(speech.heard, its) else None)
        if speech and _covers(speech.neutral, its):
            entry.neutral = score(its, speech.neutral)
            entry.agreement = agreement(its, speech.heard, speech.neutral)
            if text_changed and _covers(text, its) and all(_covers(a, its) for a in text_changed.values()):
                entry.text_self_agreement = {side: agreement(its, text, a) for side, a in text_changed.items()}
        if speech and _covers(speech.cascade, its):
            entry.cascade = score(its, speech.cascade)
        tasks.append(entry)
    return tasks


def _paralinguistic_task(task: str, its: list[Item], speech: SpeechAnswers, *, seed: int, rule: dict | None,
                         seen_instructions: set[str] | None) -> ParalinguisticTask:
    predicted = predict_labels(its, speech.heard)
    entry = ParalinguisticTask(
        task=task, n=len(its), labels=tuple(dict.fromkeys(label for item in its for label in item.labels)),
        speech=score_labels(its, speech.heard, seed=seed, predicted=predicted),
        rule={k: v for k, v in rule.items() if k != "predicted"} if rule else None,
        histogram=diag.answer_histogram(its, predicted), balanced_accuracy=diag.balanced_accuracy(its, predicted),
        speakers=diag.per_speaker(its, predicted), phrasing=diag.by_phrasing(its, predicted, seen_instructions))
    if speech.neutral is not None:
        entry.neutral = score_labels(its, speech.neutral, seed=seed)
        entry.agreement = agreement(its, speech.heard, speech.neutral)
    if speech.cascade is not None:
        entry.cascade = score_labels(its, speech.cascade, seed=seed)
    return entry


def _open_tasks(items: Sequence[Item], text: dict, speech: SpeechAnswers) -> list[OpenTask]:
    cascade = speech.cascade is not None
    return [OpenTask(task=task, n=len(its), speech=diag.open_scores(its, speech.heard, text),
                     cascade=diag.open_scores(its, speech.cascade, text) if cascade else None,
                     same_transcript=diag.open_scores(its, speech.heard, speech.cascade) if cascade else None)
            for task, its in _by_task(items).items()]


def _bootstrap(result: EvalResult, seed: int) -> dict | None:
    pairs = [(t.speech.hits[i], t.cascade.hits[i]) for t in result.semantic if t.speech and t.cascade
             for i in t.speech.hits]
    return diag.paired_bootstrap([a for a, _ in pairs], [b for _, b in pairs], seed=seed) if pairs else None


def _agreement_bootstrap(items: Sequence[Item], speech: SpeechAnswers, text: dict, text_changed: dict[str, dict],
                         seed: int) -> dict | None:
    """Agreement with its 95% interval, and agreement − the text LLM's self-agreement paired over the same items
    (the generated semantic items, where both were asked; an item's self-agreement is the share of the content-free
    changes under which the text LLM keeps its answer)."""
    both = [i for i in items if i.id in speech.neutral and all(i.id in a for a in text_changed.values())]
    if not both:
        return None
    heard = [_agrees(speech.heard, speech.neutral, i.id) for i in both]
    steady = [sum(_agrees(text, a, i.id) for a in text_changed.values()) / len(text_changed) for i in both]
    low, high = diag.bootstrap_interval([100.0 * h for h in heard], seed=seed)
    return {**diag.paired_bootstrap(heard, steady, seed=seed), "agreement": 100.0 * sum(heard) / len(both),
            "agreement_low": low, "agreement_high": high, "text_self_agreement": 100.0 * sum(steady) / len(both),
            "text_self_agreement_by_change": {side: agreement(both, text, a) for side, a in text_changed.items()}}


def evaluate_items(items: Sequence[Item], text_responder: TextResponder | None,
                   speech_responder: SpeechResponder | None, *, bench: str = "", split: str = "",
                   cache_path: str | Path | None = None, seed: int = 0, match_option_text: bool = False,
                   progress: bool = True, train_items: Sequence[Item] | None = None,
                   acoustics_path: str | Path | None = None, diagnostics: bool = True) -> EvalResult:
    """Score `items` with either or both responders (None skips that side). train_items: the benchmark's train
    split, to fit the acoustic-rule baselines (measurements cached at `acoustics_path`) and tell seen phrasings.
    diagnostics=False skips the SLM's prosody-neutral and cascade answers (the other diagnostics cost no model)."""
    from textpro.eval.rules import AcousticCache, rule_baselines

    if speech_responder:
        silent = [item.id for item in items if item.audio_path is None]
        if silent:
            raise ConfigError(f"{len(silent)} items have no audio (first: {silent[0]}); use a text-only evaluation")
    cache = ResponseCache(cache_path)
    mcq = [item for item in items if item.kind == MCQ]
    labelled = [item for item in items if item.kind == LABEL]
    requests = [item for item in items if item.kind == OPEN]
    paired = [item for item in items if item.kind == PAIR]
    text = collect_responses(mcq + requests, TEXT, text_responder, cache, progress=progress) \
        if text_responder else None
    speech = collect_speech(mcq + labelled + requests, speech_responder, text_responder, cache,
                            progress=progress, diagnostics=diagnostics) if speech_responder else None
    # pairs are scored by likelihood, then read like multiple choice: rows of the semantic table beside the others
    text_pairs = collect_pairs(paired, text_responder, speech_responder, speech, cache, progress=progress)
    # agreement's reference: the text LLM asked again under each content-free change (generated items only; pairs
    # are scored by likelihood), where agreement is measured
    text_changed = {side: collect_responses(
        mcq, side, text_responder, cache, progress=progress,
        ask=lambda batch, change=change: text_responder.answer_text([change(item.prompt) for item in batch]))
        for side, change in CONTENT_FREE.items()} \
        if text is not None and speech is not None and speech.neutral is not None else None
    if text is not None:
        text.update(text_pairs)
    mcq += paired

    result = EvalResult(bench=bench, split=split, seed=seed, match_option_text=match_option_text,
                        text_system=text_responder.name if text_responder else None,
                        speech_system=speech_responder.name if speech_responder else None,
                        cascade_system=speech.cascade_system if speech else None,
                        neutral_available=bool(speech and speech.neutral is not None))
    result.semantic = _semantic_tasks(mcq, text, speech, lambda its, answers: score_mcq(
        its, answers, seed=seed, match_option_text=match_option_text), text_changed)
    if speech:
        rules = rule_baselines(train_items, labelled, AcousticCache(acoustics_path)) if train_items else {}
        seen = {i.instruction for i in train_items if i.kind == LABEL} if train_items else None
        result.paralinguistic = [_paralinguistic_task(task, its, speech, seed=seed, rule=rules.get(task),
                                                      seen_instructions=seen)
                                 for task, its in _by_task(labelled).items()]
        result.open = _open_tasks(requests, text, speech) if text is not None else []
        result.bootstrap = _bootstrap(result, seed)
        if text_changed is not None:
            result.agreement_bootstrap = _agreement_bootstrap(mcq, speech, text, text_changed, seed)
    return result


def evaluate(bench_dir: str | Path, split: str, text_responder: TextResponder | None,
             speech_responder: SpeechResponder | None, *, out_dir: str | Path | None = None,
             limit: int | None = None, seed: int = 0, match_option_text: bool = False,
             progress: bool = True, ledger: str | Path | None = None, model_dir: str | Path | None = None,
             diagnostics: bool = True) -> EvalResult:
    """Evaluate a benchmark split; with `out_dir`, cache responses there and write results.json / results.md /
    results.png (see `textpro.eval.report`). The split `train`, when there is one, fits the acoustic rules."""
    from textpro.eval.bench import load_bench

    items = load_bench(bench_dir, split)
    return run_and_report(items, text_responder, speech_responder, bench=str(bench_dir), split=split,
                          out_dir=out_dir, limit=limit, seed=seed, match_option_text=match_option_text,
                          progress=progress, train_items=train_split(bench_dir, split), ledger=ledger,
                          model_dir=model_dir, diagnostics=diagnostics)


def train_split(bench_dir: str | Path, split: str) -> list[Item] | None:
    """The benchmark's `train` items (for the acoustic rules), None when it has none or `split` is train."""
    from textpro.eval.bench import load_bench

    if split == "train" or not (Path(bench_dir) / "train.jsonl").is_file():
        return None
    return load_bench(bench_dir, "train")


def run_and_report(items: Sequence[Item], text_responder, speech_responder, *, bench: str, split: str,
                   out_dir: str | Path | None, limit: int | None = None, seed: int = 0,
                   match_option_text: bool = False, progress: bool = True,
                   train_items: Sequence[Item] | None = None, ledger: str | Path | None = None,
                   model_dir: str | Path | None = None, diagnostics: bool = True) -> EvalResult:
    """Evaluate, write the reports into `out_dir`, and for a split whose name starts with "test" append a line to
    the `ledger` (see `textpro.eval.ledger`)."""
    from textpro.eval.ledger import append_to_ledger
    from textpro.eval.report import write_reports

    if limit is not None:
        items = limit_per_task(items, limit)
    cache_path = Path(out_dir) / "responses.jsonl" if out_dir else None
    acoustics_path = Path(out_dir) / "acoustics.jsonl" if out_dir else None
    result = evaluate_items(items, text_responder, speech_responder, bench=bench, split=split,
                            cache_path=cache_path, seed=seed, match_option_text=match_option_text,
                            progress=progress, train_items=train_items, acoustics_path=acoustics_path,
                            diagnostics=diagnostics)
    if out_dir:
        write_reports(result, out_dir)
    if ledger and split.startswith("test"):
        append_to_ledger(ledger, result, model_dir)
    return result


def limit_per_task(items: Sequence[Item], limit: int) -> list[Item]:
    """The first `limit` items of every task (so a quick run still covers every task)."""
    kept: dict[str, int] = {}
    out = []
    for item in items:
        if kept.get(item.task, 0) < limit:
            kept[item.task] = kept.get(item.task, 0) + 1
            out.append(item)
    return out
