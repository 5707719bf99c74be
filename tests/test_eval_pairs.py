"""`textpro eval` on pair items (spoken StoryCloze, `textpro data import spoken-storycloze`): the story in, each ending
scored by mean log-probability, the likelier one chosen; text, speech, cascade and prosody-neutral rows beside the
other semantic tasks. Scripted scorers for the harness; tiny random LLMs (and Whisper tiny.en) for the real ones."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from textpro.data.importers import import_dataset
from textpro.errors import ConfigError, DataError
from textpro.eval import pairs
from textpro.eval.bench import PAIR, items_from_records, load_bench
from textpro.eval.harness import evaluate_items

FIXTURE = Path(__file__).parent / "fixtures" / "importers" / "spoken-storycloze"
GOOD = ("happy now", "took the puppy home")  # the fixture's correct endings


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """The importer fixture (sSC and tSC, two stories each) imported as `textpro eval --bench` reads it."""
    out = tmp_path_factory.mktemp("ssc")
    import_dataset("spoken-storycloze", FIXTURE, out / "test.jsonl")
    return out


def test_story_and_endings_split_at_the_first_differing_word():
    story, endings = pairs.story_and_endings({"a": "Ann wanted a dog. She took the puppy home.",
                                              "b": "Ann wanted a dog. she decided she hated dogs"})
    assert story == "Ann wanted a dog. She"  # case and punctuation do not split a shared word
    assert endings == {"a": "took the puppy home.", "b": "decided she hated dogs"}
    with pytest.raises(DataError, match="no two endings"):
        pairs.story_and_endings({"a": "The same story.", "b": "The same story."})
    assert pairs.without_last_words("one two three four", 2) == "one two"
    assert pairs.without_last_words("one two", 5) == ""
    assert pairs.choice(pairs.response({"a": -1.5, "b": -0.5})) == "b"
    assert pairs.choice(pairs.response({"a": -0.5, "b": -1.5})) == "a"
    assert pairs.choice(pairs.response({"a": -1.0, "b": -1.0})) == ""  # a tie chooses nothing


def test_imported_pairs_load_as_pair_items(bench):
    items = load_bench(bench)
    assert len(items) == 4 and {i.kind for i in items} == {PAIR}
    assert {i.task for i in items} == {"sstorycloze", "tstorycloze"}
    for item in items:
        assert item.letters == "ab" and item.reference in "ab" and item.audio_path == item.option_audio["a"]
        assert all(path.is_file() for path in item.option_audio.values())
        correct = item.options[item.reference]
        assert any(good in correct for good in GOOD)  # the reference letter names the correct ending's clip
    with pytest.raises(ConfigError, match="options_audio"):
        items_from_records([{"kind": "pair", "reference": "A", "options_audio": {"A": "a.wav"}}])
    with pytest.raises(ConfigError, match="options_text"):
        items_from_records([{"kind": "pair", "reference": "A", "options_audio": {"A": "a.wav", "B": "b.wav"},
                             "options_text": {"A": "x"}}])


class Scorer:
    """A text LLM that likes the fixture's correct endings (or the wrong ones); records what it was asked."""

    def __init__(self, name="text-llm", prefer_good=True):
        self.name, self.batch_size, self.prefer_good, self.turns = name, 2, prefer_good, []

    def response_logprobs(self, turns):
        self.turns += [tuple(t) for t in turns]
        return [-1.0 if any(g in ending for g in GOOD) == self.prefer_good else -2.0 for _, ending in turns]


class ScriptedSLM:
    """score_pairs as the SLMResponder answers it: right as heard, a tie with the prosody neutral, and a transcript
    whose story drops the ending."""

    name, batch_size, has_neutral, has_transcript = "slm", 2, True, True

    def __init__(self):
        self.queries = []

    def answer_audio_variants(self, queries):
        raise AssertionError("pairs are not answered")

    def score_pairs(self, queries, neutral=True):
        self.queries += queries
        rows = []
        for query in queries:
            good = {k: any(g in t for g in GOOD) for k, t in query.texts.items()}
            rows.append({"speech": {k: -1.0 if g else -3.0 for k, g in good.items()},
                         "neutral": {"a": -2.0, "b": -2.0} if neutral else None,
                         "transcript": {k: ["the spoken story", t.split(".")[-2]] for k, t in query.texts.items()}})
        return rows


def test_pairs_are_semantic_rows_with_gap_cascade_and_neutral(bench, tmp_path):
    items = load_bench(bench)
    text, slm = Scorer(), ScriptedSLM()
    cache = tmp_path / "responses.jsonl"
    result = evaluate_items(items, text, slm, cache_path=cache, progress=False)
    rows = {t.task: t for t in result.semantic}
    assert set(rows) == {"sstorycloze", "tstorycloze"}
    for row in rows.values():
        assert row.n == 2 and row.text.accuracy == 100.0 and row.speech.accuracy == 100.0 and row.gap == 0.0
        assert row.neutral.failed == 2 and row.agreement == 0.0  # ties: no choice, nothing agrees with a letter
        assert row.cascade.accuracy == 100.0
    # the text LLM read each story's text and scored its two endings; the cascade read the SLM's transcripts
    story = "Rick grew up in a troubled household."
    asked = [turn for turn in text.turns if turn[0].startswith(story)]
    # sSC's version of the story, each ending after the words they share ("He"), and tSC's
    assert sorted(ending for _, ending in asked) == ["He is happy now.", "The cake was delicious.", "is happy now.",
                                                     "joined a gang."]
    assert sum(user == "the spoken story" for user, _ in text.turns) == 8
    assert result.bootstrap["n"] == 4 and result.averages()["gap"] == 0.0

    again_text, again_slm = Scorer(), ScriptedSLM()  # a rerun reads every score from the cache
    again = evaluate_items(items, again_text, again_slm, cache_path=cache, progress=False)
    assert not again_text.turns and not again_slm.queries
    assert [t.to_dict() for t in again.semantic] == [t.to_dict() for t in result.semantic]

    wrong = evaluate_items(items, Scorer(name="contrarian", prefer_good=False), None, progress=False)
    assert all(t.text.accuracy == 0.0 and t.speech is None for t in wrong.semantic)


