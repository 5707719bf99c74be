"""The mini text LLM: the text LLM fine-tuned on the mini world's semantic questions, as text. The mini recipe
uses it as distillation's teacher and as the SLM's base LLM ("teacher" names only the distillation role).

The paper distils from "the original text LLM". SmolLM2-135M-Instruct, our CPU default, answers the mini world's
multiple-choice questions at about chance, so a teacher that cannot answer them would distil nothing. The mini
recipe therefore fine-tunes it first on the *text* of the train split's questions and uses that model as the
teacher and as the SLM's starting point (README "Mini recipe", results/teacher.md).

One training example is one chat turn, exactly as the eval harness asks it (`TextLLMResponder`: the chat template
with the default system prompt, the question and its options as the user turn):

    input_ids = chat_template(user=prompt, add_generation_prompt=True) + tokens(answer) + <eos>
    labels    = -100 over the prompt; the answer tokens and <eos> are learned (the model learns to stop)

The answer is "B. twelve" (letter, full stop, option text): the harness's extraction reads the leading letter, and
the option text keeps the model saying something a person can read.

Examples come from the benchmark's train JSONL (the semantic records), plus optionally more questions drawn afresh
from the *train templates* (`generated_questions`): same templates, new slot values, never a dev/test template.

    textpro train text-llm --config configs/teacher-mini.yaml [--resume] [--output DIR]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

from textpro.errors import ConfigError
from textpro.text_llm import chat_prompt_ids
from textpro.train.config import TrainConfig, load_config
from textpro.train.kind import IGNORE_INDEX, run_training

ANSWER_FORMATS = ("letter_text", "text_letter", "letter")


@dataclass
class TextLLMTrainingConfig:
    model: str = "smollm2-135m-instruct"  # base text LLM: a textpro.hub name or an HF causal-LM directory
    train_file: str = ""  # benchmark JSONL (make-mini's train.jsonl); its records with MCQ prompts are used
    generated_questions: int = 0  # extra questions drawn from the train templates (0 = the JSONL only)
    generation_seed: int = 1  # seed of those extra questions (the benchmark itself uses --seed, default 0)
    answer_format: str = "letter_text"  # "letter_text": "B. twelve"; "text_letter": "twelve (B)"; "letter": "B"
    # Also ask each question the way it is spoken ("... A, ten. B, twelve. ..." on one line): distillation gives the
    # teacher ASR transcripts of the spoken questions, not the lettered-lines text prompt.
    spoken_variants: bool = True
    # Keep ordinary chat: the base model's own greedy answers to CHAT_PROMPTS (generated once, cached in the run
    # directory as chat_targets.jsonl) make up this share of the examples. Without them the teacher answers
    # "Who wrote Romeo and Juliet?" with "A. William Shakespeare" (0 = off).
    chat_share: float = 0.15
    chat_max_new_tokens: int = 128  # base answers that do not end within this are dropped (no cut-off targets)
    system_prompt: str | None = None  # None: the chat template's default, as the eval harness asks
    max_length: int = 256  # longer examples are an error (none of the mini world's come close)
    # Train only the top N decoder layers and the final norm (embeddings, tied to the output head, and the lower
    # layers frozen: the backward pass stops at layer L−N, ~40% less compute for N = L/3); None = every weight.
    trainable_layers: int | None = None
    # A LoRA adapter instead of weights (peft LoraConfig arguments; with trainable_layers, only on those top layers):
    # the teacher is then an adapter of a few MB that `resolve_model` merges over the base (the embedded default
    # ships it). None = fine-tune the weights themselves.
    lora: dict | None = None
    train: TrainConfig = field(default_factory=lambda: TrainConfig(output_dir="runs/teacher"))

    def __post_init__(self):
        if self.answer_format not in ANSWER_FORMATS:
            raise ConfigError(f"answer_format must be one of {', '.join(ANSWER_FORMATS)}, got {self.answer_format!r}")
        if self.trainable_layers is not None and self.trainable_layers < 1:
            raise ConfigError(f"trainable_layers must be ≥ 1 or null, got {self.trainable_layers}")
        if not 0 <= self.chat_share < 1:
            raise ConfigError(f"chat_share must be in [0, 1), got {self.chat_share}")
        if self.generated_questions < 0:
            raise ConfigError(f"generated_questions must be ≥ 0, got {self.generated_questions}")

    @classmethod
    def from_yaml(cls, path, overrides=()) -> TextLLMTrainingConfig:
        return load_config(cls, path, overrides)


# ---- data -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QA:
    prompt: str  # the question and its lettered options, as the text LLM is asked
    answer: str  # the target response, e.g. "B. twelve"


def format_answer(letter: str, answer_text: str | None, answer_format: str = "letter_text") -> str:
    letter = letter.strip().upper()
    if answer_format == "letter" or not answer_text:
        return letter
    if answer_format == "text_letter":  # the option first, so the first answer token is a content word, not a letter
        return f"{answer_text} ({letter})"
    return f"{letter}. {answer_text}"


def read_questions(path, answer_format: str = "letter_text", spoken: bool = False) -> list[QA]:
    """The multiple-choice records of a benchmark JSONL as (prompt, answer) pairs; other records are skipped.
    spoken: also each record's spoken text (its `text` field) as a second prompt with the same answer."""
    from textpro.data.jsonl import parse_jsonl
    from textpro.data.labels import parse_options

    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    pairs = []
    for _, record in parse_jsonl(lines, path, ConfigError):
        prompt, reference = str(record.get("prompt", "")), str(record.get("reference", ""))
        options = parse_options(prompt)
        if len(reference) != 1 or reference.lower() not in options:
            continue  # a paralinguistic record (label reference), or not multiple choice
        answer_text = record.get("answer_text") or options[reference.lower()]
        answer = format_answer(reference, answer_text, answer_format)
        pairs.append(QA(prompt, answer))
        if spoken and isinstance(record.get("text"), str) and record["text"].strip():
            pairs.append(QA(record["text"].strip(), answer))
    return pairs


