"""Session 28: how stable is the text LLM's own open answer to a slightly different input? The 53 dev_unseen requests
of `s15/request_diag.py --jsonl`, split by whether WhisperPro's transcript equals the written text (lower case,
letters, digits and spaces only): the text LLM's answer to the transcript (the cascade) against its answer to the text,
beside the SLM's answer (heard, and heard with the adapter off) against both. Also the common prefix in words of each
answer with the cascade's (greedy answers part at one token and never meet again).
  requests_floor.py runs/s26/requests-soup65x4.jsonl > results/robust-hearing/s28/requests-floor.md
"""
import json
import statistics
import sys

from textpro.eval.diagnostics import rouge_l


def words(text: str) -> list[str]:
    return "".join(c for c in text.lower() if c.isalnum() or c == " ").split()


def common_prefix(a: str, b: str) -> int:
    a, b = a.split(), b.split()
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def main() -> None:
    rows = [json.loads(line) for line in open(sys.argv[1])]
    groups = {"transcript = text": [r for r in rows if words(r["text"]) == words(r["transcript"])],
              "transcript ≠ text": [r for r in rows if words(r["text"]) != words(r["transcript"])], "all": rows}
    print(f"`{sys.argv[1]}`: ROUGE-L (mean) of each answer against the text LLM's answer to the written text / to the "
          "same transcript, and the median common prefix with the cascade's answer in words.\n")
    print("| requests | n | answer | vs text | vs same transcript | common prefix (words) |")
    print("|---|---|---|---|---|---|")
    for name, group in groups.items():
        for key in ("cascade", "heard", "heard-noadapter", "neutral"):
            text = statistics.mean(rouge_l(r[key], r["reference"]) for r in group)
            same = statistics.mean(rouge_l(r[key], r["cascade"]) for r in group)
            prefix = statistics.median(common_prefix(r[key], r["cascade"]) for r in group)
            print(f"| {name} | {len(group)} | {key} | {text:.3f} | {same:.3f} | {prefix:g} |")


if __name__ == "__main__":
    main()
