"""`textpro eval`'s diagnostics: prosody-neutral accuracy and agreement, the SLM's own cascade, acoustic-rule
baselines, answer histograms, balanced accuracy, speakers, phrasings, paired bootstrap, open requests, the ledger.
Responders are scripted stand-ins keyed by audio file name; the last test runs a tiny real TextPro-SLM."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import tone
from tests.eval_fixtures import MCQ_ITEMS
from textpro.eval import diagnostics as diag
from textpro.eval.bench import OPEN, load_bench
from textpro.eval.harness import evaluate, evaluate_items
from textpro.eval.ledger import config_hash
from textpro.eval.rules import fit_rule

REQUEST = "Can you give me a simple recipe for pancakes?"
RECIPE = "Mix flour, eggs and milk, then fry spoonfuls of batter in a hot pan until golden."
# gender clips: (id, label, F0 Hz, voice, phrasing_form, instruction)
GENDER_TEST = [("g0", "female", 220.0, "anna", "direct", "Is the speaker male or female?"),
               ("g1", "male", 110.0, "bob", "direct", "Is the speaker male or female?"),
               ("g2", "female", 230.0, "anna", "yes_no", "Is the speaker female?"),
               ("g3", "male", 100.0, "bob", "yes_no", "Is the speaker female?")]


def _write(root, split, records):
    with (root / f"{split}.jsonl").open("w") as out:
        out.writelines(json.dumps(r) + "\n" for r in records)


def _clip(root, name, samples):
    sf.write(root / "audio" / f"{name}.wav", samples, 16_000)
    return f"audio/{name}.wav"


@pytest.fixture
def bench(tmp_path):
    """test: 6 MCQ, 4 gender, 2 rate, 1 request; train: 20 gender clips (male 95–130 Hz, female 195–240 Hz) and 10
    rate clips (1 and 4 words per second)."""
    root = tmp_path / "bench"
    (root / "audio").mkdir(parents=True)
    test = [{"id": f"q{i}", "audio": _clip(root, f"q{i}", tone(0.3, freq=300)), "prompt": prompt,
             "reference": ref, "task": task} for i, (task, prompt, ref) in enumerate(MCQ_ITEMS)]
    test += [{"id": g, "audio": _clip(root, g, tone(0.6, freq=f0)), "reference": label, "task": "gender",
              "instruction": instruction, "voice": voice, "phrasing_form": form, "text": "hello there"}
             for g, label, f0, voice, form, instruction in GENDER_TEST]
    test += [{"id": f"r{i}", "audio": _clip(root, f"r{i}", tone(2.0, freq=150)), "reference": label, "task": "rate",
              "instruction": "How fast is the speech?", "text": " ".join(["word"] * words)}
             for i, (label, words) in enumerate([("slow", 2), ("fast", 8)])]
    test.append({"id": "req0", "audio": _clip(root, "req0", tone(0.5)), "prompt": REQUEST, "reference": None,
                 "task": "request", "text": REQUEST})
    _write(root, "test", test)
    train = [{"id": f"tg{i}", "audio": _clip(root, f"tg{i}", tone(0.6, freq=f0)), "task": "gender",
              "reference": label, "instruction": "Is the speaker male or female?"}
             for i, (label, f0) in enumerate([("male", 95.0 + 3.5 * k) for k in range(10)]
                                             + [("female", 195.0 + 5 * k) for k in range(10)])]
    train += [{"id": f"tr{i}", "audio": _clip(root, f"tr{i}", tone(2.0, freq=150)), "task": "rate",
               "reference": label, "text": " ".join(["word"] * words), "instruction": "Slow or fast?"}
              for i, (label, words) in enumerate([("slow", 2), ("fast", 8)] * 5)]
    _write(root, "train", train)
    _write(root, "dev", test)
    return root


class ScriptedSLM:
    """An SLM stand-in: answers as heard, with the training-mean prosody (`neutral`, default: the same) and the
    transcript, by audio file name; counts how many clips it was asked about."""

    name, batch_size, has_neutral, has_transcript = "slm", 4, True, True

    def __init__(self, heard, neutral=None):
        self.heard, self.neutral, self.asked = heard, neutral or {}, 0

    def answer_audio(self, queries):
        return [self.heard[q.audio_path.stem] for q in queries]

    def answer_audio_variants(self, queries):
        self.asked += len(queries)
        return [{"answer": self.heard[q.audio_path.stem],
                 "neutral": self.neutral.get(q.audio_path.stem, self.heard[q.audio_path.stem]),
                 "transcript": f"transcript {q.audio_path.stem}"} for q in queries]


class ScriptedText:
    """The text LLM: right on every text MCQ, a recipe for the request, and on cascade prompts
    ("transcript q3\\n...") the answer listed in `cascade` (default "I don't know"). A text MCQ prompt with spaces
    or newlines around it is answered alike, except that the MCQ_ITEMS indices in `unsteady` are answered "The answer
    is A." under a trailing space."""

    name, batch_size = "text-llm", 8

    def __init__(self, cascade=None, unsteady=()):
        self.cascade, self.unsteady, self.prompts = cascade or {}, set(unsteady), []

    def answer_text(self, prompts):
        self.prompts += prompts
        answers = []
        for prompt in prompts:
            mcq = [(k, ref) for k, (_, p, ref) in enumerate(MCQ_ITEMS) if p == prompt.strip()]
            if mcq:
                k, ref = mcq[0]
                spaced = prompt.endswith(" ") and k in self.unsteady
                answers.append("The answer is A." if spaced else f"The answer is {ref}.")
            elif prompt == REQUEST:
                answers.append(RECIPE)
            else:
                stem = prompt.split("\n")[0].removeprefix("transcript ")
                answers.append(self.cascade.get(stem, "I don't know"))
        return answers


