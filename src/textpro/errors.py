"""Typed errors a user can cause. The CLI prints their one-line message and exits 2."""


class TextproError(Exception):
    """Base class: something about the user's input, model or configuration is wrong."""


class AudioError(TextproError, ValueError):
    """Audio that cannot be used: unreadable, empty, silent, NaN, too long, absurd sample rate."""


class ModelError(TextproError):
    """A model name or directory that cannot be resolved, installed or converted."""


class ConfigError(TextproError, ValueError):
    """A configuration file or option that is malformed or inconsistent."""


class DataError(TextproError, ValueError):
    """A dataset folder or label file that cannot be imported: missing, unknown kind, malformed."""
