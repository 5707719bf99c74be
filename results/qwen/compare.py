"""The SmolLM2 default beside the Qwen mini recipe's SLM: one markdown table from two `textpro eval` results.json.

    python results/qwen/compare.py runs/cmp/smollm2-test_unseen/results.json runs/cmp/qwen-test_unseen/results.json
"""

import json
import sys
from pathlib import Path


def rows(result: dict) -> dict[str, str]:
    average, semantic = result["average"], result["semantic"][0]
    out = {
        "semantic items (n)": str(semantic["n"]),
        "teacher, text accuracy %": f"{average['text_accuracy']:.1f}",
        "SLM, speech accuracy %": f"{average['speech_accuracy']:.1f}",
        "gap (text − speech)": f"{average['gap']:+.1f}",
        "cascade (WhisperPro transcript → teacher) %": f"{average['cascade_accuracy']:.1f}",
        "SLM − cascade, paired bootstrap mean [95% CI]":
            f"{result['bootstrap']['mean_difference']:+.1f} [{result['bootstrap']['low']:+.1f}, "
            f"{result['bootstrap']['high']:+.1f}]",
        "prosody-neutral accuracy % / agreement %": f"{average['neutral_accuracy']:.1f} / {average['agreement']:.1f}",
    }
    for task in result["paralinguistic"]:
        out[f"{task['task']} % (n {task['n']}; F0/rate rule)"] = \
            f"{task['speech']['accuracy']:.1f} ({task['rule']['accuracy']:.1f})"
    out["paralinguistic average %"] = f"{average['paralinguistic_accuracy']:.1f}"
    for task in result.get("open", []):
        out[f"{task['task']} ROUGE-L vs teacher (n {task['n']}) / length ratio"] = \
            f"{task['speech']['rouge_l']:.2f} / {task['speech']['length_ratio']:.2f}"
    return out


def main(paths: list[str]) -> None:
    results = [json.loads(Path(path).read_text()) for path in paths]
    tables = [rows(result) for result in results]
    print("| " + " | ".join(["", *(r["speech_system"] for r in results)]) + " |")
    print("|---" * (len(results) + 1) + "|")
    for key in tables[0]:
        print("| " + " | ".join([key, *(table.get(key, "—") for table in tables)]) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