HEARD = {"q0": "B", "q1": "A", "q2": "C", "q3": "D", "q4": "D", "q5": "B",  # 5/6 right
         "g0": "Female.", "g1": "Male.", "g2": "Yes.", "g3": "No, it's a man.",  # 4/4 right (yes/no read)
         "r0": "slow", "r1": "slow", "req0": RECIPE}


def _run(bench, slm, text, tmp_path, split="test", **kwargs):
    return evaluate(bench, split, text, slm, out_dir=tmp_path / f"out-{split}", progress=False, **kwargs)


def test_a_responder_that_ignores_prosody_agrees_fully(bench, tmp_path):
    result = _run(bench, ScriptedSLM(HEARD), ScriptedText(), tmp_path)
    assert result.neutral_available
    assert all(t.agreement == 100.0 and t.neutral.accuracy == t.speech.accuracy for t in result.semantic)
    assert all(t.agreement == 100.0 for t in result.paralinguistic)
    assert result.averages()["agreement"] == 100.0


def test_neutral_answers_are_scored_and_disagreements_counted(bench, tmp_path):
    neutral = {"q0": "A", "q1": "A.", "g0": "male"}  # q0 turns wrong; q1 same letter, other text; g0 turns wrong
    result = _run(bench, ScriptedSLM(HEARD, neutral), ScriptedText(), tmp_path)
    facts = result.semantic[0]
    assert facts.speech.accuracy == 100.0 and facts.neutral.accuracy == 75.0 and facts.agreement == 50.0
    gender = next(t for t in result.paralinguistic if t.task == "gender")
    assert gender.speech.accuracy == 100.0 and gender.neutral.accuracy == 75.0 and gender.agreement == 75.0
    assert result.averages()["agreement"] == pytest.approx(100 * 4 / 6)  # pooled over the 6 semantic items


