"""Talking to a text LLM: the one chat-prompt renderer and the one batched greedy generator.

    text = render_chat(tokenizer, "What is 2 + 2?")                  # the chat up to the assistant's turn
    full = render_chat(tokenizer, "What is 2 + 2?", assistant="4")    # the whole exchange (no generation prompt)
    answers = greedy_answers(llm, tokenizer, [text], max_new_tokens=32)

A chat is the LLM's own template around [system (only when a system prompt is given), user, assistant]. Everyone
who shows a text LLM a chat renders it here: the eval's `TextLLMResponder`, distillation's teacher
(`slm.distill`), the teacher's training examples (`train.text_llm`) and the SLM's input builder (`slm.inputs`), so
the text the teacher is trained on, asked in distillation and scored on is the same string.

`greedy_answers` pads on the left itself (every answer then starts at the same position): the tokenizer's shared
`padding_side` and `pad_token` are left as they are. `response_logprobs` scores given responses instead of
generating them (the mean log-probability per response token: how `textpro eval` scores spoken StoryCloze's pairs);
`span_logprobs` is its arithmetic, shared with the TextPro-SLM's own scorer.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence


def chat_messages(user: str, system_prompt: str | None = None, assistant: str | None = None) -> list[dict]:
    """[system (if a system prompt is given), user, assistant (if given)] as chat-template messages."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": user})
    if assistant is not None:
        messages.append({"role": "assistant", "content": assistant})
    return messages


def render_chat(tokenizer, user: str, system_prompt: str | None = None, *, assistant: str | None = None) -> str:
    """The chat as text: up to the assistant's turn (a generation prompt), or with `assistant` the whole exchange.
    The text holds the template's own special tokens: tokenize it with `add_special_tokens=False`."""
    if assistant is None:
        return tokenizer.apply_chat_template(chat_messages(user, system_prompt), tokenize=False,
                                             add_generation_prompt=True)
    return tokenizer.apply_chat_template(chat_messages(user, system_prompt, assistant), tokenize=False)


def chat_prompt_ids(tokenizer, user: str, system_prompt: str | None = None) -> list[int]:
    """Token ids of the chat up to the assistant's turn."""
    return tokenizer(render_chat(tokenizer, user, system_prompt), add_special_tokens=False).input_ids


def pad_id(tokenizer) -> int:
    """The id padded positions hold (they are masked out): the pad token, else end-of-sequence."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def left_padded(rows: Sequence[Sequence[int]], pad: int):
    """(input_ids, attention_mask), both (B, L): token id rows padded on the left with `pad` (every answer then
    starts at the same position)."""
    import torch

    width = max(len(row) for row in rows)
    input_ids = torch.tensor([[pad] * (width - len(row)) + list(row) for row in rows])
    attention_mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in rows])
    return input_ids, attention_mask


def greedy_config(model, tokenizer, max_new_tokens: int):
    """The model's generation config with sampling off (greedy, one beam), whatever sampling defaults the checkpoint
    ships with: answers must be deterministic. A copy; the model's own is left as it is."""
    config = copy.deepcopy(model.generation_config)
    for key in ("temperature", "top_p", "top_k", "min_p", "typical_p"):
        setattr(config, key, None)
    config.do_sample = False
    config.num_beams = 1
    config.max_new_tokens = max_new_tokens
    config.pad_token_id = pad_id(tokenizer)
    return config


def greedy_answers(model, tokenizer, prompts: Sequence[str], max_new_tokens: int | None = None, *,
                   generation_config=None) -> list[str]:
    """Greedy answers (stripped) of a causal LM to rendered prompts (`render_chat`), as one left-padded batch with a
    KV cache. Give `max_new_tokens`, or a `generation_config` from `greedy_config`."""
    import torch

    if not prompts:
        return []
    if generation_config is None:
        generation_config = greedy_config(model, tokenizer, max_new_tokens)
    rows = tokenizer(list(prompts), add_special_tokens=False).input_ids  # the template holds its special tokens
    input_ids, attention_mask = left_padded(rows, pad_id(tokenizer))
    width = input_ids.shape[1]
    with torch.inference_mode():
        out = model.generate(input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                             generation_config=generation_config)  # (B, L + new)
    return [t.strip() for t in tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)]


def span_logprobs(logits, input_ids, spans: Sequence[tuple[int, int]]) -> list[float]:
    """Per row, the mean log-probability of its tokens input_ids[row, start:end] under the logits of the positions
    before them. logits (B, L, V), input_ids (B, L); spans: (start, end) per row, 1 <= start < end <= L."""
    import torch

    scores = []
    for row, (start, end) in enumerate(spans):
        if not 1 <= start < end <= input_ids.shape[1]:
            raise ValueError(f"row {row}: span ({start}, {end}) is empty or outside 1..{input_ids.shape[1]}")
        log_probs = torch.log_softmax(logits[row, start - 1:end - 1].float(), dim=-1)  # (end - start, V)
        picked = log_probs.gather(-1, input_ids[row, start:end].to(log_probs.device)[:, None])
        scores.append(float(picked.mean()))
    return scores


def response_logprobs(model, tokenizer, turns: Sequence[tuple[str, str]],
                      system_prompt: str | None = None) -> list[float]:
    """The mean log-probability per token of each (user, response) turn's response as the assistant's answer, in one
    right-padded forward pass (right: left padding would shift the positions of a model given no position ids). The
    response is tokenized apart from the prompt, as the SLM's input builder does, and the end of turn not scored."""
    import torch

    if not turns:
        return []
    rows, spans = [], []
    for user, response in turns:
        prompt = chat_prompt_ids(tokenizer, user, system_prompt)
        answer = tokenizer.encode(response.strip(), add_special_tokens=False)
        if not answer:
            raise ValueError(f"empty response to score after {user[:40]!r}")
        rows.append(prompt + answer)
        spans.append((len(prompt), len(prompt) + len(answer)))
    width = max(len(row) for row in rows)
    input_ids = torch.tensor([row + [pad_id(tokenizer)] * (width - len(row)) for row in rows])
    attention_mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows])
    with torch.inference_mode():
        logits = model(input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device)).logits
    return span_logprobs(logits, input_ids, spans)
