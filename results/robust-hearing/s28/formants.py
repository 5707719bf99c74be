"""Session 28 exploration: does a vocal-tract measure separate the recorded men the F0 rule misreads (Carlo, Kennedy)?

Per clip: median F0 and the formant spacing ΔF (Reby & McComb 2003: F_i ≈ (2i − 1)/2 · ΔF, least squares over
F1–F3 from LPC roots), on loud voiced frames, after resampling to 8 kHz so telephone and wideband clips compare.
    formants.py MANIFEST ROOT [--limit N] [--by speaker|voice]
"""
import argparse
import json
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import scipy.signal as ss
import soxr

from textpro.acoustics import Tracks
from textpro.audio import load_audio

warnings.simplefilter("ignore")


def lpc(frame, order):
    r = np.correlate(frame, frame, "full")[len(frame) - 1:len(frame) + order]
    if r[0] <= 0:
        return None
    a = np.zeros(order + 1)
    a[0], err = 1.0, r[0]
    for i in range(1, order + 1):  # Levinson–Durbin
        k = -(r[i] + a[1:i] @ r[i - 1:0:-1]) / err
        a[1:i + 1] = a[1:i + 1] + k * np.concatenate([a[i - 1:0:-1], [1.0]])
        err *= 1 - k * k
    return a


def formants(x16, f0_tracks):
    x = soxr.resample(x16, 16000, 8000)
    x = ss.lfilter([1, -0.97], [1], x)
    hop, win = 40, 200  # 5 ms, 25 ms at 8 kHz
    f0 = f0_tracks.f0
    rms = f0_tracks.rms
    loud = rms > rms.max() * 10 ** (-25 / 20)
    rows = []
    for t in np.flatnonzero((f0 > 0) & loud):
        start = t * hop - win // 2
        if start < 0 or start + win > len(x):
            continue
        frame = x[start:start + win] * np.hamming(win)
        a = lpc(frame, 10)
        if a is None:
            continue
        roots = [z for z in np.roots(a) if z.imag > 0]
        freq = np.array([np.angle(z) * 8000 / (2 * np.pi) for z in roots])
        bw = np.array([-np.log(abs(z)) * 8000 / np.pi for z in roots])
        f = np.sort(freq[(freq > 200) & (freq < 3700) & (bw < 500)])
        if len(f) >= 3:
            rows.append(f[:3])
    if len(rows) < 10:
        return None
    F = np.median(np.array(rows), 0)
    k = np.array([0.5, 1.5, 2.5])
    return F, float(F @ k / (k @ k))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("manifest")
    p.add_argument("root")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--by", default="speaker")
    p.add_argument("--task", default=None)
    a = p.parse_args()
    recs = [json.loads(line) for line in open(a.manifest)]
    if a.task:
        recs = [r for r in recs if r.get("task") == a.task]
    if a.limit:
        recs = recs[:: max(1, len(recs) // a.limit)][: a.limit]
    groups = defaultdict(list)
    for r in recs:
        x = load_audio(Path(a.root) / r["audio"], max_seconds=None)
        tr = Tracks.measure(x)
        v = tr.f0[tr.f0 > 0]
        out = formants(x, tr)
        if out is None or len(v) < 3:
            continue
        F, dF = out
        key = r.get(a.by) or r.get("voice")
        gender = r.get("gender") or r.get("reference")
        groups[(key, gender)].append((np.median(v), *F, dF))
    for (key, g), rows in sorted(groups.items(), key=lambda kv: np.median([r[4] for r in kv[1]])):
        m = np.median(np.array(rows), 0)
        print(f"{str(key)[:28]:28s} {str(g):7s} n={len(rows):3d} F0 {m[0]:5.0f}  "
              f"F1-3 {m[1]:5.0f} {m[2]:5.0f} {m[3]:5.0f}  dF {m[4]:5.0f}")


if __name__ == "__main__":
    main()