def test_pairs_without_texts_score_speech_only_and_endpoints_are_refused(bench):
    records = [json.loads(line) for line in (bench / "test.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("options_text")
    items = items_from_records(records, base_dir=bench)
    text = Scorer()

    class TranscriptSLM(ScriptedSLM):
        def score_pairs(self, queries, neutral=True):
            assert all(q.texts is None for q in queries)
            return [{"speech": {"a": -1.0, "b": -1.5}, "neutral": None, "transcript": None} for _ in queries]

    result = evaluate_items(items, text, TranscriptSLM(), progress=False, diagnostics=False)
    assert all(t.text is None and t.speech.n == 2 for t in result.semantic) and not text.turns

    class Endpoint:
        name, batch_size = "endpoint", 2

        def answer_audio(self, queries):
            return ["A"] * len(queries)

    with pytest.raises(ConfigError, match="no likelihoods"):
        evaluate_items(items, text, Endpoint(), progress=False)


def _tiny_llama(tokenizer, seed=0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                        bos_token_id=1, eos_token_id=2, pad_token_id=2)).eval()


def test_text_llm_response_logprobs_are_the_endings_mean_log_probability(smollm2_dir, one_thread):
    import torch
    from transformers import AutoTokenizer

    from textpro.eval.responders import TextLLMResponder
    from textpro.text_llm import chat_prompt_ids

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    responder = TextLLMResponder(_tiny_llama(tokenizer), tokenizer, name="tiny")
    turns = [("Ann wanted a dog. She went to the shelter.", "She took the puppy home."),
             ("Rick grew up.", "He is happy now, and he has been for a long while.")]
    batched = responder.response_logprobs(turns)
    assert batched == pytest.approx([responder.response_logprobs([t])[0] for t in turns], abs=1e-4)  # padding-free
    user, ending = turns[0]
    prompt = chat_prompt_ids(tokenizer, user)
    answer = tokenizer.encode(ending, add_special_tokens=False)
    with torch.inference_mode():
        logits = responder.model(input_ids=torch.tensor([prompt + answer])).logits[0]
    manual = sum(torch.log_softmax(logits[len(prompt) + j - 1], -1)[token].item() for j, token in enumerate(answer))
    assert batched[0] == pytest.approx(manual / len(answer), abs=1e-4)


def test_a_tiny_slm_scores_the_imported_fixture(bench, smollm2_dir, whisper_tiny_en_dir, one_thread):
    """End to end on the importer fixture: a tiny random TextPro-SLM on Whisper tiny.en, a tiny random text LLM."""
    import numpy as np
    from transformers import AutoTokenizer

    from textpro.eval.responders import TextLLMResponder, speech_responder_for_model
    from textpro.slm import TextProSLM, TextProSLMConfig

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    config = TextProSLMConfig(base_llm=str(smollm2_dir), whisperpro="whisper-tiny.en", d_whisper=384)
    TextProSLM.from_base(config, llm=_tiny_llama(tokenizer), tokenizer=tokenizer).save_pretrained(bench / "slm")
    slm = speech_responder_for_model(bench / "slm", batch_size=4)
    text = TextLLMResponder(_tiny_llama(tokenizer, seed=1), tokenizer, name="tiny-text")
    items = load_bench(bench)
    result = evaluate_items(items, text, slm, progress=False)
    assert [t.task for t in result.semantic] == ["sstorycloze", "tstorycloze"]
    for row in result.semantic:
        for side in (row.text, row.speech, row.neutral, row.cascade):
            assert side.n == 2 and not math.isnan(side.accuracy)
        assert row.agreement == 100.0  # a fresh projector ignores the prosody: neutral scores choose alike
    assert result.cascade_system.startswith("cascade:textpro-slm:") and result.bootstrap["n"] == 4

    # the story as heard: the clip's tokens and prosody vectors before its ending's words
    (row,) = slm.score_pairs([pairs_query(items[0])], neutral=False)
    assert set(row["speech"]) == {"a", "b"} and all(np.isfinite(v) for v in row["speech"].values())
    assert row["transcript"] is None or all(isinstance(s, str) for s, _ in row["transcript"].values())


def pairs_query(item):
    from textpro.eval.responders import PairQuery

    return PairQuery(item.option_audio, item.options)


def test_without_last_words_cuts_tokens_prosody_and_text(whisper_tiny_en_dir, one_thread):
    import numpy as np

    from textpro.whisperpro import Transcriber

    transcriber = Transcriber.from_pretrained(whisper_tiny_en_dir)
    speech = transcriber.transcribe(str(Path(__file__).resolve().parents[1] / "examples" / "hello.wav"))
    story = transcriber.without_last_words(speech, 2)
    words = speech.text.split()
    assert story.text.split() == words[:-2] and len(story.words) == len(speech.words) - 2
    n = len(story.token_ids)
    assert 0 < n < len(speech.token_ids) and story.token_ids == speech.token_ids[:n] and len(story.prosody) == n
    assert np.allclose(story.utterance, speech.prosody[:n].mean(axis=0))
    assert transcriber.without_last_words(speech, 0) is speech
    assert transcriber.without_last_words(speech, 100).token_ids == []
