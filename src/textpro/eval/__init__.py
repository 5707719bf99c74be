"""Evaluation: the modality gap (text LLM on text − speech LLM on speech) and paralinguistic accuracy.

    from textpro.eval import TextLLMResponder, EndpointResponder, evaluate
    result = evaluate("bench/", "test", TextLLMResponder.from_pretrained("smollm2-135m-instruct"),
                      EndpointResponder("http://localhost:8000"), out_dir="eval-out")

Modules: `extract` (answer extraction), `bench` (benchmark items), `voicebench` (VoiceBench local copies),
`responders` (the TextResponder / SpeechResponder interfaces and implementations), `harness` (asking, caching,
scoring), `report` (JSON, Markdown, PNG).
"""

from textpro.eval.bench import Item, load_bench
from textpro.eval.extract import Extraction, extract_choice, match_label, parse_options, seeded_fallback
from textpro.eval.harness import EvalResult, evaluate, evaluate_items, run_and_report
from textpro.eval.responders import (
    AudioQuery,
    CascadeResponder,
    EndpointResponder,
    SpeechResponder,
    TextLLMResponder,
    TextResponder,
    speech_responder_for_model,
)
from textpro.eval.voicebench import load_voicebench, voicebench_items

__all__ = [
    "AudioQuery", "CascadeResponder", "EndpointResponder", "EvalResult", "Extraction", "Item", "SpeechResponder",
    "TextLLMResponder", "TextResponder", "evaluate", "evaluate_items", "extract_choice", "load_bench",
    "load_voicebench", "match_label", "parse_options", "run_and_report", "seeded_fallback",
    "speech_responder_for_model", "voicebench_items",
]
