"""textpro: TextPro-SLM, a speech LLM whose spoken input looks like a prosody-aware text LLM's input.

Layers, top to bottom; each imports only from the layers below it (import-linter contracts in pyproject.toml,
checked by tests/test_layers.py; no import cycles either, between packages or between a package's modules):

    cli                       the command line: the parser, and the commands that combine layers (transcribe, demo,
                              chat, train); a package's own commands sit in its cli.py (data, slm, eval, serve, recipe)
    recipe                    orchestration: step graphs that run `textpro` commands, writing only under --out
    demo | serve              the embedded default on its example clips | the OpenAI-compatible HTTP server
    eval                      benchmarks, responders (SLMResponder among them), scoring, results, reports
    pipeline                  TextPro: WhisperPro + TextPro-SLM, audio in, answer out
    int8                      CPU int8: dynamic quantization of a loaded TextPro's Linear layers (serve, chat)
    slm                       TextPro-SLM: projector, inputs, model, featurize, distill, its kind of training
    whisperpro                the Whisper that emits tokens, times and prosody vectors; its kind of training
    train                     the shared training loop, config loading, the kinds of training; the mini text LLM
    data | hub | text_llm     the mini world and label matching | base models and adapters | chat rendering, generation
    acoustics                 F0 and energy measurements
    audio                     loading, resampling, log-mel (the audio constants)
    console | errors          terminal helpers the commands share | the error types

A lower layer that needs something from a higher one takes it as an argument or a registration (e.g. WhisperPro
registers itself with hub.adapters to merge Whisper adapters), never by importing upward.
"""

__version__ = "0.1.0"
