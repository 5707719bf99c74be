"""The teacher stage: data formatting (answer-only loss), and a few steps on a tiny LLM that stop and resume."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from textpro.errors import ConfigError
from textpro.eval.extract import extract_choice
from textpro.train import TrainConfig
from textpro.train.text_llm import (
    IGNORE_INDEX,
    QA,
    Collator,
    TextLLMTrainingConfig,
    encode_example,
    format_answer,
    generate_questions,
    read_questions,
    run,
)

RECORDS = [
    {"id": "train-semantic-00000", "task": "semantic", "prompt": "What is two plus two?\nA. three\nB. four\nC. five\n"
     "D. six", "reference": "B", "answer_text": "four"},
    {"id": "train-gender-00000", "task": "gender", "prompt": "What is the speaker's gender?", "reference": "female"},
    {"id": "train-semantic-00001", "task": "semantic", "prompt": "Which is a fruit?\nA. apple\nB. chair\nC. car\n"
     "D. shoe", "reference": "A"},  # no answer_text: taken from the prompt's options
]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def train_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return path


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory, smollm2_dir) -> Path:
    """A random 2-layer Llama with the real SmolLM2 tokenizer and chat template."""
    directory = tmp_path_factory.mktemp("tiny-llm")
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         bos_token_id=1, eos_token_id=2, pad_token_id=2, attention_dropout=0.1)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def test_read_questions_keeps_mcq_records_only(train_file):
    pairs = read_questions(train_file)
    assert [p.answer for p in pairs] == ["B. four", "A. apple"]
    assert pairs[0].prompt == RECORDS[0]["prompt"]
    assert [p.answer for p in read_questions(train_file, "letter")] == ["B", "A"]


def test_answers_are_what_the_eval_extraction_reads():
    for letter, text in [("A", "apple"), ("B", "a dog"), ("C", "twelve"), ("D", "D-day"), ("A", "a cat")]:
        for answer_format in ("letter_text", "text_letter", "letter"):
            answer = format_answer(letter, text, answer_format)
            assert extract_choice(answer).choice == letter.lower(), answer
    assert format_answer("b", "twelve", "text_letter") == "twelve (B)"


def test_generated_questions_are_seeded_and_answerable():
    pairs = generate_questions(50, seed=3)
    assert len(pairs) == 50 and pairs == generate_questions(50, seed=3)
    assert pairs != generate_questions(50, seed=4)
    for pair in pairs:
        letter = extract_choice(pair.answer).choice
        assert f"\n{letter.upper()}. {pair.answer[3:]}" in pair.prompt  # the answer is the option it names


def test_loss_mask_covers_the_answer_and_end_of_turn_only(smollm2_dir):
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    qa = QA("What is two plus two?\nA. three\nB. four", "B. four")
    example = encode_example(tokenizer, qa)
    ids, labels = example["input_ids"], example["labels"]
    learned = [i for i, label in zip(ids, labels, strict=True) if label != IGNORE_INDEX]
    assert tokenizer.decode(learned) == "B. four<|im_end|>"
    # The prompt part is exactly what the eval harness feeds the model before it answers.
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": qa.prompt}], tokenize=False,
                                           add_generation_prompt=True)
    n_prompt = labels.count(IGNORE_INDEX)
    assert tokenizer.decode(ids[:n_prompt]) == prompt
    assert labels[n_prompt:] == ids[n_prompt:]
    with pytest.raises(ConfigError, match="over max_length"):
        encode_example(tokenizer, qa, max_length=10)


def test_collator_pads_right_and_masks_padding():
    batch = Collator(pad_id=0)([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]},
                                {"input_ids": [5, 6], "labels": [-100, 6]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 6, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [-100, 6, -100]]


def test_shipped_config_loads():
    config = TextLLMTrainingConfig.from_yaml(Path(__file__).parents[1] / "configs" / "teacher-mini.yaml")
    assert config.model == "smollm2-135m-instruct" and config.answer_format == "text_letter"
    assert config.lora and config.trainable_layers  # an adapter on the top layers: what the default ships
    assert config.train.max_steps and config.train.output_dir
    with pytest.raises(ConfigError, match="answer_format"):
        TextLLMTrainingConfig(answer_format="essay")


def tiny_config(model, train_file, output) -> TextLLMTrainingConfig:
    return TextLLMTrainingConfig(
        model=str(model), train_file=str(train_file), generated_questions=6, chat_max_new_tokens=8,
        train=TrainConfig(output_dir=str(output), max_steps=4, batch_size=2, micro_batch_size=1, learning_rate=1e-3,
                          warmup_steps=1, log_every=1, save_every=2, keep_last=1))


@pytest.mark.slow
def test_teacher_trains_stops_and_resumes_like_an_uninterrupted_run(tiny_llm, train_file, tmp_path):
    straight = run(tiny_config(tiny_llm, train_file, tmp_path / "straight"))
    assert straight.step == 4
    stopped = run(tiny_config(tiny_llm, train_file, tmp_path / "resumed"), stop_after=2)
    assert stopped.model_dir is None
    resumed = run(tiny_config(tiny_llm, train_file, tmp_path / "resumed"), resume=True)
    assert resumed.step == 4

    a, b = (load_file(r.model_dir / "model.safetensors") for r in (straight, resumed))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0, msg=name)
    # The result is a plain HF causal-LM directory, with its tokenizer: what `textpro eval --text-model` loads.
    assert (resumed.model_dir / "tokenizer.json").is_file() and (resumed.model_dir / "config.json").is_file()
    assert (tmp_path / "resumed" / "config.yaml").is_file()


@pytest.mark.slow
def test_cli_teacher_stage(tiny_llm, train_file, tmp_path, capsys):
    import yaml

    from textpro.cli import main

    config = tmp_path / "teacher.yaml"
    config.write_text(yaml.safe_dump({"model": str(tiny_llm), "train_file": str(train_file),
                                      "chat_max_new_tokens": 8,
                                      "train": {"max_steps": 2, "batch_size": 2, "micro_batch_size": 2,
                                                "warmup_steps": 0, "log_every": 1}}))
    assert main(["train", "text-llm", "--config", str(config), "--output", str(tmp_path / "run")]) == 0
    out = capsys.readouterr()
    assert "trained 2 steps" in out.out and "deprecated" not in out.err
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    bad = tmp_path / "bad.yaml"
    bad.write_text("train_file: ''\n")
    assert main(["train", "teacher", "--config", str(bad)]) == 2  # the old name, for one release
    err = capsys.readouterr().err
    assert "train_file is not set" in err and "textpro train 'teacher' is deprecated, use 'text-llm'" in err


def test_spoken_variants_ask_the_same_question_as_spoken(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({**RECORDS[0], "text": "What is two plus two? A, three. B, four. C, five. D, six."})
                    + "\n")
    pairs = read_questions(path, spoken=True)
    assert [p.prompt.splitlines()[0] for p in pairs] == ["What is two plus two?",
                                                          "What is two plus two? A, three. B, four. C, five. D, six."]
    assert {p.answer for p in pairs} == {"B. four"}
    generated = generate_questions(3, seed=0, spoken=True)
    assert len(generated) == 6 and generated[0].answer == generated[1].answer and "\n" not in generated[1].prompt


def test_trainable_layers_freezes_everything_below(tiny_llm):
    from textpro.train.text_llm import freeze_below_top_layers

    llm = LlamaForCausalLM.from_pretrained(tiny_llm)
    freeze_below_top_layers(llm, 1)
    trainable = {n.split(".")[2] if n.startswith("model.layers") else n for n, p in llm.named_parameters()
                 if p.requires_grad}
    assert trainable == {"1", "model.norm.weight"}  # top layer + final norm; embeddings (tied head) frozen
    with pytest.raises(ConfigError, match="more than the model's 2 layers"):
        freeze_below_top_layers(llm, 3)


def test_chat_examples_keep_their_share_and_loops_are_dropped():
    from textpro.train.text_llm import _repetitive, with_chat_share

    questions = [QA(f"q{i}", "A. x") for i in range(85)]
    chat = [QA("hi", "Hello! How can I help?"), QA("tea?", "Boil water, add tea.")]
    mixed = with_chat_share(questions, chat, 0.15)
    assert mixed[:85] == questions and abs((len(mixed) - 85) / len(mixed) - 0.15) < 0.02
    assert with_chat_share(questions, [], 0.15) == questions and with_chat_share(questions, chat, 0) == questions
    assert _repetitive("Boil an egg:\n\n" * 10) and not _repetitive("Boil water, add an egg, wait nine minutes, "
                                                                   "then cool it in cold water before peeling it.")
