"""Session 29: a steadier instrument for the open answers? The 53 dev_unseen requests' greedy ROUGE-L moves by ~0.03
between soups of one recipe (session 28): one flipped token sends a greedy answer elsewhere. Here the cascade's answer
(the text LLM's greedy answer to the same WhisperPro transcript, from request_diag.py's --jsonl; the same for every
model below: one WhisperPro, one teacher) is forced through each SLM as heard, and per answer token:
  KL(text LLM on the transcript ‖ SLM as heard), the argmax agreement, the first flip, the answer's mean log-prob.
Teacher-forced, these read every token of every answer, not only the tokens before the first flip; if they rank the
models as ROUGE-L does, a session can choose on them with less noise.
  fidelity.py REQUESTS_JSONL OUT_JSONL NAME=MODEL_DIR ...   (bench: runs/s15/bigreq, split dev_unseen)
"""
import json
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from textpro.pipeline import TextPro
from textpro.train.kind import IGNORE_INDEX

BENCH, SPLIT = Path("runs/s15/bigreq"), "dev_unseen"
answers, out_path, models = sys.argv[1], Path(sys.argv[2]), [a.split("=", 1) for a in sys.argv[3:]]
rows = {r["id"]: r for r in map(json.loads, open(BENCH / f"{SPLIT}.jsonl")) if r["task"] == "request"}
done = [json.loads(line) for line in open(answers)]
finished = {json.loads(line)["name"] for line in open(out_path)} if out_path.exists() else set()
speech = None
for name, model in models:
    if name in finished:
        continue
    pipe = TextPro.from_pretrained(model)
    slm = pipe.slm
    if speech is None:  # every model here shares the default's WhisperPro: listen once
        speech = pipe.listen([str(BENCH / rows[d["id"]]["audio"]) for d in done])
        assert [s.text for s in speech] == [d["transcript"] for d in done], "another WhisperPro than the jsonl's"
    kl, agree, first, logprob = [], [], [], []
    with torch.inference_mode():
        for s, d in zip(speech, done, strict=True):
            example = slm.builder.example(s, None, d["cascade"])
            batch = slm.builder.collate([example], "right")
            ids, labels = batch["input_ids"][0], batch["labels"][0]  # (L,)
            student = slm.forward(**{k: v for k, v in batch.items() if k != "labels"}).logits[0]  # (L, V)
            text_only = ids != slm.placeholder_id  # the text LLM's view: the same row without the placeholder
            with slm.llm.disable_adapter():  # the adapter's base is the text LLM (the default's teacher)
                teacher = slm.llm(input_ids=ids[text_only][None], use_cache=False).logits[0]  # (L - 1, V)
            at = (labels[1:] != IGNORE_INDEX).nonzero().squeeze(-1)[:-1]  # predicting answer tokens; not the end
            at_teacher = (labels[text_only][1:] != IGNORE_INDEX).nonzero().squeeze(-1)[:-1]  # of turn (cut at 48)
            s_logits, t_logits = student[:-1][at].float(), teacher[:-1][at_teacher].float()  # (K, V) each
            target = labels[1:][at]
            log_s, log_t = F.log_softmax(s_logits, -1), F.log_softmax(t_logits, -1)
            kl.append(float((log_t.exp() * (log_t - log_s)).sum(-1).mean()))
            wrong = s_logits.argmax(-1) != target
            agree.append(1 - float(wrong.float().mean()))
            first.append(int(wrong.nonzero()[0]) if wrong.any() else len(wrong))
            logprob.append(float(log_s.gather(1, target[:, None]).mean()))
    line = {"name": name, "model": model, "kl": statistics.mean(kl), "agree": statistics.mean(agree),
            "first_flip_median": statistics.median(first), "logprob": statistics.mean(logprob),
            "per_request_kl": kl, "per_request_agree": agree, "per_request_first_flip": first}
    with open(out_path, "a") as f:
        f.write(json.dumps(line) + "\n")
    print(f"{name}: KL {line['kl']:.4f}, argmax agreement {100 * line['agree']:.1f}%, first flip (median) "
          f"{line['first_flip_median']}, log-prob {line['logprob']:.3f}", flush=True)