def test_text_self_agreement_is_read_beside_agreement(bench, tmp_path):
    """The text LLM is asked each generated MCQ once more under each content-free change of its prompt; the share it
    answers identically is printed beside agreement (mean and range over the changes), per task and pooled, paired
    with agreement over the items, and cached like every other side."""
    from textpro.eval.report import markdown_table

    facts_ids = [k for k, (task, _, _) in enumerate(MCQ_ITEMS) if task == "mcq_facts"]
    text = ScriptedText(unsteady=facts_ids[:1])  # one of the 4 facts items changes its answer under a trailing space
    result = _run(bench, ScriptedSLM(HEARD), text, tmp_path)
    assert [sum(p.endswith(" ") for p in text.prompts), sum(p.endswith("\n") for p in text.prompts),
            sum(p.startswith(" ") for p in text.prompts)] == [len(MCQ_ITEMS)] * 3
    facts, arithmetic = result.semantic
    assert facts.text_self_agreement == {"text+space": 75.0, "text+newline": 100.0, "text+leading-space": 100.0}
    assert facts.text_self_agreement_mean == pytest.approx(275 / 3) and arithmetic.text_self_agreement_mean == 100.0
    average = result.averages()  # pooled over the 6 items per change, then the mean over the changes
    assert average["text_self_agreement_by_change"]["text+space"] == pytest.approx(100 * 5 / 6)
    assert average["text_self_agreement"] == pytest.approx((100 * 5 / 6 + 200) / 3)
    table = markdown_table(result)
    assert "| mcq_facts | 4 | 100.0 | 100.0 | +0.0 | 0.0 | 0.0 | +0.0 | 0.0 | 100.0 | 100.0 | 91.7 (75.0–100.0) |" \
        in table
    saved = json.loads((tmp_path / "out-test" / "results.json").read_text())
    assert saved["average"]["text_self_agreement"] == pytest.approx(average["text_self_agreement"])
    paired = result.agreement_bootstrap  # the SLM agrees on 6 of 6; the text LLM on 6, 6 and 5 of 6 under the changes
    assert paired["n"] == 6 and paired["agreement"] == 100.0 and paired["agreement_low"] == 100.0
    assert paired["mean_difference"] == pytest.approx(100 / 18) and paired["low"] <= 100 / 18 <= paired["high"]
    assert saved["agreement_bootstrap"]["text_self_agreement_by_change"] == paired["text_self_agreement_by_change"]
    assert saved["agreement_bootstrap"]["mean_difference"] == pytest.approx(paired["mean_difference"])
    assert ("the text LLM's self-agreement on the same items, over the content-free changes: 94.4% (space 83.3, "
            "newline 100.0, leading space 100.0); difference, paired bootstrap: **+5.6**") in table

    again = ScriptedText(unsteady=facts_ids[:1])
    assert _run(bench, ScriptedSLM(HEARD), again, tmp_path).semantic[0].text_self_agreement["text+space"] == 75.0
    assert again.prompts == []  # cached: nothing asked twice


def test_the_cascade_reads_the_slm_transcripts_of_one_transcription(bench, tmp_path):
    slm, text = ScriptedSLM(HEARD), ScriptedText(cascade={"q0": "B", "q1": "B", "q4": "D", "g0": "female"})
    result = _run(bench, slm, text, tmp_path)
    assert slm.asked == 13  # every clip once, for the answer, the neutral answer and the transcript
    assert "transcript g0\nIs the speaker male or female?" in text.prompts
    facts, arithmetic = result.semantic
    assert facts.cascade.accuracy == 25.0 and arithmetic.cascade.accuracy == 50.0
    assert result.cascade_system == "cascade:slm+text-llm"
    # paired bootstrap over the 6 items: speech 5 right, cascade 2 right, never the reverse
    boot = result.bootstrap
    assert boot["n"] == 6 and boot["mean_difference"] == pytest.approx(50.0)
    assert 0.0 <= boot["low"] <= 50.0 <= boot["high"] <= 100.0
    assert _run(bench, ScriptedSLM(HEARD), text, tmp_path / "again").bootstrap == boot  # seeded

    again = ScriptedSLM(HEARD)
    _run(bench, again, ScriptedText(), tmp_path)  # cached: nothing asked twice
    assert again.asked == 0


def test_paired_bootstrap_interval():
    boot = diag.paired_bootstrap([True] * 60 + [False] * 40, [True] * 50 + [False] * 50, seed=1)
    assert boot["mean_difference"] == pytest.approx(10.0) and boot["low"] < 10.0 < boot["high"]
    assert boot["high"] - boot["low"] < 20.0
    assert diag.paired_bootstrap([], []) is None


