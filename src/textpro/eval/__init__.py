"""Evaluation: the modality gap (text LLM on text − speech LLM on speech) and paralinguistic accuracy.

    from textpro.eval import TextLLMResponder, EndpointResponder, evaluate
    result = evaluate("bench/", "test", TextLLMResponder.from_pretrained("smollm2-135m-instruct"),
                      EndpointResponder("http://localhost:8000"), out_dir="eval-out")

Modules: `extract` (answer extraction), `bench` (benchmark items), `voicebench` (VoiceBench local copies),
`responders` (the TextResponder / SpeechResponder interfaces and implementations), `harness` (asking, caching,
scoring), `report` (JSON, Markdown, PNG), `cli` (`textpro eval`).
"""

from importlib import import_module

# Names are imported on first use, so `textpro --help` does not pay for numpy, tqdm and the audio stack.
_EXPORTS = {
    "Item": "bench", "load_bench": "bench",
    "Extraction": "extract", "extract_choice": "extract", "match_label": "extract", "parse_options": "extract",
    "seeded_fallback": "extract",
    "EvalResult": "harness", "evaluate": "harness", "evaluate_items": "harness", "run_and_report": "harness",
    "AudioQuery": "responders", "CascadeResponder": "responders", "EndpointResponder": "responders",
    "SpeechResponder": "responders", "TextLLMResponder": "responders", "TextResponder": "responders",
    "speech_responder_for_model": "responders",
    "load_voicebench": "voicebench", "voicebench_items": "voicebench",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"textpro.eval.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'textpro.eval' has no attribute {name!r}")
