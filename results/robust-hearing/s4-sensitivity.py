"""Does a TextPro-SLM's gender answer follow the measured F0? (results/robust-hearing.md, session 4)

For 40 training gender clips asked "Is the speaker male or female?": the logit of "female" minus "male" at the first
answer token, its correlation with the clip's F0 feature, and two counterfactuals (the F0 feature set to −1 / +1
octave; every clip's learned WhisperPro vector replaced by clip 0's).

    python results/robust-hearing/s4-sensitivity.py MODEL [FEATURES]
"""

import sys

import numpy as np
import torch

from textpro.slm import TextProSLM
from textpro.slm.featurize import FeatureStore

QUESTION = "Is the speaker male or female?"


def female_minus_male(slm, records) -> np.ndarray:
    female, male = slm.tokenizer.encode("female")[0], slm.tokenizer.encode("male")[0]
    batch = slm.builder.build_generation_batch([(r, QUESTION) for r in records])
    with torch.no_grad():
        embeds = slm.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])
        logits = slm.llm(inputs_embeds=embeds, attention_mask=batch["attention_mask"]).logits[:, -1]  # (B, V)
    return (logits[:, female] - logits[:, male]).numpy()


def main() -> None:
    torch.set_num_threads(2)
    slm = TextProSLM.from_pretrained(sys.argv[1]).eval()
    store = FeatureStore(sys.argv[2] if len(sys.argv) > 2 else "runs/mini/features/train")
    rows = [i for i, e in enumerate(store.index) if e["manifest"].get("task") == "gender"][:40]
    records = [store[i] for i in rows]
    is_female = np.array([store.index[i]["manifest"]["gender"] == "female" for i in rows])
    f0 = np.array([r["acoustics"][0] for r in records])  # f0_median_oct

    gap = female_minus_male(slm, records)
    print(f"female - male logit: female clips {gap[is_female].mean():.2f}, male clips {gap[~is_female].mean():.2f}; "
          f"correlation with F0 {np.corrcoef(gap, f0)[0, 1]:.2f}; "
          f"accuracy at the median {((gap > np.median(gap)) == is_female).mean():.2f}")
    for octave in (-1.0, 1.0):
        moved = [{**r, "acoustics": np.array([octave, *r["acoustics"][1:]], dtype=np.float32)} for r in records]
        print(f"F0 feature := {octave:+.0f}: mean gap {female_minus_male(slm, moved).mean():.2f}")
    fixed = [{**r, "utterance": records[0]["utterance"], "prosody": records[0]["prosody"]} for r in records]
    gap = female_minus_male(slm, fixed)
    print(f"learned vector fixed to clip 0: correlation with F0 {np.corrcoef(gap, f0)[0, 1]:.2f}, "
          f"accuracy at the median {((gap > np.median(gap)) == is_female).mean():.2f}")


if __name__ == "__main__":
    main()
