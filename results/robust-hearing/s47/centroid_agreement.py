"""Session 47: agreement against an *on-manifold* neutral voice. The prosody-neutral diagnostic feeds the projector's
training-mean input, whose projected vector lies off the clips' own (s47/geometry.txt). Here every placeholder reads
instead the mean of the 300 dev_unseen clips' own projected vectors, rescaled to the norm bound where they sit (a
"centroid voice"), transcript kept: the share of answers identical to the heard ones, and the accuracy, beside
`textpro eval`'s mean voice (devcheck.sh's cache for g 1.0, checked item by item against the heard answers here).

    OMP_NUM_THREADS=2 .venv/bin/python results/robust-hearing/s47/centroid_agreement.py \
        > results/robust-hearing/s47/centroid_agreement.txt
"""
import sys
from pathlib import Path

import torch

from textpro.eval.bench import load_bench
from textpro.eval.harness import agreement, score_mcq
from textpro.eval.responders import SLMResponder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from swap_agreement import DEFAULT, cached  # noqa: E402


def main() -> None:
    items = [i for i in load_bench("runs/s12/bigsem", "dev_unseen") if i.task == "semantic"]
    responder = SLMResponder.from_pretrained(DEFAULT)
    slm = responder.pipeline.slm
    speech = responder.pipeline.listen([str(i.audio_path) for i in items])
    turns = list(zip(speech, [i.instruction for i in items], strict=True))
    heard = slm.generate(turns, max_new_tokens=responder.max_new_tokens)
    projector = slm.projector
    with torch.no_grad():
        rows = torch.stack([torch.from_numpy(slm.builder.speech(s)[1][0]) for s in speech])  # (300, d + k)
        outputs = projector(rows.to(projector.linear_in.weight))  # (300, d_llm)
        centroid = outputs.mean(0)
        centroid = centroid * float(outputs.norm(dim=1).median()) / centroid.norm()
        cos = torch.nn.functional.cosine_similarity(outputs, centroid[None], dim=1)
    forward = projector.forward
    projector.forward = lambda prosody: centroid.to(prosody.device).expand(*prosody.shape[:-1], -1)
    centroid_answers = slm.generate(turns, max_new_tokens=responder.max_new_tokens)
    projector.forward = forward
    answers = {"heard": heard, "centroid voice": centroid_answers}
    by_id = {name: {i.id: a for i, a in zip(items, got, strict=True)} for name, got in answers.items()}
    same = sum(cached("speech")[i.id].strip() == by_id["heard"][i.id].strip() for i in items)
    print(f"{len(items)} questions; heard answers equal textpro eval's on {same}; the clips' projected vectors: cosine "
          f"to the centroid median {float(cos.median()):.3f} (min {float(cos.min()):.3f}), norm "
          f"{float(centroid.norm()):.2f}")
    by_id["mean voice (textpro eval)"] = cached("neutral")
    print("| answers | accuracy | identical to heard |\n|---|---|---|")
    for name, got in by_id.items():
        print(f"| {name} | {score_mcq(items, got).accuracy:.1f} | {agreement(items, by_id['heard'], got):.1f} |")


if __name__ == "__main__":
    main()
