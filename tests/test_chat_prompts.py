"""The written distillation prompts never carry a spoken request's topic (of any split) into training."""

import re

from textpro.data import chat_prompts, requests

COMMON = {"a", "an", "the", "my", "i", "to", "of", "and", "in", "on", "for", "is", "it", "me", "do", "you", "at",
          "with", "can", "what", "how", "why", "tell", "about", "some", "give", "or"}


def topic_words(filler) -> set[str]:
    text = " ".join(filler) if isinstance(filler, tuple) else filler
    return set(re.findall(r"[a-z]+", text.lower())) - COMMON


def test_no_request_topic_in_the_written_prompts():
    request_topics = [topic_words(f) for fillers in requests.FILLERS.values() for f in fillers]
    for fillers in chat_prompts.FILLERS.values():
        for filler in fillers:
            mine = topic_words(filler)
            clashes = [t for t in request_topics if t and t <= mine]
            assert not clashes, f"{filler!r} holds a spoken request's topic {clashes[0]}"


def test_prompts_are_distinct_seeded_and_none_is_a_spoken_request():
    prompts = chat_prompts.chat_prompts()
    assert len(prompts) == len(set(prompts)) > 800
    assert chat_prompts.chat_prompts(limit=50, seed=3) == chat_prompts.chat_prompts(seed=3)[:50]
    assert chat_prompts.chat_prompts(seed=3) != prompts
    spoken = {text for split in requests.REQUEST_SPLITS for _, text in requests.requests_for(split)}
    assert not spoken & set(prompts)
