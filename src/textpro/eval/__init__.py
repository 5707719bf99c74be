"""Evaluation: the modality gap (text LLM on text − speech LLM on speech) and paralinguistic accuracy.

    from textpro.eval import TextLLMResponder, EndpointResponder, evaluate
    result = evaluate("bench/", "test", TextLLMResponder.from_pretrained("smollm2-135m-instruct"),
                      EndpointResponder("http://localhost:8000"), out_dir="eval-out")

Modules: `extract` (answer extraction), `bench` (benchmark items), `voicebench` (VoiceBench local copies),
`responders` (the TextResponder / SpeechResponder interfaces and implementations, SLMResponder among them),
`harness` (asking, caching, scoring), `results` (what an evaluation produces), `report` (JSON, Markdown, PNG),
`cli` (`textpro eval`).
"""

# Names are imported on first use, so `textpro --help` does not pay for numpy, tqdm and the audio stack.
_EXPORTS = {
    "bench": ("Item", "load_bench"),
    "extract": ("Extraction", "extract_choice", "match_label", "parse_options", "seeded_fallback"),
    "harness": ("evaluate", "evaluate_items", "run_and_report"),
    "results": ("EvalResult",),
    "responders": ("AudioQuery", "CascadeResponder", "EndpointResponder", "SLMResponder", "SpeechResponder",
                   "TextLLMResponder", "TextResponder", "speech_responder_for_model"),
    "voicebench": ("load_voicebench", "voicebench_items"),
}
__all__ = sorted(name for names in _EXPORTS.values() for name in names)


def __getattr__(name: str):
    # Explicit imports (no module names in strings): readers, ruff and import-linter see every dependency.
    if name in _EXPORTS["bench"]:
        from textpro.eval import bench as module
    elif name in _EXPORTS["extract"]:
        from textpro.eval import extract as module
    elif name in _EXPORTS["harness"]:
        from textpro.eval import harness as module
    elif name in _EXPORTS["results"]:
        from textpro.eval import results as module
    elif name in _EXPORTS["responders"]:
        from textpro.eval import responders as module
    elif name in _EXPORTS["voicebench"]:
        from textpro.eval import voicebench as module
    else:
        raise AttributeError(f"module 'textpro.eval' has no attribute {name!r}")
    return getattr(module, name)
