"""The harness: items, scoring, gap, cache/resume, reports, CLI wiring. Responders here are scripted stand-ins
(the real ones are tested in test_eval_endpoint.py and test_eval_textllm.py)."""

import json
import math

import pytest

from tests.eval_fixtures import MCQ_ITEMS, write_bench
from textpro.cli import main
from textpro.errors import ConfigError, ModelError
from textpro.eval.bench import LABEL, MCQ, load_bench
from textpro.eval.harness import evaluate, evaluate_items
from textpro.eval.responders import SpeechResponder, TextResponder, speech_responder_for_model


class ScriptedText:
    """Answers every prompt correctly except those listed; counts questions."""

    def __init__(self, name="text-llm", wrong=(), fail=(), batch_size=2):
        self.name, self.batch_size, self.asked = name, batch_size, []
        self.wrong, self.fail = set(wrong), set(fail)

    def answer_text(self, prompts):
        self.asked += prompts
        answers = []
        for prompt in prompts:
            reference = next(ref for _, p, ref in MCQ_ITEMS if p == prompt)
            if prompt in self.fail:
                answers.append("I am not sure.")
            elif prompt in self.wrong:
                answers.append("The answer is " + ("A" if reference != "A" else "B"))
            else:
                answers.append(f"The answer is {reference}.")
        return answers


class ScriptedSpeech:
    """Answers by audio file name: q-files by a table, gender files by a table."""

    def __init__(self, answers, name="speech-llm", batch_size=3, explode_after=None):
        self.name, self.batch_size, self.answers, self.asked = name, batch_size, answers, []
        self.explode_after = explode_after

    def answer_audio(self, queries):
        if self.explode_after is not None and len(self.asked) >= self.explode_after:
            raise KeyboardInterrupt
        self.asked += queries
        return [self.answers[q.audio_path.stem] for q in queries]


SPEECH_ANSWERS = {
    "q0": "B", "q1": "(B)", "q2": "no idea", "q3": "The answer is D", "q4": "D. Four", "q5": "Answer: a",
    "g0": "The speaker is female.", "g1": "male", "g2": "Male.", "g3": "I can't tell",
}


@pytest.fixture
def bench(tmp_path):
    return write_bench(tmp_path / "bench")


def test_load_bench_kinds_letters_labels(bench):
    items = load_bench(bench, "test")
    assert [i.kind for i in items] == [MCQ] * 6 + [LABEL] * 4
    assert items[0].letters == "abcd" and items[0].reference == "b"
    assert items[0].audio_path == bench / "audio" / "q0.wav" and items[0].instruction is None
    assert items[6].labels == ("female", "male") and items[6].instruction == "What is the speaker's gender?"
    with pytest.raises(ConfigError, match="no benchmark split .*dev.jsonl.*splits here: test"):
        load_bench(bench, "dev")


def test_responders_satisfy_the_interfaces():
    assert isinstance(ScriptedText(), TextResponder)
    assert isinstance(ScriptedSpeech({}), SpeechResponder)