def test_histogram_flags_a_constant_responder(bench, tmp_path):
    constant = {**HEARD, "g0": "female", "g1": "female", "g2": "female", "g3": "female"}
    result = _run(bench, ScriptedSLM(constant), ScriptedText(), tmp_path)
    gender = next(t for t in result.paralinguistic if t.task == "gender")
    assert gender.histogram["shares"] == {"female": 100.0} and gender.histogram["one_label"]
    assert gender.balanced_accuracy == 50.0
    varied = next(t for t in _run(bench, ScriptedSLM(HEARD), ScriptedText(), tmp_path / "v").paralinguistic
                  if t.task == "gender")
    assert varied.histogram["shares"] == {"female": 50.0, "male": 50.0} and not varied.histogram["one_label"]
    rate = next(t for t in result.paralinguistic if t.task == "rate")  # "slow" twice: 100% one label
    assert rate.histogram["one_label"] and rate.balanced_accuracy == 50.0
    assert "one label: female 100%" in (tmp_path / "out-test" / "results.md").read_text()


def test_rule_baselines_fit_thresholds_on_train(bench, tmp_path):
    result = _run(bench, ScriptedSLM(HEARD), ScriptedText(), tmp_path)
    gender = next(t for t in result.paralinguistic if t.task == "gender")
    assert gender.rule["labels"] == ["male", "female"] and 127.0 < gender.rule["thresholds"][0] < 197.0
    assert gender.rule["train_n"] == 20 and gender.rule["train_accuracy"] == 100.0
    assert gender.rule["accuracy"] == 100.0 and gender.below_rule(gender.speech)  # 100 does not beat 100
    rate = next(t for t in result.paralinguistic if t.task == "rate")
    assert rate.rule["feature"] == "words_per_second" and 1.0 < rate.rule["thresholds"][0] < 4.0
    assert rate.rule["accuracy"] == 100.0 and rate.speech.accuracy == 50.0
    markdown = (tmp_path / "out-test" / "results.md").read_text()
    assert "| rate | 2 |" in markdown and "below the rule" in markdown
    saved = json.loads((tmp_path / "out-test" / "results.json").read_text())
    assert saved["paralinguistic"][1]["below_rule"] is True and "predicted" not in saved["paralinguistic"][0]["rule"]
    measured = (tmp_path / "out-test" / "acoustics.jsonl").read_text().splitlines()
    assert len(measured) == 30 + 6  # train clips + evaluated clips, measured once
    _run(bench, ScriptedSLM(HEARD), ScriptedText(), tmp_path)
    assert len((tmp_path / "out-test" / "acoustics.jsonl").read_text().splitlines()) == 36


def test_fit_rule_separates_three_bands():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(80, 110, 30), rng.uniform(135, 175, 30), rng.uniform(220, 290, 30)])
    labels = ["low"] * 30 + ["mid"] * 30 + ["high"] * 30
    rule = fit_rule("f0_median", list(values) + [None], labels + ["mid"])
    assert rule.labels == ["low", "mid", "high"]
    assert 110 <= rule.thresholds[0] <= 135 and 175 <= rule.thresholds[1] <= 220
    assert [rule.predict(v) for v in (90.0, 150.0, 250.0, None)] == ["low", "mid", "high", None]


def test_speakers_phrasings_and_yes_no(bench, tmp_path):
    items = load_bench(bench, "test")
    assert next(i for i in items if i.id == "g2").yes_label == "female"  # named by the instruction
    wrong_for_bob = {**HEARD, "g1": "female", "g3": "Yes."}
    result = _run(bench, ScriptedSLM(wrong_for_bob), ScriptedText(), tmp_path)
    gender = next(t for t in result.paralinguistic if t.task == "gender")
    assert gender.speakers == [{"voice": "anna", "n": 2, "labels": ["female"], "accuracy": 100.0},
                               {"voice": "bob", "n": 2, "labels": ["male"], "accuracy": 0.0}]
    assert gender.phrasing["forms"] == {"direct": {"n": 2, "accuracy": 50.0}, "yes_no": {"n": 2, "accuracy": 50.0}}
    # train asked "Is the speaker male or female?" only: the yes/no phrasing is unseen
    assert gender.phrasing["seen"] == {"n": 2, "accuracy": 50.0} and gender.phrasing["unseen"]["n"] == 2


