"""Reading JSONL: every reader numbers the lines the same way and names the one that is not JSON as file:line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def parse_jsonl(lines: Iterable[str], source: object, error: type[Exception]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of each non-blank line, numbered from 1 as in the file. A line that is not JSON
    raises `error` ("<source>:<number>: not valid JSON (<reason>)"): each caller keeps its own error type (a config
    reader a ConfigError, an importer a DataError). Checking what the value holds is the caller's."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{source}:{number}: not valid JSON ({exc.msg})") from None
        yield number, value