def test_scores_gap_failures_and_paralinguistics(bench, tmp_path):
    text = ScriptedText(wrong=[MCQ_ITEMS[3][1]])  # text gets 3/4 facts, 2/2 arithmetic
    speech = ScriptedSpeech(SPEECH_ANSWERS)
    result = evaluate(bench, "test", text, speech, out_dir=tmp_path / "out", progress=False)

    facts, arithmetic = result.semantic
    assert (facts.task, facts.n, arithmetic.task, arithmetic.n) == ("mcq_facts", 4, "mcq_arithmetic", 2)
    assert facts.text.accuracy == 75.0 and facts.text.failure_pct == 0.0
    # speech facts: q0 right, q1 wrong (B for A), q2 unextractable, q3 right
    assert facts.speech.accuracy == 50.0 and facts.speech.failure_pct == 25.0
    assert facts.gap == 25.0
    assert arithmetic.speech.accuracy == 100.0 and arithmetic.gap == 0.0
    # The random fallback can only add correct answers.
    assert facts.speech.accuracy <= facts.speech.accuracy_fallback <= 75.0

    (gender,) = result.paralinguistic
    assert gender.n == 4 and gender.chance == 50.0
    assert gender.speech.accuracy == 50.0 and gender.speech.failure_pct == 25.0  # g2 "Male." for female: wrong

    avg = result.averages()
    assert avg["gap"] == pytest.approx(12.5)
    assert avg["text_accuracy"] == pytest.approx(87.5) and avg["paralinguistic_accuracy"] == 50.0

    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["average"]["gap"] == pytest.approx(12.5)
    assert saved["semantic"][0]["speech"]["failure_pct"] == 25.0
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert "| mcq_facts | 4 | 75.0 | 50.0 | +25.0 |" in markdown and "| gender | 4 | female, male |" in markdown
    assert (tmp_path / "out" / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_asks_only_unanswered_items(bench, tmp_path):
    out = tmp_path / "out"
    interrupted = ScriptedSpeech(SPEECH_ANSWERS, explode_after=3)  # dies on its second batch
    with pytest.raises(KeyboardInterrupt):
        evaluate(bench, "test", ScriptedText(), interrupted, out_dir=out, progress=False)
    assert len(interrupted.asked) == 3

    text, speech = ScriptedText(), ScriptedSpeech(SPEECH_ANSWERS)
    evaluate(bench, "test", text, speech, out_dir=out, progress=False)
    assert text.asked == []  # the text side had finished before the interruption
    assert [q.audio_path.stem for q in speech.asked] == ["q3", "q4", "q5", "g0", "g1", "g2", "g3"]

    again = ScriptedSpeech(SPEECH_ANSWERS)
    evaluate(bench, "test", ScriptedText(), again, out_dir=out, progress=False)
    assert again.asked == []

    # A different system does not reuse another's answers.
    other = ScriptedSpeech(SPEECH_ANSWERS, name="another-model")
    evaluate(bench, "test", ScriptedText(), other, out_dir=out, progress=False)
    assert len(other.asked) == 10


def test_changed_item_is_asked_again(bench, tmp_path):
    out = tmp_path / "out"
    evaluate(bench, "test", ScriptedText(), None, out_dir=out, progress=False)
    lines = (bench / "test.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["prompt"] = MCQ_ITEMS[1][1]  # item q0 now asks another question
    record["reference"] = "A"
    (bench / "test.jsonl").write_text("\n".join([json.dumps(record)] + lines[1:]) + "\n")
    text = ScriptedText()
    evaluate(bench, "test", text, None, out_dir=out, progress=False)
    assert text.asked == [MCQ_ITEMS[1][1]]


def test_text_only_and_limit(bench):
    items = load_bench(bench, "test")
    result = evaluate_items(items, ScriptedText(), None, progress=False)
    assert result.speech_system is None and result.paralinguistic == []
    assert all(t.speech is None and t.gap is None for t in result.semantic)
    assert result.averages()["gap"] is None

    from textpro.eval.harness import limit_per_task

    limited = limit_per_task(items, 1)
    assert [i.id for i in limited] == ["q0", "q4", "g0"]


def test_failure_scoring_both_ways(bench):
    items = [i for i in load_bench(bench, "test") if i.kind == MCQ]
    text = ScriptedText(fail=[p for _, p, _ in MCQ_ITEMS])
    result = evaluate_items(items, text, None, progress=False)
    for task in result.semantic:
        assert task.text.accuracy == 0.0 and task.text.failure_pct == 100.0
        assert 0.0 <= task.text.accuracy_fallback <= 100.0
    # Seeded: the same numbers every time.
    again = evaluate_items(items, ScriptedText(fail=[p for _, p, _ in MCQ_ITEMS]), None, progress=False)
    assert [t.text.accuracy_fallback for t in again.semantic] == [t.text.accuracy_fallback for t in result.semantic]


def test_model_flag_needs_a_textpro_slm(tmp_path, capsys):
    with pytest.raises(ModelError, match="not a TextPro-SLM checkpoint"):
        speech_responder_for_model(tmp_path)
    (tmp_path / "textpro_config.json").write_text("{}")  # a config but no weights: one-line error
    with pytest.raises(ModelError, match="holds neither LLM weights"):
        speech_responder_for_model(tmp_path)


def test_cli_errors_are_one_line(bench, tmp_path, capsys):
    assert main(["eval", "--bench", str(bench), "--model", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("textpro: error:") and "not a TextPro-SLM" in err and err.count("\n") == 1
    assert main(["eval", "--bench", str(bench)]) == 2
    assert "--text-only" in capsys.readouterr().err
    assert main(["eval", "--bench", str(tmp_path / "missing"), "--text-only"]) == 2
    assert "no benchmark split" in capsys.readouterr().err


def test_nan_free_json_for_empty_sides(bench, tmp_path):
    from textpro.eval.report import write_reports

    result = evaluate_items(load_bench(bench, "test"), None, ScriptedSpeech(SPEECH_ANSWERS), progress=False)
    paths = write_reports(result, tmp_path / "r")
    saved = json.loads(paths["json"].read_text())
    assert saved["average"]["text_accuracy"] is None and saved["semantic"][0]["gap"] is None
    assert not math.isnan(saved["average"]["speech_accuracy"])


def test_pair_records_are_pairs_and_question_kinds_stay_multiple_choice():
    from textpro.eval.bench import PAIR, items_from_records

    pair = {"id": "ssc-0", "task": "sstorycloze", "kind": "pair", "audio": "a.wav", "reference": "A",
            "options_audio": {"A": "a.wav", "B": "b.wav"}}
    assert items_from_records([pair])[0].kind == PAIR  # scored by likelihood: tests/test_eval_pairs.py
    with pytest.raises(ConfigError, match="kind 'pair' needs options_audio"):
        items_from_records([{**pair, "options_audio": {"A": "a.wav"}}])
    # the mini world's semantic records name their question kind in the same field: still multiple choice
    semantic = {"prompt": MCQ_ITEMS[0][1], "reference": "B", "task": "semantic", "kind": "comparison"}
    assert items_from_records([semantic])[0].kind == "mcq"


def test_speech_side_needs_audio(bench):
    from textpro.eval.bench import items_from_records

    items = items_from_records([{"prompt": MCQ_ITEMS[0][1], "reference": "B", "task": "mcq_facts"}])
    with pytest.raises(ConfigError, match="no audio"):
        evaluate_items(items, ScriptedText(), ScriptedSpeech({}), progress=False)
