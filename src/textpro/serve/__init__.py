"""HTTP serving: an OpenAI-compatible API (chat with audio, transcriptions, text completions) and a web page, over
one model.

    from textpro.serve import ServeSettings, create_app
    app = create_app(TextPro.untrained(), ServeSettings(), model_id="textpro-untrained-smollm2-135m-instruct")

`textpro serve` (serve/cli.py) does the same from the command line and runs it with uvicorn.
"""

from textpro.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str):
    # the app pulls in FastAPI; importing the settings alone (for the CLI's --help) should not
    if name == "create_app":
        from textpro.serve.app import create_app

        return create_app
    raise AttributeError(name)