def test_open_requests_are_compared_with_the_text_llm(bench, tmp_path):
    result = _run(bench, ScriptedSLM(HEARD), ScriptedText(cascade={"req0": "Pancakes"}), tmp_path)
    (request,) = result.open
    assert request.n == 1 and request.speech["rouge_l"] == pytest.approx(1.0)
    assert request.speech["length_ratio"] == pytest.approx(1.0)
    assert request.cascade["rouge_l"] < 0.2
    assert request.cascade["length_ratio"] == pytest.approx(1 / len(RECIPE.split()))  # "Pancakes" for a recipe
    # against the text LLM on the same transcript (the cascade's answer): the recipe is far from "Pancakes"
    assert request.same_transcript["rouge_l"] == pytest.approx(request.cascade["rouge_l"])
    assert request.same_transcript["length_ratio"] == pytest.approx(len(RECIPE.split()))
    assert load_bench(bench, "test")[-1].kind == OPEN
    assert "| request | 1 | 1.00 (1.00–1.00) | 1.00 |" in (tmp_path / "out-test" / "results.md").read_text()


def test_open_scores_carry_a_bootstrap_interval():
    items = [SimpleNamespace(id=f"r{i}") for i in range(40)]
    references = {item.id: "mix the flour and the eggs then fry" for item in items}
    # half the answers copy the reference (ROUGE-L 1), half share no word with it (0): mean 0.5, clearly uncertain
    answers = {item.id: references[item.id] if i % 2 else "pancakes" for i, item in enumerate(items)}
    scores = diag.open_scores(items, answers, references)
    low, high = scores["rouge_l_interval"]
    assert scores["rouge_l"] == pytest.approx(0.5) and 0.3 < low < 0.5 < high < 0.7
    assert diag.open_scores(items, references, references)["rouge_l_interval"] == pytest.approx([1.0, 1.0])
    assert diag.open_scores([], {}, {})["rouge_l_interval"] is None


def test_rouge_l_fallback_matches_rouge_score():
    pairs = [("the cat sat on the mat", "the cat is on the mat"), ("a b c d", "d c b a"), ("yes", "no")]
    for candidate, reference in pairs:
        assert diag._lcs_rouge_l(candidate, reference) == pytest.approx(diag.rouge_l(candidate, reference))


def test_systems_without_variants_report_na(bench, tmp_path):
    class Endpoint:
        name, batch_size = "endpoint", 4

        def answer_audio(self, queries):
            return [HEARD[q.audio_path.stem] for q in queries]

    result = evaluate_items(load_bench(bench, "test"), ScriptedText(), Endpoint(), progress=False)
    assert result.cascade_system is None and not result.neutral_available and result.bootstrap is None
    assert all(t.neutral is None and t.cascade is None and t.agreement is None for t in result.semantic)
    from textpro.eval.report import markdown_table

    row = "| mcq_facts | 4 | 100.0 | 100.0 | +0.0 | 0.0 | 0.0 | +0.0 | n/a | n/a | n/a | n/a |"
    assert row in markdown_table(result)
    assert all(t.text_self_agreement is None for t in result.semantic)  # no agreement, no reference asked
    assert result.agreement_bootstrap is None


def test_ledger_records_test_splits_only(bench, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "textpro_config.json").write_text('{"seed": 1}')
    (model / "weights.safetensors").write_bytes(b"0")
    ledger = tmp_path / "results" / "ledger.jsonl"
    _run(bench, ScriptedSLM(HEARD), ScriptedText(), tmp_path, split="dev", ledger=ledger, model_dir=model)
    assert not ledger.exists()
    _run(bench, ScriptedSLM(HEARD), ScriptedText(), tmp_path, split="test", ledger=ledger, model_dir=model)
    (line,) = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert line["split"] == "test" and line["config_hash"] == config_hash(model)
    assert line["n"] == {"mcq_facts": 4, "mcq_arithmetic": 2, "gender": 4, "rate": 2, "request": 1}
    assert line["headline"]["paralinguistic"]["gender"]["rule_accuracy"] == 100.0
    assert line["headline"]["bootstrap"]["n"] == 6 and line["git_sha"]
    assert line["headline"]["agreement_bootstrap"]["agreement"] == 100.0
    assert line["headline"]["average"]["text_self_agreement"] == 100.0
    before = config_hash(model)
    (model / "weights.safetensors").write_bytes(b"1")  # weights are not config
    assert config_hash(model) == before
    (model / "textpro_config.json").write_text('{"seed": 2}')
    assert config_hash(model) != before


