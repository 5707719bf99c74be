"""Token times from cross-attention, the openai/whisper `timing.py` way.

One teacher-forced decoder pass over [SOT sequence, notimestamps, text tokens, EOT]. The checkpoint's alignment
heads (`generation_config.alignment_heads`, [layer, head] pairs chosen by OpenAI because their cross-attention
follows the speech) give, for every decoder position, a distribution over encoder frames (20 ms each). Normalised
per frame over tokens, median-filtered along time and averaged over heads, this is a token × frame similarity; the
cheapest monotonic path through its negative (dynamic time warping) says at which frame each token begins.

The rows used are the positions that *predict* the text tokens and EOT: the notimestamps position predicts the
first text token, …, the last text token predicts EOT. So N text tokens give N + 1 jump times: token i spans
[t_i, t_{i+1}], and t_N is where speech ends.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

SECONDS_PER_FRAME = 0.02  # encoder frames: 1500 per 30 s (two 10 ms mel frames each)
MEDIAN_FILTER_WIDTH = 7
SILENCE_RATIO = 0.03  # a frame quieter than this × the 95th-percentile frame RMS is quiet (about -30 dB)
MIN_PAUSE_FRAMES = 5  # 100 ms


@torch.inference_mode()
def token_start_times(
    model,
    encoder_states: torch.Tensor,
    encoder_mask: torch.Tensor | None,
    audio_frames: list[int],
    prefixes: list[list[int]],
    text_tokens: list[list[int]],
    eot: int,
    alignment_heads: list[list[int]],
) -> list[np.ndarray]:
    """Per utterance, N_i + 1 times in seconds (token starts, then the end of the last token).

    model: a WhisperPro (needs `decode`); encoder_states (B, S, d) and encoder_mask (B, S) from its `encode`;
    audio_frames: per utterance, how many encoder frames hold its audio (the alignment never looks past them);
    prefixes: per utterance, SOT sequence + notimestamps, all of one length (no previous-text prompt: the
    alignment is of this segment alone).
    """
    if not alignment_heads:
        raise ValueError("this checkpoint has no generation_config.alignment_heads: cannot time tokens")
    # Right-pad with EOT: the decoder is causal, so padding after a row's EOT changes nothing before it.
    rows = [prefix + tokens + [eot] for prefix, tokens in zip(prefixes, text_tokens, strict=True)]
    length = max(len(r) for r in rows)
    input_ids = torch.tensor([r + [eot] * (length - len(r)) for r in rows], device=encoder_states.device)

    # Cross-attention weights of the alignment heads, computed from the attention's own inputs by a hook, so the
    # pass runs with whatever attention implementation the model uses (sdpa does not return weights).
    layers = sorted({layer for layer, _ in alignment_heads})
    captured: dict[int, torch.Tensor] = {}

    def capture(layer_index):
        def hook(module, args, kwargs, output):
            queries = args[0] if args else kwargs["hidden_states"]  # (B, L, d), after encoder_attn_layer_norm
            keys = kwargs["key_value_states"]  # (B, S, d)
            q = (module.q_proj(queries) * module.scaling).unflatten(-1, (module.num_heads, -1)).transpose(1, 2)
            k = module.k_proj(keys).unflatten(-1, (module.num_heads, -1)).transpose(1, 2)
            captured[layer_index] = q @ k.transpose(-1, -2)  # (B, heads, L, S) pre-softmax scores
        return hook

    decoder_layers = model.model.decoder.layers
    handles = [decoder_layers[i].encoder_attn.register_forward_hook(capture(i), with_kwargs=True) for i in layers]
    try:
        model.decode(input_ids, encoder_states, encoder_mask)
    finally:
        for handle in handles:
            handle.remove()
    scores = torch.stack([captured[layer][:, head] for layer, head in alignment_heads], dim=1)  # (B, H, L, S)

    times = []
    for row, (tokens, frames) in enumerate(zip(text_tokens, audio_frames, strict=True)):
        weights = scores[row, :, : len(rows[row]), :frames].float().softmax(dim=-1)  # (H, L_i, frames)
        std, mean = torch.std_mean(weights, dim=-2, keepdim=True, unbiased=False)  # over tokens, per frame
        weights = median_filter((weights - mean) / std.clamp_min(1e-8), MEDIAN_FILTER_WIDTH)
        matrix = weights.mean(dim=0)  # (L_i, frames)
        first = len(prefixes[row]) - 1  # the notimestamps position predicts the first text token
        matrix = matrix[first : first + len(tokens) + 1]  # (N + 1, frames): positions predicting text and EOT
        text_index, time_index = dtw(-matrix.double().cpu().numpy())
        jumps = np.diff(text_index, prepend=-1).astype(bool)  # first path step on each row
        times.append((time_index[jumps] * SECONDS_PER_FRAME).astype(np.float32))
    return times


def trim_silence(starts: np.ndarray, ends: np.ndarray, samples: np.ndarray,
                 sample_rate: int = 16_000) -> tuple[np.ndarray, np.ndarray]:
    """Move token starts forward and ends back out of pauses: a token neither starts nor ends in silence.

    Cross-attention is not discriminative over silence, so DTW hands a pause to a neighbouring token: leading
    silence to the first token (its start is always 0, openai's known quirk, which it patches with word-length
    heuristics) and trailing silence to the last. The energy of the audio says where the pauses are: 20 ms frames
    (one encoder frame each) quieter than 3% of the loud frames' RMS, in runs of at least 100 ms (shorter dips
    are stop closures inside words). A token with no sound in its span (punctuation after the last word, mostly)
    becomes a point where the sound before it ends."""
    frame = int(SECONDS_PER_FRAME * sample_rate)
    count = len(samples) // frame
    if count == 0 or len(starts) == 0:
        return starts, ends
    rms = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame).astype(np.float64) ** 2, axis=1))
    quiet = rms < SILENCE_RATIO * np.percentile(rms, 95)
    silent = np.zeros(count, dtype=bool)  # quiet frames in runs of at least MIN_PAUSE_FRAMES
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    for run_start, run_end in zip(edges[::2], edges[1::2], strict=True):
        if run_end - run_start >= MIN_PAUSE_FRAMES:
            silent[run_start:run_end] = True
    index = np.arange(count + 1)
    # first sounding frame at or after j, and one past the last sounding frame before j
    next_sound = np.minimum.accumulate(np.where(np.append(~silent, True), index, count)[::-1])[::-1]
    sound_end = np.maximum.accumulate(np.where(np.insert(~silent, 0, True), index, 0))

    first = np.clip(np.round(starts / SECONDS_PER_FRAME).astype(int), 0, count)  # frame indices
    last = np.clip(np.round(ends / SECONDS_PER_FRAME).astype(int), 0, count)
    new_first = next_sound[first]
    new_last = sound_end[last]
    heard = new_first < new_last  # some sound between the moved edges
    first = np.where(heard, new_first, sound_end[first])
    last = np.where(heard, new_last, first)
    return (first * SECONDS_PER_FRAME).astype(np.float32), (last * SECONDS_PER_FRAME).astype(np.float32)


def median_filter(x: torch.Tensor, width: int) -> torch.Tensor:
    """Median over a sliding window along the last axis, reflect-padded so the length stays (openai's)."""
    pad = width // 2
    if x.shape[-1] <= pad:
        return x  # too short to reflect: leave it
    padded = F.pad(x, (pad, pad), mode="reflect")
    return padded.unfold(-1, width, 1).median(dim=-1).values


def dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cheapest monotonic path from (0, 0) to (N-1, M-1) through `cost` (N, M), with steps (1,1), (1,0), (0,1).
    Returns the path's row and column indices. Same recursion and tie rules as openai/whisper's dtw_cpu, computed
    one anti-diagonal at a time (every cell on it depends only on the two diagonals before) instead of per cell."""
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    trace = np.zeros((n + 1, m + 1), dtype=np.int8)  # 0: from (i-1, j-1), 1: from (i-1, j), 2: from (i, j-1)
    for diagonal in range(2, n + m + 1):
        i = np.arange(max(1, diagonal - m), min(n, diagonal - 1) + 1)
        j = diagonal - i
        c0, c1, c2 = total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]
        step = np.where((c0 < c1) & (c0 < c2), 0, np.where((c1 < c0) & (c1 < c2), 1, 2))
        total[i, j] = cost[i - 1, j - 1] + np.choose(step, [c0, c1, c2])
        trace[i, j] = step
    trace[0, :] = 2  # along the edges the only way back is straight
    trace[:, 0] = 1

    i, j, path = n, m, []
    while i > 0 or j > 0:
        path.append((i - 1, j - 1))
        step = trace[i, j]
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    path = np.array(path[::-1])
    return path[:, 0], path[:, 1]
