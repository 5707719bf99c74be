"""Session 26: would a measured vocal-tract feature hear the recorded high-pitched men that F0 cannot?

The acoustic branch of the projector reads F0, pitch range, energy range, rate, pauses and voicing
(textpro.acoustics.ACOUSTIC_FEATURES): nothing about the vocal tract. Carlo Flora (median F0 178 Hz) and Kennedy
(223 Hz) are men that the F0 rule and the default call female. This measures, for each clip, the median F1–F3 of its
voiced frames (LPC on 8 kHz audio, so telephone and wideband clips are read alike) and a vocal-tract length from them
(uniform-tube estimate, mean over F1–F3 of (2i−1)·c / 4Fi), fits three rules on the mini world's train clips (F0
threshold, vocal-tract-length threshold, and a two-feature logistic regression) and scores them on the recorded
clips (per speaker) and on dev_unseen (flite voices, the unseen engine: scored, never fitted on).

LPC, root-solving and the regression are written here in numpy/scipy (~40 lines): Praat's formant tracker
(praat-parselmouth) is the field's tool, but it is not a project dependency, and this is a diagnostic.
  formants.py [N_TRAIN]   (default 480 train clips, stratified by gender; recorded clips from /tmp/recorded)
"""
import json
import sys
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import soundfile as sf
import soxr
from scipy.linalg import solve_toeplitz

from textpro.acoustics import FRAME_SECONDS, Tracks
from textpro.eval.diagnostics import balanced_accuracy
from textpro.eval.rules import fit_rule

RATE, LPC_RATE, ORDER = 16_000, 8_000, 10  # LPC order 10 at 8 kHz: up to five resonances below 4 kHz
SOUND_SPEED = 35_000.0  # cm/s


def lpc_formants(frame: np.ndarray) -> list[float]:
    """Resonances (Hz) of one pre-emphasised, windowed 8 kHz frame: LPC roots with bandwidth < 400 Hz."""
    r = np.correlate(frame, frame, "full")[len(frame) - 1:len(frame) + ORDER]
    if r[0] <= 0:
        return []
    a = np.concatenate([[1.0], solve_toeplitz(r[:ORDER], -r[1:ORDER + 1])])
    roots = [z for z in np.roots(a) if z.imag > 0]
    freqs = [np.angle(z) * LPC_RATE / (2 * np.pi) for z in roots]
    bands = [-np.log(abs(z)) * LPC_RATE / np.pi for z in roots]
    return sorted(f for f, b in zip(freqs, bands, strict=True) if 150 < f < 3900 and b < 400)


def clip_features(path: Path) -> dict:
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    if rate != RATE:
        samples = soxr.resample(samples, rate, RATE)
    tracks = Tracks.measure(samples)
    x = soxr.resample(samples, RATE, LPC_RATE).astype(np.float64)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    size, hop = int(0.025 * LPC_RATE), int(0.010 * LPC_RATE)
    window = np.hamming(size)
    level = tracks.rms.max() if len(tracks.rms) else 0.0
    per_frame = []
    for start in range(0, len(x) - size, hop):
        k = min(int((start + size / 2) / LPC_RATE / FRAME_SECONDS), len(tracks.f0) - 1)
        if tracks.f0[k] <= 0 or tracks.rms[k] < level * 10 ** (-25 / 20):  # voiced and within 25 dB of the peak
            continue
        found = lpc_formants(x[start:start + size] * window)
        if len(found) >= 3:
            per_frame.append(found[:3])
    voiced = tracks.f0[tracks.f0 > 0]
    if len(per_frame) < 10 or not len(voiced):
        return {"f0": None, "formants": None, "vtl": None}
    formants = np.median(np.array(per_frame), axis=0)  # F1, F2, F3
    vtl = float(np.mean([(2 * i + 1) * SOUND_SPEED / (4 * f) for i, f in enumerate(formants)]))
    return {"f0": float(np.median(voiced)), "formants": [round(float(f)) for f in formants], "vtl": vtl}


