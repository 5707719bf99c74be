"""Re-create the example clips shipped in examples/ (piper TTS, `joe` voice): python examples/make_examples.py"""

from pathlib import Path

import numpy as np
import soundfile as sf

from textpro.data.synth import synthesize_piper

CLIPS = {
    "hello.wav": "Did you really mean that, or were you joking? I never said she stole my money.",
}

if __name__ == "__main__":
    here = Path(__file__).parent
    for name, text in CLIPS.items():
        samples, rate = synthesize_piper(text)
        pad = np.zeros(int(0.3 * rate), np.float32)  # a little silence either side, as in a real recording
        sf.write(here / name, np.concatenate([pad, 0.8 * samples, pad]), rate, subtype="PCM_16")
        print(f"{name}: {len(samples) / rate + 0.6:.2f} s  {text}")