def test_diagnostics_on_a_tiny_slm(tmp_path, smollm2_dir, whisper_tiny_en_dir, one_thread):
    """A real TextPro-SLM (tiny LLM, Whisper tiny.en): a fresh projector ignores the prosody (zero last layer), so
    the prosody-neutral answers agree with the heard ones; a projector that reads the prosody moves them."""
    import shutil
    from pathlib import Path

    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from textpro.eval.bench import items_from_records
    from textpro.eval.responders import AudioQuery, speech_responder_for_model
    from textpro.slm import TextProSLM, TextProSLMConfig

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    torch.manual_seed(0)
    llm = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                       bos_token_id=1, eos_token_id=2, pad_token_id=2))
    config = TextProSLMConfig(base_llm=str(smollm2_dir), whisperpro="whisper-tiny.en", d_whisper=384)
    TextProSLM.from_base(config, llm=llm, tokenizer=tokenizer).save_pretrained(tmp_path / "slm")
    example = Path(__file__).resolve().parents[1] / "examples" / "hello.wav"
    for name in ("a", "b"):
        shutil.copy(example, tmp_path / f"{name}.wav")
    items = items_from_records([
        {"id": "q", "audio": "a.wav", "prompt": MCQ_ITEMS[0][1], "reference": "B", "task": "mcq_facts"},
        {"id": "g", "audio": "b.wav", "reference": "female", "task": "gender", "labels": ["male", "female"],
         "instruction": "Is the speaker male or female?"}], base_dir=tmp_path)

    responder = speech_responder_for_model(tmp_path / "slm", max_new_tokens=4, batch_size=2)
    assert responder.has_neutral and responder.has_transcript
    text = ScriptedText()
    fresh = evaluate_items(items, text, responder, progress=False)
    assert fresh.neutral_available and fresh.cascade_system.startswith("cascade:textpro-slm:")
    assert fresh.semantic[0].agreement == 100.0 and fresh.paralinguistic[0].agreement == 100.0
    assert any("never said she stole my money" in prompt.lower() for prompt in text.prompts)

    slm, asked, listened = responder.pipeline.slm, [], []
    generate, listen = slm.generate, responder.pipeline.listen
    slm.generate = lambda requests, **kw: asked.append(requests) or generate(requests, **kw)
    responder.pipeline.listen = lambda audio: listened.append(audio) or listen(audio)
    queries = [AudioQuery(i.audio_path, i.instruction) for i in items]
    variants = responder.answer_audio_variants(queries)
    assert len(listened) == 1 and len(asked) == 2  # one transcription, two generations
    heard, neutral = asked
    assert [s.text for s, _ in heard] == [s.text for s, _ in neutral] == [v["transcript"] for v in variants]
    mean = slm.projector.input_mean.numpy()
    assert all(np.allclose(s.prosody, mean) and not np.allclose(h.prosody, mean)
               for (s, _), (h, _) in zip(neutral, heard, strict=True))
    assert [v["answer"] for v in variants] == responder.answer_audio(queries)


def test_no_diagnostics_asks_the_slm_as_heard_only(bench, tmp_path):
    slm, text = ScriptedSLM(HEARD), ScriptedText()
    result = _run(bench, slm, text, tmp_path, diagnostics=False)
    assert slm.asked == 0 and result.cascade_system is None and not result.neutral_available
    assert not any(prompt.startswith(("transcript ", " ")) or prompt.endswith((" ", "\n")) for prompt in text.prompts)
    gender = next(t for t in result.paralinguistic if t.task == "gender")
    assert gender.rule["accuracy"] == 100.0 and gender.histogram is not None  # the model-free diagnostics stay
