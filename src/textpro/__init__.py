"""textpro: TextPro-SLM, a speech LLM whose spoken input looks like a prosody-aware text LLM's input."""

__version__ = "0.1.0"
