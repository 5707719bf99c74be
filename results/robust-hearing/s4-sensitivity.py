import sys, torch, numpy as np
from textpro.slm import TextProSLM
from textpro.slm.featurize import FeatureStore
torch.set_num_threads(2)
slm = TextProSLM.from_pretrained(sys.argv[1]).eval()
store = FeatureStore("runs/mini/features/train")
g = [(i, e["manifest"]) for i, e in enumerate(store.index) if e["manifest"].get("task") == "gender"][:40]
tok = slm.tokenizer
fem, mal = tok.encode("female")[0], tok.encode("male")[0]
q = "Is the speaker male or female?"
def diff(recs):
    b = slm.builder.build_generation_batch([(r, q) for r in recs])
    with torch.no_grad():
        emb = slm.embed(b["input_ids"], b["prosody_vectors"], b["prosody_mask"])
        lg = slm.llm(inputs_embeds=emb, attention_mask=b["attention_mask"]).logits[:, -1]
    return (lg[:, fem] - lg[:, mal]).numpy()
recs = [store[i] for i, _ in g]
y = np.array([m["gender"] == "female" for _, m in g])
f0 = np.array([r["acoustics"][0] for r in recs])
d = diff(recs)
print("diff female-male: mean fem %.2f male %.2f; corr with f0 %.2f; acc %.2f" % (d[y].mean(), d[~y].mean(), np.corrcoef(d, f0)[0, 1], ((d > np.median(d)) == y).mean()))
# counterfactual: same clips, acoustics f0 set to +1 / -1 octave-ish
for v in (-1.0, 1.0):
    rr = [{**r, "acoustics": np.array([v, *r["acoustics"][1:]], dtype=np.float32)} for r in recs]
    print("f0 :=", v, "mean diff %.2f" % diff(rr).mean())
rr = [{**r, "utterance": recs[0]["utterance"], "prosody": recs[0]["prosody"]} for r in recs]
dd = diff(rr); print("learned vector fixed to clip 0: corr with f0 %.2f, acc %.2f" % (np.corrcoef(dd, f0)[0, 1], ((dd > np.median(dd)) == y).mean()))