def logistic(features: np.ndarray, labels: np.ndarray, steps: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardised inputs, gradient descent, L2 1e-3: (mean, scale, weights with the bias last)."""
    mean, scale = features.mean(axis=0), features.std(axis=0)
    z = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= 0.5 * (z.T @ (p - labels) / len(z) + 1e-3 * w)
    return mean, scale, w


def balanced(rows: list[tuple[dict, str, str]], rule) -> float:
    """textpro eval's balanced accuracy of `rule` over (features, gender, group) rows."""
    items = [SimpleNamespace(id=str(i), reference=gender) for i, (_, gender, _) in enumerate(rows)]
    return balanced_accuracy(items, {str(i): rule(f) for i, (f, _, _) in enumerate(rows)})


def main() -> None:
    n_train = int(sys.argv[1]) if len(sys.argv) > 1 else 480
    data = Path("runs/mini/data")
    train = [json.loads(line) for line in (data / "train.jsonl").open()]
    rng = np.random.default_rng(0)
    picked = []
    for gender in ("female", "male"):
        rows = [r for r in train if r.get("gender") == gender]
        picked += [rows[i] for i in rng.choice(len(rows), n_train // 2, replace=False)]
    unseen = [r for r in (json.loads(line) for line in (data / "dev_unseen.jsonl").open()) if r.get("gender")]
    recorded = [json.loads(line) for line in Path("runs/s13/recorded-62.jsonl").open()]
    sets = {"train": [(data / r["audio"], r["gender"], f"{r['engine']}/{r.get('world', 'none')}") for r in picked],
            "dev_unseen": [(data / r["audio"], r["gender"], r["voice"]) for r in unseen],
            "recorded": [(Path("/tmp/recorded") / r["audio"], r["gender"], r["speaker"]) for r in recorded]}
    measured = {name: [(clip_features(p), g, s) for p, g, s in rows] for name, rows in sets.items()}

    fit = [(f, g) for f, g, _ in measured["train"] if f["vtl"]]
    f0_rule = fit_rule("f0", [f["f0"] for f, _ in fit], [g for _, g in fit])
    vtl_rule = fit_rule("vtl", [f["vtl"] for f, _ in fit], [g for _, g in fit])
    x = np.array([[np.log2(f["f0"]), np.log2(f["vtl"])] for f, _ in fit])
    mean, scale, w = logistic(x, np.array([g == "female" for _, g in fit], float))

    def both(f: dict) -> str | None:
        if not f["vtl"]:
            return None
        z = (np.array([np.log2(f["f0"]), np.log2(f["vtl"])]) - mean) / scale
        return "female" if z @ w[:2] + w[2] > 0 else "male"

    rules = {"F0 rule": lambda f: f0_rule.predict(f["f0"]), "vocal-tract rule": lambda f: vtl_rule.predict(f["vtl"]),
             "F0 + vocal tract (logistic)": both}
    print(f"Fitted on {len(fit)} train clips: F0 > {f0_rule.thresholds[0]:.0f} Hz -> female; vocal tract "
          f"< {vtl_rule.thresholds[0]:.2f} cm -> female; logistic weights (standardised log2 F0, log2 VTL) "
          f"{w[0]:+.2f}, {w[1]:+.2f}\n")
    print("| split | group | n | median F0 (Hz) | median F1 / F2 / F3 (Hz) | vocal tract (cm) | "
          + " | ".join(rules) + " |")
    print("|---|---|---|---|---|---|" + "---|" * len(rules))
    for name, rows in measured.items():
        groups = defaultdict(list)
        for f, g, s in rows:
            groups[(g, s)].append(f)
        lines = [(f"{g} {s}", fs, g) for (g, s), fs in sorted(groups.items())] + [("all (balanced)", None, None)]
        for label, fs, gold in lines:
            if fs is None:
                cells = [f"{balanced(rows, rule):.1f}" for rule in rules.values()]
                print(f"| {name} | **{label}** | {len(rows)} | | | | " + " | ".join(cells) + " |")
                continue
            ok = [f for f in fs if f["vtl"]]
            f0 = np.median([f["f0"] for f in ok]) if ok else float("nan")
            fm = np.median([f["formants"] for f in ok], axis=0) if ok else [float("nan")] * 3
            vtl = np.median([f["vtl"] for f in ok]) if ok else float("nan")
            cells = [f"{100 * np.mean([rule(f) == gold for f in fs]):.0f}" for rule in rules.values()]
            print(f"| {name} | {label} | {len(fs)} | {f0:.0f} | {fm[0]:.0f} / {fm[1]:.0f} / {fm[2]:.0f} | {vtl:.1f} | "
                  + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
