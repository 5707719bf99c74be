"""Session 29: on the 300 spoken questions of a test record, how often is the SLM's answer the very answer of its own
cascade (the text LLM on the same transcript), and how often the answer it gives with the voice at its training mean?
The content line's interval is as wide as the first share is low.
  cascade_identity.py EVAL_DIR...   (textpro eval --out directories: responses.jsonl)
"""
import json
import sys
from collections import defaultdict
from pathlib import Path

for run in sys.argv[1:]:
    answers = defaultdict(dict)  # side -> item id -> response
    for row in map(json.loads, open(Path(run) / "responses.jsonl")):
        if row["task"] == "semantic":
            answers[row["side"]][row["id"]] = row["response"].strip()
    speech = answers["speech"]
    shares = {side: 100 * sum(speech[i] == answers[side][i] for i in speech) / len(speech)
              for side in ("cascade", "neutral")}
    print(f"{run}: n {len(speech)}, the same answer as its cascade {shares['cascade']:.1f}%, "
          f"as itself with the voice at its mean {shares['neutral']:.1f}%")
