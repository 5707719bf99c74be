"""Feature cache: run WhisperPro once per utterance and keep what the LLM side reads, so LLM training never re-runs
Whisper (`textpro featurize MANIFEST --whisperpro NAME|DIR --out DIR`).

Layout of OUT (shard k holds manifest records k·S … k·S+S−1, S = --shard-size):

    featurize.json                 whisperpro, d_whisper, manifest, shard_size, number of records and shards
    shard-00000.safetensors        per shard, every utterance's rows concatenated (n utterances, R = Σ N_i tokens):
                                     prosody (R, d) float32 · token_ids (R,) int64 · starts, ends (R,) float32
                                     utterance (n, d) float32 · offsets (n+1,) int64: rows of utterance i are
                                     offsets[i]:offsets[i+1]
    shard-00000.jsonl              per utterance: id, text (the ASR transcript), duration, manifest (the manifest
                                   record as it was, audio path made absolute; its `text` is the ground truth)
    index.jsonl                    all shards' JSONL lines in manifest order (written when every shard is done)

With --encoder-only (the continuous-encoder baseline, slm/encoder_baseline.py) nothing is decoded: a shard holds
the Whisper *encoder* states of each clip average-pooled by `encoder_pool` (50 Hz -> 25 Hz by default) as
encoder (R, d) float32 and encoder_offsets (n+1,) int64, and the JSONL `text` is empty. featurize.json says
`"kind": "encoder"` (else "whisperpro"), with encoder_pool and frames_per_second.

A shard is written to tmp files and renamed, safetensors first and its JSONL last: a shard whose JSONL exists is
complete, and a rerun skips it (resume). Shard k belongs to process k mod world_size (`torchrun` /
`accelerate launch`), so processes never write the same file; the main process writes index.jsonl at the end.

    store = FeatureStore("features/train")
    record = store[0]      # {"id", "text", "prosody" (N, d), "utterance" (d,), "token_ids", "starts", "ends",
                           #  "duration", "manifest", "acoustics" (k,), "encoder_mean" (d,)}: usable directly
                           #  as `speech` in TextPro-SLM examples
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textpro.data.manifest import read_manifest  # noqa: F401 (featurize's reader, imported from here too)
from textpro.errors import AudioError, ConfigError

META_NAME = "featurize.json"
INDEX_NAME = "index.jsonl"
FORMAT_VERSION = 1
ENCODER_FRAMES_PER_SECOND = 50  # Whisper's encoder: 100 mel frames/s, stride-2 conv


def shard_name(k: int) -> str:
    return f"shard-{k:05d}"


def featurize(manifest: str | os.PathLike, whisperpro: str | os.PathLike, out: str | os.PathLike, *,
              shard_size: int = 256, batch_size: int = 8, max_seconds: float = 600.0, progress: bool = True,
              transcriber=None, encoder_only: bool = False, encoder_pool: int = 2) -> dict:
    """Featurize every record of `manifest` into `out` (resumable; this process's shards only when several run).
    transcriber: an already loaded `Transcriber` (tests); otherwise loaded from `whisperpro`. encoder_only: store
    pooled encoder states instead of transcripts and prosody (the encoder baseline). Returns the meta."""
    from tqdm.auto import tqdm

    from textpro.train import process_state

    if shard_size < 1:
        raise ConfigError(f"--shard-size must be >= 1, got {shard_size}")
    if encoder_pool < 1:
        raise ConfigError(f"--encoder-pool must be >= 1, got {encoder_pool}")
    kind = "encoder" if encoder_only else "whisperpro"
    out = Path(out)
    records = read_manifest(manifest)  # a bad manifest fails before any model loads
    state = process_state()
    meta_path = out / META_NAME
    _check_same_job(out, shard_size, len(records), kind, encoder_pool)

    if transcriber is None:
        from textpro.whisperpro import Transcriber

        transcriber = Transcriber.from_pretrained(whisperpro, batch_size=batch_size)
        transcriber.model.to(state.device)  # under torchrun / accelerate launch: this process's GPU
    if not encoder_only:
        transcriber.measure_acoustics = True  # the cache keeps them for the SLMs that read them
        transcriber.measure_encoder_mean = True
    name = str(Path(whisperpro).resolve()) if Path(whisperpro).is_dir() else str(whisperpro)
    num_shards = -(-len(records) // shard_size)
    meta = {"format": FORMAT_VERSION, "whisperpro": name, "d_whisper": int(transcriber.model.config.d_model),
            "manifest": str(Path(manifest).resolve()), "shard_size": shard_size, "num_records": len(records),
            "num_shards": num_shards, "kind": kind}
    if encoder_only:
        meta.update(encoder_pool=encoder_pool, frames_per_second=ENCODER_FRAMES_PER_SECOND / encoder_pool)
    if state.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        if meta_path.is_file() and json.loads(meta_path.read_text()).get("whisperpro") != name:
            raise ConfigError(f"{out} holds features of another WhisperPro: choose another --out")
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    state.wait_for_everyone()

    mine = [k for k in range(num_shards) if k % state.num_processes == state.process_index]
    todo = [k for k in mine if not (out / f"{shard_name(k)}.jsonl").is_file()]
    bar = tqdm(total=sum(len(records[k * shard_size:(k + 1) * shard_size]) for k in mine), desc="featurize",
               unit="utt", disable=not (progress and state.is_local_main_process), dynamic_ncols=True)
    bar.update(sum(len(records[k * shard_size:(k + 1) * shard_size]) for k in mine if k not in todo))
    for k in todo:
        shard = records[k * shard_size:(k + 1) * shard_size]
        results = []
        for first in range(0, len(shard), batch_size):
            batch = shard[first:first + batch_size]
            results += _featurize_batch(transcriber, batch, max_seconds, encoder_only, encoder_pool)
            bar.update(len(batch))
        write_shard(out, k, shard, results)
    bar.close()

    state.wait_for_everyone()
    if state.is_main_process:
        write_index(out, num_shards)
    state.wait_for_everyone()
    return meta


def _check_same_job(out: Path, shard_size: int, num_records: int, kind: str, encoder_pool: int) -> None:
    """Resuming: the cache in `out` must be the same job, or shards would mix two models."""
    meta_path = out / META_NAME
    if meta_path.is_file():
        old = json.loads(meta_path.read_text())
        if old.get("shard_size") != shard_size or old.get("num_records") != num_records or \
                old.get("kind", "whisperpro") != kind or old.get("encoder_pool", encoder_pool) != encoder_pool:
            raise ConfigError(f"{out} holds features of another job (shard size {old.get('shard_size')}, "
                              f"{old.get('num_records')} records, {old.get('kind', 'whisperpro')} features): "
                              "choose another --out")


def _featurize_batch(transcriber, batch: list[dict], max_seconds: float, encoder_only: bool,
                     encoder_pool: int) -> list:
    """One batch of records: their transcripts with prosody, or (encoder_only) their pooled encoder states."""
    from textpro.audio import SAMPLE_RATE, load_audio

    clips = []
    for record in batch:
        try:
            clips.append(load_audio(record["audio"], max_seconds=max_seconds))
        except AudioError as exc:
            raise AudioError(f"{record['_where']}: {exc}") from None
    if encoder_only:
        from textpro.slm.encoder_baseline import encode_clips

        return [EncodedClip(frames, len(clip) / SAMPLE_RATE)
                for frames, clip in zip(encode_clips(transcriber, clips, encoder_pool), clips, strict=True)]
    return transcriber.transcribe(clips, max_seconds=None)


@dataclass
class EncodedClip:
    """One clip of an encoder-only cache: its pooled encoder states and its length."""

    frames: np.ndarray  # (K, d) float32
    duration: float  # seconds
    text: str = ""  # nothing was transcribed


def write_shard(out: Path, k: int, records: list[dict], speech: list) -> None:
    """One shard: safetensors (tmp → rename), then its JSONL (tmp → rename) as the completion mark.
    speech: SpeechTokens per record, or EncodedClip per record (encoder-only cache)."""
    if speech and isinstance(speech[0], EncodedClip):
        tensors = {
            "encoder": np.concatenate([s.frames for s in speech]).astype(np.float32),  # (R, d)
            "encoder_offsets": np.concatenate([[0], np.cumsum([len(s.frames) for s in speech])]).astype(np.int64),
        }
        _write_shard_files(out, k, records, speech, tensors)
        return
    d = speech[0].prosody.shape[1] if speech else 0
    lengths = [len(s.token_ids) for s in speech]
    tensors = {
        "prosody": np.concatenate([s.prosody.reshape(-1, d) for s in speech]).astype(np.float32),  # (R, d)
        "token_ids": np.concatenate([np.asarray(s.token_ids, np.int64) for s in speech]).astype(np.int64),  # (R,)
        "starts": np.concatenate([s.starts for s in speech]).astype(np.float32),  # (R,)
        "ends": np.concatenate([s.ends for s in speech]).astype(np.float32),  # (R,)
        "utterance": np.stack([s.utterance for s in speech]).astype(np.float32),  # (n, d)
        "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),  # (n+1,)
    }
    if speech and all(s.acoustics is not None for s in speech):
        tensors["acoustics"] = np.stack([s.acoustics for s in speech]).astype(np.float32)  # (n, k)
    if speech and all(s.encoder_mean is not None for s in speech):
        tensors["encoder_mean"] = np.stack([s.encoder_mean for s in speech]).astype(np.float32)  # (n, d)
    _write_shard_files(out, k, records, speech, tensors)


def _write_shard_files(out: Path, k: int, records: list[dict], speech: list, tensors: dict) -> None:
    from safetensors.numpy import save_file

    base = out / shard_name(k)
    tmp = out / f"tmp-{shard_name(k)}.safetensors"
    save_file(tensors, tmp, metadata={"format": str(FORMAT_VERSION)})
    os.replace(tmp, base.with_suffix(".safetensors"))
    tmp = out / f"tmp-{shard_name(k)}.jsonl"
    with open(tmp, "w", encoding="utf-8") as f:
        for record, s in zip(records, speech, strict=True):
            manifest = {key: value for key, value in record.items() if key != "_where"}
            line = {"id": record["id"], "text": s.text, "duration": round(float(s.duration), 3), "manifest": manifest}
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    os.replace(tmp, base.with_suffix(".jsonl"))


def write_index(out: Path, num_shards: int) -> None:
    tmp = out / f"tmp-{INDEX_NAME}"
    with open(tmp, "w", encoding="utf-8") as index:
        for k in range(num_shards):
            index.write((out / f"{shard_name(k)}.jsonl").read_text(encoding="utf-8"))
    os.replace(tmp, out / INDEX_NAME)


class FeatureStore:
    """Read-only view of a feature cache. Records load lazily, one utterance's rows at a time (memory-mapped)."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        meta_path = self.directory / META_NAME
        if not meta_path.is_file():
            raise ConfigError(f"{self.directory}: not a feature cache (no {META_NAME}): run `textpro featurize`")
        self.meta = json.loads(meta_path.read_text())
        if not (self.directory / INDEX_NAME).is_file():
            raise ConfigError(f"{self.directory}: featurization is unfinished (no {INDEX_NAME}): rerun "
                              "`textpro featurize` with the same arguments to complete it")
        with open(self.directory / INDEX_NAME, encoding="utf-8") as f:
            self.index = [json.loads(line) for line in f if line.strip()]
        self.shard_size = self.meta["shard_size"]
        self.by_id = {entry["id"]: i for i, entry in enumerate(self.index)}
        self._open: dict[int, dict[str, np.ndarray]] = {}

    @property
    def d_whisper(self) -> int:
        return int(self.meta["d_whisper"])

    @property
    def whisperpro(self) -> str:
        return self.meta["whisperpro"]

    @property
    def kind(self) -> str:
        """"whisperpro" (transcripts + prosody vectors) or "encoder" (pooled encoder states, --encoder-only)."""
        return self.meta.get("kind", "whisperpro")

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(len(self)))

    def _shard(self, k: int):
        if k not in self._open:
            from safetensors import safe_open

            self._open[k] = safe_open(str(self.directory / f"{shard_name(k)}.safetensors"), framework="np")
        return self._open[k]

    def __getitem__(self, i: int) -> dict:
        entry = self.index[i]
        shard = self._shard(i // self.shard_size)
        row = i % self.shard_size
        if self.kind == "encoder":
            begin, end = (int(x) for x in shard.get_slice("encoder_offsets")[row:row + 2])
            return {**entry, "encoder": shard.get_slice("encoder")[begin:end]}  # (K, d)
        begin, end = (int(x) for x in shard.get_slice("offsets")[row:row + 2])
        return {
            **entry,
            "prosody": shard.get_slice("prosody")[begin:end],  # (N, d)
            "token_ids": shard.get_slice("token_ids")[begin:end].tolist(),  # (N,)
            "starts": shard.get_slice("starts")[begin:end],  # (N,)
            "ends": shard.get_slice("ends")[begin:end],  # (N,)
            "utterance": shard.get_slice("utterance")[row:row + 1][0],  # (d,)
            **({"acoustics": shard.get_slice("acoustics")[row:row + 1][0]}  # (k,) measured acoustics
               if "acoustics" in shard.keys() else {}),
            **({"encoder_mean": shard.get_slice("encoder_mean")[row:row + 1][0]}  # (d,) mean encoder state
               if "encoder_mean" in shard.keys() else {}),
        }

    def __getstate__(self):  # DataLoader workers reopen the files themselves
        return {**self.__dict__, "_open": {}}
