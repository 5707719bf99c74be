# Session 30: with PYTHONPATH=results/robust-hearing/s30/hook, every TextPro-SLM loaded from a directory that holds
# adapter_gate.safetensors runs with its per-turn adapter gate (../gated.py). A what-if harness, not in src/.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import gated  # noqa: E402

gated.install()
