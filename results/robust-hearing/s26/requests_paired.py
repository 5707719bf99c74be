"""Session 26: is one arm's requests ROUGE-L really above another's? The 53 dev_unseen requests (s15/request_diag.py's
--jsonl files) paired by item: each arm's ROUGE-L against the text LLM's answer to the same transcript, and the mean
difference of every arm from the first with its 95% paired-bootstrap interval (textpro's paired_bootstrap, 10,000
resamples; in ROUGE-L points x 100).
  requests_paired.py BASE.jsonl ARM.jsonl...
  (e.g. runs/s26/requests-hacc85-s7.jsonl runs/s24/requests-ctl65-s7.jsonl)"""
import json
import sys
from pathlib import Path

from textpro.eval.diagnostics import paired_bootstrap, rouge_l


def scores(path: Path) -> dict[str, float]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["id"]: rouge_l(r["heard"], r["cascade"]) for r in rows}


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]]
    base = scores(paths[0])
    print(f"| arm | n | ROUGE-L vs the same transcript | − {paths[0].stem.removeprefix('requests-')} (95% CI) |")
    print("|---|---|---|---|")
    for path in paths:
        arm = scores(path)
        ids = sorted(base.keys() & arm.keys())
        b = paired_bootstrap([arm[i] for i in ids], [base[i] for i in ids], resamples=10_000)
        print(f"| {path.stem.removeprefix('requests-')} | {len(ids)} | {sum(arm[i] for i in ids) / len(ids):.3f} "
              f"| {b['mean_difference'] / 100:+.3f} ({b['low'] / 100:+.3f} … {b['high'] / 100:+.3f}) |")


if __name__ == "__main__":
    main()