def generate_questions(count: int, seed: int, answer_format: str = "letter_text", split: str = "train",
                       spoken: bool = False) -> list[QA]:
    """`count` fresh questions from the split's templates (round-robin over templates, seeded); with `spoken`,
    each also as its spoken text."""
    from textpro.data import questions

    templates = questions.templates_for(split)
    rng = np.random.default_rng([seed, 7919])
    pairs = []
    for index in range(count):
        question = questions.make_question(templates[index % len(templates)], rng)
        answer = format_answer(question.reference, question.choices[question.answer], answer_format)
        pairs.append(QA(question.prompt(), answer))
        if spoken:
            pairs.append(QA(question.spoken(), answer))
    return pairs


def encode_example(tokenizer, qa: QA, system_prompt: str | None = None, max_length: int = 256) -> dict:
    """{"input_ids", "labels"}: the loss sees the answer and the end-of-turn token only."""
    prompt_ids = chat_prompt_ids(tokenizer, qa.prompt, system_prompt)  # as `TextLLMResponder` asks (text_llm.py)
    answer_ids = tokenizer(qa.answer, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
    input_ids = prompt_ids + answer_ids
    if len(input_ids) > max_length:
        raise ConfigError(f"a teacher example is {len(input_ids)} tokens, over max_length {max_length}: "
                          f"{qa.prompt[:60]!r}")
    return {"input_ids": input_ids, "labels": [IGNORE_INDEX] * len(prompt_ids) + answer_ids}


class QADataset(Dataset):
    def __init__(self, pairs: list[QA], tokenizer, system_prompt: str | None = None, max_length: int = 256):
        if not pairs:
            raise ConfigError("no multiple-choice questions to train the teacher on")
        self.examples = [encode_example(tokenizer, qa, system_prompt, max_length) for qa in pairs]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        return self.examples[index]

    @property
    def lengths(self) -> list[int]:
        return [len(e["input_ids"]) for e in self.examples]


class Collator:
    """Right padding; padded positions are masked out of attention and loss."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        ids = [torch.tensor(e["input_ids"]) for e in examples]
        return {
            "input_ids": pad_sequence(ids, batch_first=True, padding_value=self.pad_id),
            "attention_mask": pad_sequence([torch.ones(len(i), dtype=torch.long) for i in ids], batch_first=True),
            "labels": pad_sequence([torch.tensor(e["labels"]) for e in examples], batch_first=True,
                                   padding_value=IGNORE_INDEX),
        }


# ---- objective --------------------------------------------------------------------------------------------------

class TeacherObjective(nn.Module):
    """Causal-LM cross-entropy on the answer tokens; saves a plain HF model + tokenizer directory."""

    def __init__(self, llm, tokenizer, base_model: str | None = None):
        super().__init__()
        self.llm = llm
        self.tokenizer = tokenizer
        self.base_model = base_model  # with a LoRA adapter: the base's name, written into the adapter's config

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = self.llm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
        return {"loss": out.loss}

    def save_pretrained(self, directory) -> None:
        if self.base_model is not None:  # the adapter only; the tokenizer is the base's
            from textpro.hub.adapters import save_adapter

            save_adapter(self.llm, directory, self.base_model)
            return
        self.llm.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)


def freeze_below_top_layers(llm, n: int) -> None:
    """requires_grad only for the top `n` decoder layers and the final norm (HF decoder-only LMs: model.layers)."""
    layers = llm.get_decoder().layers
    if n > len(layers):
        raise ConfigError(f"trainable_layers {n} is more than the model's {len(layers)} layers")
    llm.requires_grad_(False)
    for layer in layers[len(layers) - n:]:
        layer.requires_grad_(True)
    llm.get_decoder().norm.requires_grad_(True)


# Everyday requests of the kinds a voice assistant gets, none multiple choice: the teacher must keep answering them
# in prose. Targets come from the base model itself (self-distillation), so they add no knowledge, only keep habits.
CHAT_PROMPTS = [
    "What is the capital of Italy?", "Who painted the Mona Lisa?", "How many days are there in a week?",
    "What do bees make?", "Why is the sky blue?", "What is the boiling point of water?",
    "Give me two tips for staying focused while studying.", "How do I make a cup of tea?",
    "Write a two-line poem about autumn.", "What should I pack for a day at the beach?",
    "Tell me a fun fact about elephants.", "What is a good name for a pet goldfish?",
    "Can you explain what a noun is?", "How can I save money on groceries?", "What is the largest planet?",
    "Describe a rainy day in one sentence.", "What does a doctor do?", "How do plants get energy?",
    "Suggest a healthy breakfast.", "What is the opposite of hot?", "Why do we need sleep?",
    "Translate 'good morning' into Spanish.", "What are the primary colours?", "How do I say thank you politely?",
    "What is the difference between a lake and a sea?", "Give me a simple recipe for pancakes.",
    "What happens when water freezes?", "Who was Albert Einstein?", "What is the tallest animal?",
    "How can I be kinder to my neighbours?", "What is a good way to start a conversation?",
    "Summarise the story of Cinderella in two sentences.", "What is the sun made of?",
    "Why do leaves change colour in autumn?", "How many legs does a spider have?", "What is exercise good for?",
    "Recommend a hobby for a rainy weekend.", "What is a haiku?", "How does a bicycle work?",
    "What time of year is best for planting flowers?",
]


def _repetitive(text: str) -> bool:
    """Degenerate loops ("Boil an egg:\n\nBoil an egg: …"): under half of the word 4-grams are distinct."""
    words = text.split()
    grams = [tuple(words[i:i + 4]) for i in range(len(words) - 3)]
    return len(grams) >= 8 and len(set(grams)) < len(grams) / 2


def chat_targets(llm, tokenizer, cache: Path, system_prompt: str | None, max_new_tokens: int) -> list[QA]:
    """The base model's greedy answers to CHAT_PROMPTS that ended on their own and do not loop; cached in `cache`."""
    if cache.is_file():
        return [QA(**json.loads(line)) for line in cache.read_text(encoding="utf-8").splitlines() if line.strip()]
    from textpro.text_llm import greedy_answers, greedy_config, render_chat

    llm.eval()
    generation_config = greedy_config(llm, tokenizer, max_new_tokens)
    kept = []
    for start in range(0, len(CHAT_PROMPTS), 8):
        prompts = CHAT_PROMPTS[start:start + 8]
        chats = [render_chat(tokenizer, prompt, system_prompt) for prompt in prompts]
        answers = greedy_answers(llm, tokenizer, chats, generation_config=generation_config)
        for prompt, answer in zip(prompts, answers, strict=True):
            finished = len(tokenizer(answer, add_special_tokens=False).input_ids) < max_new_tokens - 1
            if answer and finished and not _repetitive(answer):
                kept.append(QA(prompt, answer))
    llm.train()
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("".join(json.dumps({"prompt": q.prompt, "answer": q.answer}) + "\n" for q in kept),
                     encoding="utf-8")
    return kept


def with_chat_share(questions: list[QA], chat: list[QA], share: float) -> list[QA]:
    """Questions plus the chat examples repeated so that they are about `share` of the result."""
    if not chat or share <= 0:
        return questions
    repeats = max(1, round(share * len(questions) / ((1 - share) * len(chat))))
    return questions + chat * repeats


def build(config: TextLLMTrainingConfig):
    """(objective, dataset, collator) for a teacher config."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from textpro.hub import resolve_model

    if not config.train_file:
        raise ConfigError("train_file is not set")
    pairs = read_questions(config.train_file, config.answer_format, config.spoken_variants)
    pairs += generate_questions(config.generated_questions, config.generation_seed, config.answer_format,
                                spoken=config.spoken_variants)
    directory = resolve_model(config.model)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    llm = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
    if config.lora:
        from peft import LoraConfig, get_peft_model

        settings = dict(config.lora)
        if config.trainable_layers is not None:
            n_layers = len(llm.get_decoder().layers)
            settings.setdefault("layers_to_transform", list(range(n_layers - config.trainable_layers, n_layers)))
    elif config.trainable_layers is not None:
        freeze_below_top_layers(llm, config.trainable_layers)
    if config.chat_share > 0:
        cache = Path(config.train.output_dir) / "chat_targets.jsonl"
        chat = chat_targets(llm, tokenizer, cache, config.system_prompt, config.chat_max_new_tokens)
        pairs = with_chat_share(pairs, chat, config.chat_share)
    dataset = QADataset(pairs, tokenizer, config.system_prompt, config.max_length)
    if config.lora:  # after the chat targets: those are the base model's own answers
        llm = get_peft_model(llm, LoraConfig(**settings))
        return TeacherObjective(llm, tokenizer, config.model), dataset, Collator(tokenizer.pad_token_id)
    return TeacherObjective(llm, tokenizer), dataset, Collator(tokenizer.pad_token_id)


def run(config: TextLLMTrainingConfig, resume: bool = False, stop_after: int | None = None):
    """Train as configured (`textpro.train.kind.run_training`); returns the loop's TrainResult (the teacher in
    `<output_dir>/model`)."""
    return run_training(config, lambda: build(config), "teacher", resume=resume, stop_after=stop_after)
