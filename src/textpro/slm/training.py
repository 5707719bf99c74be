"""TextPro-SLM training, stages 1 and 2, on the shared accelerate loop (docs/method.md).

    stage 1   LLM frozen, projector trained (LR 1e-4)          usually paralinguistic examples
    stage 2   projector + LLM, full or LoRA (LR 1e-5)         distillation + paralinguistic, from the stage-1 model

Data come from feature caches (`textpro featurize`), distillation targets (`textpro distill`) and the
paralinguistic labels in the caches' manifest records (`tasks.py`). Cross-entropy on the response tokens only;
with `kd_alpha` > 0: α·KL(teacher ‖ student) + (1 − α)·CE, the teacher being the original text LLM reading the
same prompt without placeholders (stage 1 and LoRA: the student's own frozen LLM with the adapter off; full
fine-tune: a frozen copy), scored on the same response tokens (same tokenizer).

A config file holds one stage, or both under `stages: {1: {...}, 2: {...}}`, merged over the top level when
`--stage N` picks one:

    textpro train slm --stage 1 --config configs/slm-mini-stage1.yaml [--resume] [--output DIR]

Checkpoints hold the trainable weights only (projector; + LoRA adapter or the whole LLM in stage 2): the frozen
rest is rebuilt from the base model on resume.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset
from tqdm import tqdm

from textpro.acoustics import ACOUSTIC_FEATURES
from textpro.errors import ConfigError
from textpro.slm.config import TextProSLMConfig
from textpro.slm.featurize import FeatureStore
from textpro.slm.gate import AdapterGate
from textpro.slm.tasks import (
    Example,
    ParalinguisticConfig,
    distillation_examples,
    mix,
    paralinguistic_examples,
    written_examples,
)
from textpro.train.config import TrainConfig, config_from_dict, merge, override, read_yaml
from textpro.train.kind import IGNORE_INDEX, run_training

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class LoraSettings:
    r: int = 16  # adapter rank
    alpha: int = 32  # scaling numerator (scale = alpha / r)
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    # Seed of a fresh adapter's random A factors (None: the run's train.seed draws them). Fixed, runs at several seeds
    # start from one adapter and differ only in data order and dropout, so that `textpro soup` can average them:
    # adapters drawn apart share no basis (session 35: A-factor cosine 0.001 between two seeds of the hearing phase).
    init_seed: int | None = None


@dataclass
class SLMTrainingConfig:
    stage: int = 1  # 1: projector only (LLM frozen); 2: projector + LLM
    # the model to build in stage 1 (ignored with init_from, but for `encoder_summary: true`, which adds the mean
    # encoder state to a trained model's projector): base LLM, injection mode, placeholder, …; d_whisper and
    # whisperpro are taken from the feature caches
    slm: TextProSLMConfig = field(default_factory=TextProSLMConfig)
    init_from: str | None = None  # a TextPro-SLM checkpoint to start from (stage 2: the stage-1 model dir)
    features: list[str] = field(default_factory=list)  # feature cache directories (`textpro featurize`)
    distill: str | None = None  # distillation JSONL (`textpro distill`); None = no distillation examples
    # Teacher answers to written prompts (`textpro distill --prompts written`): more content rows, each read as the
    # transcript of a random clip, so that the LLM's answers to unseen requests stay its own (session 15)
    text_distill: str | None = None
    # The SLM's own greedy answers to the cached spoken requests (`textpro distill FEATURES --student MODEL`): rows
    # trained by the KL term alone, the text LLM's next-token distribution at every position of the *student's*
    # answer (on-policy distillation, GKD: Agarwal et al. 2024). Teacher-written rows only ever show the student the
    # teacher's prefixes; greedy decoding leaves them at the first disagreement (session 15: the SLM's argmax is the
    # text LLM's token on 91% of answer tokens, the first disagreement at token 10), and from there on the student
    # was never taught what the teacher would say. Needs kd_alpha > 0.
    on_policy: str | None = None
    paralinguistic: ParalinguisticConfig = field(default_factory=ParalinguisticConfig)
    use_paralinguistic: bool = True  # False: ignore the paralinguistic records (distillation only)
    lora: bool = False  # stage 2: train a LoRA adapter (settings in lora_settings) instead of the whole LLM
    lora_settings: LoraSettings = field(default_factory=LoraSettings)
    # Stage 2: keep the projector as the previous stage left it (only the LLM or its adapter trains), so that the
    # content rows cannot re-map what the hearing phase taught it to pass on
    freeze_projector: bool = False
    # Stage 2 from a model with a LoRA adapter: keep the adapter as loaded (only the projector trains). With a gated
    # adapter the content rows then move the projector alone, and the hearing the adapter holds stays (session 31:
    # 50 gated steps lost 2-9 points of hearing at three seeds, all of it in the adapter)
    freeze_adapter: bool = False
    kd_alpha: float = 0.0  # α of α·KL(teacher‖student) + (1−α)·CE (paper's best: 0, pure CE on teacher answers)
    # Share of distillation examples whose prosody vectors and acoustics come from another, randomly drawn clip
    # (fixed per example by the seed): the answer to a content question must not depend on the voice.
    prosody_swap: float = 0.0
    # Share of paralinguistic examples whose *learned* WhisperPro vectors (not the measured acoustics) come from
    # another, randomly drawn clip (fixed per example by the seed). Branch dropout shows the LLM the learned vector's
    # training mean; an unseen voice shows it a vector it never met, which moved the default's gender answers
    # (dev_unseen 95.8% as heard, 99.2% with the learned vector at its mean): swapped rows teach it that a learned
    # vector which contradicts the acoustics does not decide gender, pitch or rate.
    learned_swap: float = 0.0
    # Task -> its own learned_swap share, overriding the one above: gender, pitch and rate can be heard from the
    # acoustics alone, accent cannot. (Session 13: with the learned vector at its mean the default names the gender of
    # recorded English voices right 89% of the time, as heard 65%; 50 steps at 1.0 for those three did not change it.)
    task_learned_swap: dict[str, float] = field(default_factory=dict)
    # Task -> the measured acoustics (names in `textpro.acoustics.ACOUSTIC_FEATURES`) its answer may follow. A row of
    # such a task reads those from its own clip and every other acoustic from another clip (its learned-swap partner,
    # else one drawn for it), so that e.g. a gender answer can follow F0 and nothing else the mini world happens to
    # pair with gender: on recorded speech the default called a 112 Hz man female, and on test_unseen flite's kal16 at
    # 107-126 Hz (results/robust-hearing.md, session 13; 50 steps of it moved the gender switch from 129 towards 144 Hz
    # but lost gender on held-out yes/no wordings). Empty: every row reads its own acoustics.
    task_acoustics: dict[str, list[str]] = field(default_factory=dict)
    # Task -> label -> [low, high] octaves: a row of that task and label reads its clip's median F0 (the acoustic
    # feature f0_median_oct) moved by a shift drawn uniformly from the range (fixed per example by the seed). The mini
    # world's male gender clips sit at 88-112 Hz (5th-75th percentile), its female ones from 158 Hz, so any gender line
    # in the band between fits them. (Session 14: {gender: {male: [0.0, 0.45]}}, 100 steps on the default, whose line
    # was already at the rule's 144 Hz, got both low recorded men right but 25 of 43 recorded women wrong on "Is this
    # voice male?"; not kept.) Empty: no shift.
    task_f0_shift: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    # Tasks whose rows always read their own clip's mean encoder state (`slm.encoder_summary`), even where their other
    # learned vectors come from another clip (learned_swap): a linear probe fitted on the train cache's encoder means
    # reads gender at 99% on flite's unseen voices and 100% on recorded English speech, JFK at 223 Hz included, where
    # the decoder-layer vector reads 80% on flite. Empty: the encoder mean is swapped with the learned vectors.
    own_encoder_mean: list[str] = field(default_factory=list)
    # Std of Gaussian noise on the standardised learned vector of every row in training (0: none), so that answers
    # cannot hang on directions of it that an unseen voice moves (session 13: 50 steps at 1.0 kept dev hearing and did
    # not lift recorded-speech gender above the control's).
    learned_noise: float = 0.0
    # The same noise on the standardised mean encoder state (`slm.encoder_summary`); None: learned_noise. (Session 19:
    # at learned_noise 2.0 the encoder branch's new columns barely moved in 100 steps: norm 1.2 against the learned
    # vector's 14.5, accent unchanged.)
    encoder_noise: float | None = None
    # Learning-rate multiplier of the projector's encoder-mean weight (`slm.encoder_summary`). (Session 19: added at
    # zero to a trained projector, at 1x it reached norm 1.2 in 100 steps against the learned vector's 14.5, and the
    # model did not learn accent even on its training clips.)
    encoder_lr_scale: float = 1.0
    # Per row, the chance that the projector sees the training mean instead of the learned vector / the acoustics
    branch_dropout: list[float] = field(default_factory=lambda: [0.0, 0.0])
    kd_temperature: float = 1.0  # softens both distributions in the KL term
    # Weight of an auxiliary cross-entropy on each paralinguistic row's true label, read by a linear head (one per
    # task of `paralinguistic.labels`, training only, not exported) from the projected vector the LLM sees. Its
    # gradient reaches the projector only: the projected token must carry every task's label in a linearly readable
    # form. (Session 21: a linear probe reads accent at 49% from the projector's input and 29% from its output, chance
    # 25%; gender's class means explain 21% of the output's variance, accent's 0.6%: the projector drops accent, and
    # the LLM cannot answer from what it is not shown.) 0: no such term.
    label_aux: float = 0.0
    # Each label head's rows rescaled to this L2 norm (None: free heads). A free head can grow its weights and read a
    # label from a direction the projected vector barely moves (session 23: accent's between-class share of the token's
    # variance 0.016 against gender's 0.16, linear probe 48%, and the LLM's answers did not follow); a bounded head's
    # logit margin can only come from the projected vector itself.
    label_head_norm: float | None = None
    # β of a second KL term on the same rows: the SLM's input read by the LLM's *original* weights (LoRA adapter off)
    # against the text LLM on the text. Its gradient reaches the projector only, which learns to pass the voice in a
    # form the original LLM ignores on content, so the adapter has less to undo. (Session 15: with the adapter off,
    # the training-mean vector alone moved the text LLM's answers to unseen requests to ROUGE-L 0.35 against its
    # answers to the same transcript, and the adapter's content distillation did not transfer.) 0: no such term.
    base_kd: float = 0.0
    # A per-turn gate on the LoRA adapter (gate.py) that reads the text LLM's hidden states at this layer: a model
    # that has none gets one, its router fitted on up to 2,000 of this run's rows (paralinguistic 1, content 0) before
    # the first step and fixed after. None: no gate (one loaded with init_from is kept). (Sessions 29–30: the adapter,
    # not the voice token, moves the content answers away from the text LLM's; with the router at layer 15 the default
    # reads the dev requests at ROUGE-L 0.63 against 0.57, its hearing unchanged.)
    adapter_gate_layer: int | None = None
    # Share of the content (distillation) rows whose prosody input is the projector's training mean, the input the
    # prosody-neutral diagnostic reads (drawn per row by the seed). With the adapter gate closed on content, the text
    # LLM's own weights read the projected token, and `base_kd` never showed them the mean: session 30 measured
    # agreement 89.0 without these rows. 0: none.
    neutral_content: float = 0.0
    # Share of the content (distillation) rows whose measured acoustics alone come from another, randomly drawn clip
    # (drawn per row by the seed; their learned vectors stay their own, or prosody_swap's partner's). prosody_swap moves
    # both branches together, so they never disagree in training; on unseen voices the acoustics moved the content
    # answers most (session 40: dev_unseen requests ROUGE-L 0.432 as heard, 0.514 with the acoustics alone at their
    # mean). 0: none.
    content_acoustic_swap: float = 0.0
    # Share of the content (distillation) rows whose measured acoustics read their training mean while the learned
    # vectors stay the row's own (or prosody_swap's partner's); drawn per row by the seed, after and over
    # content_acoustic_swap. Neither neutral_content (both branches at the mean) nor the swaps reach this point, and
    # it is where the content answers flip (session 44: moved back to the mean, 18 of 24 disagreeing dev_unseen
    # answers flip only in the last quarter of the way, 13 of them with the acoustics alone at their mean). Session
    # 45: at 0.5 in the gate step, agreement −2.0 against its control at seed 1 (not in the recipe). 0: none.
    content_acoustic_mean: float = 0.0
    # Share of the content rows whose whole prosody input (both branches) is moved a uniform random fraction of the
    # way from the row's voice to the projector's training mean (drawn per row by the seed). neutral_content trains
    # the end of that path, every heard row its start; session 44 measured the content answers flipping only in its
    # last quarter. Session 45: at 0.5 in the gate step, agreement +0.0 over three seed pairs (not in the recipe).
    # 0: none.
    content_mean_pull: float = 0.0
    # δ of a consistency term on the content rows that hear a voice (not neutral_content's): KL(the SLM hearing the
    # projector's training mean ‖ the SLM hearing the row's voice) over the response tokens, the mean-voice side
    # without gradient. Prosody-neutral agreement asks exactly this (the same answer at the mean voice); teaching both
    # sides only towards the text LLM left it at 88-89% on dev_unseen (sessions 41-42). Training only: one forward
    # path at inference. 0: none.
    mean_voice_kl: float = 0.0
    # Which rows the KL term reads: "all", or "distill" (content rows only: on a paralinguistic row the teacher,
    # who cannot hear, would pull "female" towards its own guess)
    kd_rows: str = "all"
    # How the cross-entropy averages: "token" (every response token weighs the same, so a 96-token answer to an
    # everyday request outweighs a 3-token "green (D)" 30 to 1) or "example" (each row's mean over its own response
    # tokens, then the mean over rows: every example weighs the same).
    ce_average: str = "token"
    max_length: int = 1024  # tokens per example (prompt + response); longer responses are cut
    dtype: str = "float32"  # weights as loaded (mixed precision is train.mixed_precision)
    gradient_checkpointing: bool = False  # recompute activations in backward (large LLMs)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(output_dir="runs/slm", learning_rate=1e-4,
                                                                   warmup_steps=0))

    def __post_init__(self):
        if self.stage not in (1, 2):
            raise ConfigError(f"stage must be 1 or 2, got {self.stage}")
        if isinstance(self.features, str):
            self.features = [self.features]
        if not 0.0 <= self.kd_alpha <= 1.0:
            raise ConfigError(f"kd_alpha must be between 0 and 1, got {self.kd_alpha}")
        if self.dtype not in DTYPES:
            raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.lora and self.stage == 1:
            raise ConfigError("lora is a stage-2 setting (stage 1 trains the projector only)")
        if self.freeze_projector and self.stage == 1:
            raise ConfigError("freeze_projector is a stage-2 setting (stage 1 trains the projector only)")
        if self.freeze_adapter and not (self.stage == 2 and self.lora and not self.freeze_projector):
            raise ConfigError("freeze_adapter is a stage-2 LoRA setting and leaves the projector to train: it needs "
                              "stage 2, lora: true and freeze_projector: false")
        shares = {"prosody_swap": self.prosody_swap, "learned_swap": self.learned_swap,
                  "content_acoustic_swap": self.content_acoustic_swap,
                  "content_acoustic_mean": self.content_acoustic_mean,
                  "content_mean_pull": self.content_mean_pull,
                  **{f"task_learned_swap.{task}": share for task, share in self.task_learned_swap.items()}}
        for name, share in shares.items():
            if not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
                raise ConfigError(f"{name} must be between 0 and 1, got {share}")
        for task, names in self.task_acoustics.items():
            unknown = sorted(set(names) - set(ACOUSTIC_FEATURES))
            if unknown or not names:
                raise ConfigError(f"task_acoustics.{task}: expected names from {', '.join(ACOUSTIC_FEATURES)}, "
                                  f"got {names}")
        for task, ranges in self.task_f0_shift.items():
            if not isinstance(ranges, dict) or not all(map(_is_range, ranges.values())):
                raise ConfigError(f"task_f0_shift.{task}: expected label -> [low, high] octaves, got {ranges}")
        if not self.encoder_lr_scale > 0.0:
            raise ConfigError(f"encoder_lr_scale must be > 0, got {self.encoder_lr_scale}")
        if not self.learned_noise >= 0.0:
            raise ConfigError(f"learned_noise must be >= 0, got {self.learned_noise}")
        if self.encoder_noise is not None and not self.encoder_noise >= 0.0:
            raise ConfigError(f"encoder_noise must be >= 0 or null, got {self.encoder_noise}")
        if len(self.branch_dropout) != 2 or not all(0.0 <= p < 1.0 for p in self.branch_dropout):
            raise ConfigError(f"branch_dropout: two probabilities in [0, 1) (learned, acoustic), "
                              f"got {self.branch_dropout}")
        if self.base_kd < 0 or (self.base_kd > 0 and not (self.lora and self.kd_alpha > 0)):
            raise ConfigError(f"base_kd must be >= 0 and needs lora: true and kd_alpha > 0 (the adapter is switched "
                              f"off to read the original LLM), got base_kd {self.base_kd}")
        if self.on_policy and not self.kd_alpha > 0:
            raise ConfigError("on_policy rows are trained by the KL term alone: set kd_alpha > 0")
        if self.kd_rows not in ("all", "distill"):
            raise ConfigError(f"kd_rows must be 'all' or 'distill', got {self.kd_rows!r}")
        if self.ce_average not in ("token", "example"):
            raise ConfigError(f"ce_average must be 'token' or 'example', got {self.ce_average!r}")
        if self.max_length < 8:
            raise ConfigError(f"max_length must be >= 8, got {self.max_length}")
        if not self.label_aux >= 0.0:
            raise ConfigError(f"label_aux must be >= 0, got {self.label_aux}")
        if self.label_head_norm is not None and not self.label_head_norm > 0.0:
            raise ConfigError(f"label_head_norm must be > 0 or null, got {self.label_head_norm}")
        if not 0.0 <= self.neutral_content <= 1.0:
            raise ConfigError(f"neutral_content must be in [0, 1], got {self.neutral_content}")
        if not self.mean_voice_kl >= 0.0:
            raise ConfigError(f"mean_voice_kl must be >= 0, got {self.mean_voice_kl}")
        if self.adapter_gate_layer is not None and not (self.stage == 2 and self.lora and self.adapter_gate_layer >= 0):
            raise ConfigError(f"adapter_gate_layer needs stage 2 with lora: true and a layer >= 0, got "
                              f"{self.adapter_gate_layer}")

    @classmethod
    def from_yaml(cls, path, stage: int | None = None, overrides=()) -> SLMTrainingConfig:
        """Load a config (`textpro.train.config`); with a `stages:` section, `stage` picks the settings to merge over
        the top level. Dotted `overrides` ("train.max_steps=5") apply last."""
        data = read_yaml(path)
        stages = data.pop("stages", None)
        if stages is not None:
            if stage is None:
                raise ConfigError(f"{path} holds several stages: pass --stage 1 or 2")
            selected = stages.get(stage, stages.get(str(stage)))
            if selected is None:
                raise ConfigError(f"{path}: no settings for stage {stage} under 'stages'")
            data = merge(data, selected)
            data["stage"] = stage
        elif stage is not None:
            if data.setdefault("stage", stage) != stage:
                raise ConfigError(f"{path} is a stage-{data['stage']} config, but --stage {stage} was given")
        return config_from_dict(cls, override(data, overrides), str(path))


def _is_range(bounds) -> bool:
    """[low, high] numbers with low <= high."""
    return (isinstance(bounds, (list, tuple)) and len(bounds) == 2
            and all(isinstance(b, (int, float)) for b in bounds) and bounds[0] <= bounds[1])


# ---- data -------------------------------------------------------------------------------------------------------

ALL_VECTORS = ("prosody", "utterance", "acoustics", "encoder_mean")  # a feature record's vectors: all but the words
LEARNED_VECTORS = ("prosody", "utterance", "encoder_mean")  # WhisperPro's learned vectors, not the measured acoustics
F0_FEATURE = ACOUSTIC_FEATURES.index("f0_median_oct")


class SLMDataset(Dataset):
    """Examples over feature stores; a feature record is loaded only when its example is drawn."""

    def __init__(self, stores: list[FeatureStore], examples: list[Example], prosody_swap: float = 0.0, seed: int = 0,
                 learned_swap: float = 0.0, task_acoustics: dict[str, list[str]] | None = None,
                 task_learned_swap: dict[str, float] | None = None,
                 task_f0_shift: dict[str, dict[str, list[float]]] | None = None,
                 own_encoder_mean: Sequence[str] = (), neutral_content: float = 0.0,
                 content_acoustic_swap: float = 0.0, content_acoustic_mean: float = 0.0,
                 content_mean_pull: float = 0.0):
        if not examples:
            raise ConfigError("no training examples: give distillation data (distill:) or feature caches whose "
                              "records carry paralinguistic tasks")
        self.stores, self.examples = stores, examples
        self.own_encoder_mean = set(own_encoder_mean or ())
        # example -> (store, index) of the clip whose vectors it reads instead of its own: all of them on a distillation
        # row (prosody_swap), the learned ones only on a paralinguistic row (learned_swap)
        rng = np.random.default_rng([seed, 1])
        clips = [(s, i) for s, store in enumerate(stores) for i in range(len(store))]
        self.swaps: dict[int, tuple[int, int]] = {}
        # example -> (store, index) of the clip whose acoustics it reads, but for those of its task in task_acoustics
        self.partners: dict[int, tuple[int, int]] = {}
        partner_rng = np.random.default_rng([seed, 2])  # a stream of its own: the swaps do not move with task_acoustics
        self.own_acoustics = {task: [ACOUSTIC_FEATURES.index(name) for name in names]
                              for task, names in (task_acoustics or {}).items()}
        # example -> octaves added to the median F0 it reads (task_f0_shift), from a stream of its own as well
        self.f0_shifts: dict[int, float] = {}
        shift_rng = np.random.default_rng([seed, 3])
        # the content rows that read the projector's training mean (neutral_content), from a stream of their own too
        neutral_rng = np.random.default_rng([seed, 5])
        self.neutral = {n for n, e in enumerate(examples)
                        if e.kind == "distill" and neutral_rng.random() < neutral_content}
        # content row -> (store, index) of the clip whose acoustics alone it reads (content_acoustic_swap), likewise
        acoustic_rng = np.random.default_rng([seed, 6])
        self.acoustic_swaps = {n: clips[int(acoustic_rng.integers(len(clips)))] for n, e in enumerate(examples)
                               if e.kind == "distill" and acoustic_rng.random() < content_acoustic_swap
                               and len(clips) > 1}
        # content rows whose acoustics read their training mean (content_acoustic_mean; set by SLMObjective, which
        # holds the projector's statistics), from a stream of their own
        acoustic_mean_rng = np.random.default_rng([seed, 7])
        self.acoustic_mean = {n for n, e in enumerate(examples)
                              if e.kind == "distill" and acoustic_mean_rng.random() < content_acoustic_mean}
        # content row -> the fraction of the way to the training-mean voice it is moved (content_mean_pull), likewise
        pull_rng = np.random.default_rng([seed, 8])
        self.mean_pulls = {n: float(pull_rng.uniform()) for n, e in enumerate(examples)
                           if e.kind == "distill" and pull_rng.random() < content_mean_pull}
        for n, e in enumerate(examples):
            bounds = (task_f0_shift or {}).get(e.kind, {}).get(e.label)
            if bounds:
                self.f0_shifts[n] = float(shift_rng.uniform(*bounds))
            share = prosody_swap if e.kind == "distill" else (task_learned_swap or {}).get(e.kind, learned_swap)
            if share and rng.random() < share and len(clips) > 1:
                self.swaps[n] = clips[int(rng.integers(len(clips)))]
            if e.kind in self.own_acoustics and len(clips) > 1:
                self.partners[n] = self.swaps.get(n) or clips[int(partner_rng.integers(len(clips)))]

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def lengths(self) -> list[int]:
        """Characters of transcript + instruction + response: a cheap proxy of token count for length grouping."""
        return [(len(e.text) if e.text is not None else _speech_length(self.stores[e.store].index[e.index]))
                + len(e.instruction or "") + len(e.response) for e in self.examples]

    def __getitem__(self, i: int) -> dict:
        e = self.examples[i]
        speech = self.stores[e.store][e.index]
        if e.text is not None:  # a written prompt: this clip's prosody around the prompt's words
            speech = {**speech, "text": e.text, "token_ids": []}
        if i in self.swaps:  # the transcript stays; how it was said (or its learned part) comes from another clip
            s, j = self.swaps[i]
            other = self.stores[s][j]
            keys = ALL_VECTORS if e.kind == "distill" else LEARNED_VECTORS
            if e.kind in self.own_encoder_mean:
                keys = tuple(k for k in keys if k != "encoder_mean")
            speech = {**speech, **{k: other[k] for k in keys if k in other}}
        if i in self.acoustic_swaps and "acoustics" in speech:  # the voice's measured cues disagree with its vector
            s, j = self.acoustic_swaps[i]
            speech = {**speech, "acoustics": self.stores[s][j]["acoustics"]}
        if i in self.partners and "acoustics" in speech:  # the task's own cues stay, the rest from another voice
            s, j = self.partners[i]
            acoustics = np.array(self.stores[s][j]["acoustics"], dtype=np.float32)
            own = self.own_acoustics[e.kind]
            acoustics[own] = np.asarray(speech["acoustics"], dtype=np.float32)[own]
            speech = {**speech, "acoustics": acoustics}
        if i in self.f0_shifts and "acoustics" in speech:  # the same voice, heard higher or lower
            acoustics = np.array(speech["acoustics"], dtype=np.float32)
            acoustics[F0_FEATURE] += self.f0_shifts[i]
            speech = {**speech, "acoustics": acoustics}
        return {"speech": speech, "instruction": e.instruction, "response": e.response, "kind": e.kind,
                "label": e.label, "ce": e.ce, "neutral": i in self.neutral,
                "acoustic_mean": i in self.acoustic_mean, "mean_pull": self.mean_pulls.get(i, 0.0)}


def _speech_length(entry: dict) -> int:
    # transcript characters; an encoder-only record has no transcript: its ~25 positions per second instead
    return len(entry["text"]) or round(25 * float(entry.get("duration", 0)))


class SLMCollator:
    """Examples → the TextProSLM batch (input_ids, attention_mask, labels, prosody_vectors, prosody_mask), plus the
    teacher's text-only view for the KL term: the same rows with every placeholder removed."""

    def __init__(self, builder, max_length: int, with_teacher: bool = False, kd_rows: str = "all",
                 label_tasks: dict[str, list[str]] | None = None):
        self.builder, self.max_length, self.with_teacher, self.kd_rows = builder, max_length, with_teacher, kd_rows
        self.label_tasks = label_tasks  # task -> labels: adds each row's task and label index (SLMObjective's heads)

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        batch = self.builder.build_training_batch(examples, self.max_length)
        batch["ce_row"] = torch.tensor([ex.get("ce", True) for ex in examples])  # (B,) False: the KL term alone
        batch["neutral_row"] = torch.tensor([ex.get("neutral", False) for ex in examples])  # (B,) reads the mean
        batch["acoustic_mean_row"] = torch.tensor([ex.get("acoustic_mean", False) for ex in examples])  # (B,)
        batch["mean_pull"] = torch.tensor([ex.get("mean_pull", 0.0) for ex in examples])  # (B,) 0: the row's voice
        batch["content_row"] = torch.tensor([ex.get("kind", "distill") == "distill" for ex in examples])  # (B,)
        if self.label_tasks:
            tasks = list(self.label_tasks)
            pairs = [(tasks.index(ex["kind"]), self.label_tasks[ex["kind"]].index(ex["label"]))
                     if ex.get("label") in self.label_tasks.get(ex.get("kind"), ()) else (-1, -1)  # -1: no label
                     for ex in examples]
            batch["label_task"] = torch.tensor([task for task, _ in pairs])
            batch["label_index"] = torch.tensor([label for _, label in pairs])
        if self.with_teacher:
            keep = (batch["input_ids"] != self.builder.placeholder_id) & batch["attention_mask"].bool()  # (B, L)
            width = int(keep.sum(1).max())
            ids = torch.full((len(keep), width), self.builder.pad_id, dtype=torch.long)
            labels = torch.full((len(keep), width), IGNORE_INDEX, dtype=torch.long)
            mask = torch.zeros((len(keep), width), dtype=torch.long)
            for row in range(len(keep)):
                n = int(keep[row].sum())
                ids[row, :n], labels[row, :n] = batch["input_ids"][row, keep[row]], batch["labels"][row, keep[row]]
                mask[row, :n] = 1
            kd_row = batch["content_row"] | (self.kd_rows == "all")  # (B,) rows the KL terms read
            batch.update(teacher_input_ids=ids, teacher_attention_mask=mask, teacher_labels=labels, kd_row=kd_row)
        return batch


# ---- objective --------------------------------------------------------------------------------------------------

class SLMObjective(nn.Module):
    """loss = (1−α)·CE(response) + α·KL(teacher ‖ student) [+ β·KL(teacher ‖ student with the adapter off)] over the
    response tokens [+ δ·KL(student at the mean voice ‖ student) over the content rows' response tokens] [+ γ·CE(the
    label heads on the projected vector) over the paralinguistic rows]. The CE skips on-policy rows (`ce_row` False:
    the response is the student's own answer)."""

    def __init__(self, slm, kd_alpha: float = 0.0, kd_temperature: float = 1.0, teacher: nn.Module | None = None,
                 ce_average: str = "token", base_kd: float = 0.0, encoder_lr_scale: float = 1.0,
                 label_aux: float = 0.0, label_tasks: dict[str, list[str]] | None = None,
                 label_head_norm: float | None = None, mean_voice_kl: float = 0.0):
        super().__init__()
        self.slm = slm
        # γ of the auxiliary label term and its linear heads, one per task (label_tasks order = the collator's)
        self.label_aux, self.label_head_norm = label_aux, label_head_norm
        d_llm = slm.llm.get_input_embeddings().embedding_dim
        self.label_heads = nn.ModuleList(
            [nn.Linear(d_llm, len(labels)) for labels in (label_tasks or {}).values()] if label_aux > 0 else [])
        for head in self.label_heads:  # free heads start at zero: no gradient reaches the projector until a head has
            nn.init.zeros_(head.bias)    # learned something; a bounded head needs a direction (it learns one fast)
            if label_head_norm is None:
                nn.init.zeros_(head.weight)
        self.encoder_lr_scale = encoder_lr_scale
        self.kd_alpha, self.kd_temperature, self.ce_average = kd_alpha, kd_temperature, ce_average
        self.base_kd = base_kd  # β of the adapter-off KL term (0: none)
        self.mean_voice_kl = mean_voice_kl  # δ of the mean-voice consistency term (0: none)
        self.teacher = teacher  # a frozen copy of the original LLM (full fine-tune); None: the student's own LLM
        self.register_state_dict_post_hook(_drop_frozen_from_state_dict)
        self.register_load_state_dict_post_hook(_allow_missing_frozen)

    STUDENT_KEYS = ("input_ids", "attention_mask", "prosody_vectors", "prosody_mask", "labels")

    # The label heads start at zero and learn at this multiple of the learning rate: a stage-2 rate (1e-4) would
    # leave a linear head over a ~3-norm vector near zero for the whole of a 100-step continuation.
    LABEL_HEAD_LR_SCALE = 25.0

    def parameter_groups(self) -> list[dict]:
        """The training loop's parameter groups: the projector's encoder-mean weight at encoder_lr_scale, the label
        heads at LABEL_HEAD_LR_SCALE."""
        branch = self.slm.projector.linear_encoder
        encoder = [] if branch is None else list(branch.parameters())
        heads = list(self.label_heads.parameters())
        rest = [p for p in self.parameters() if all(p is not q for q in encoder + heads)]
        return ([{"params": rest}] + ([{"params": encoder, "lr_scale": self.encoder_lr_scale}] if encoder else [])
                + ([{"params": heads, "lr_scale": self.LABEL_HEAD_LR_SCALE}] if heads else []))

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        projector = self.slm.projector
        neutral, acoustic_mean = batch.get("neutral_row"), batch.get("acoustic_mean_row")
        pull = batch.get("mean_pull")
        if any(rows is not None and rows.any() for rows in (neutral, acoustic_mean, pull)):
            vectors = batch["prosody_vectors"].clone()  # (B, M, d_whisper + n_acoustic + n_encoder)
            mean = projector.neutral_input().to(vectors)  # (d_whisper + n_acoustic + n_encoder,)
            if acoustic_mean is not None:  # these rows hear their own learned vectors with average acoustics
                d, k = projector.d_whisper, projector.n_acoustic
                vectors[acoustic_mean, :, d:d + k] = mean[d:d + k]
            if pull is not None:  # these rows hear a voice part of the way to the training mean (0: their own)
                vectors = vectors + pull.to(vectors)[:, None, None] * (mean - vectors)
            if neutral is not None:  # these rows hear the training-mean voice
                vectors[neutral] = mean
            batch = {**batch, "prosody_vectors": vectors}
        outputs = self.response_loss(batch)
        if self.label_aux > 0:  # the heads read the projector's output: only the projector (and the heads) move
            label_ce, label_acc = self.label_loss(batch)
            outputs.update(loss=outputs["loss"] + self.label_aux * label_ce, label_ce=label_ce.detach(),
                           label_acc=label_acc)
        return outputs

    def response_loss(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """(1−α)·CE + α·KL [+ β·KL with the adapter off] [+ δ·KL to the mean voice] over the response tokens, with the
        logged parts. Logits are computed only where a response token is predicted (`predicting`): no loss reads the
        LM head and vocabulary softmaxes at prompt positions (1.06–1.08× per CPU step on the default's step without
        them; BENCHMARKS.md)."""
        keep = predicting(batch["labels"])  # (B, L)
        rows_of = keep.nonzero()[:, 0]  # (K,) the row of each kept position, row-major like the logits
        targets = batch["labels"][:, 1:][keep[:, :-1]]  # (K,) the token each kept position predicts
        prompt_mask = batch["attention_mask"].bool() & (batch["labels"] == IGNORE_INDEX)  # an adapter gate reads it
        logits = self.slm(**{k: batch[k] for k in self.STUDENT_KEYS if k != "labels"}, prompt_mask=prompt_mask,
                          logits_to_keep=keep).logits  # (K, V)
        ce_row = batch.get("ce_row")
        if ce_row is not None and not ce_row.all():  # on-policy rows: the student's own answer, only KL may read it
            targets = targets.masked_fill(~ce_row[rows_of], IGNORE_INDEX)
        ce = token_ce(logits, targets) if self.ce_average == "token" else \
            per_example_ce(logits, targets, rows_of, len(keep))
        metrics = {"ce": ce.detach(), "prosody_norm": self.projected_norm(batch)}
        consistency = 0.0  # δ·KL(student at the mean voice ‖ student), added to every loss below
        if self.mean_voice_kl > 0:
            kl_mean = self.mean_voice_loss(batch, logits, keep, rows_of, prompt_mask)
            consistency, metrics["kl_mean"] = self.mean_voice_kl * kl_mean, kl_mean.detach()
        if self.kd_alpha == 0:
            return {"loss": ce + consistency, **metrics}
        rows = batch["kd_row"]  # (B,) the rows the KL terms read (SLMCollator, kd_rows)
        if not rows.any():
            zero = logits.new_zeros(())
            return {"loss": (1 - self.kd_alpha) * ce + consistency, **metrics, "kl": zero,
                    **({"kl_base": zero} if self.base_kd > 0 else {})}
        with torch.no_grad():  # the teacher reads only the rows the KL terms use
            teacher_logits = self._teacher_logits(batch["teacher_input_ids"][rows],
                                                  batch["teacher_attention_mask"][rows],
                                                  predicting(batch["teacher_labels"][rows]))  # (K_kd, V)
        kl = self.kl_to_teacher(logits[rows[rows_of]], teacher_logits)
        loss = (1 - self.kd_alpha) * ce + self.kd_alpha * kl + consistency
        if self.base_kd == 0:
            return {"loss": loss, **metrics, "kl": kl.detach()}
        with self.slm.llm.disable_adapter():  # the original weights reading the projected vector
            base_logits = self.slm(**{k: batch[k][rows] for k in self.STUDENT_KEYS if k != "labels"},
                                   logits_to_keep=keep[rows], route=False).logits  # no adapter: no gate to set
        kl_base = self.kl_to_teacher(base_logits, teacher_logits)
        return {"loss": loss + self.base_kd * kl_base, **metrics, "kl": kl.detach(), "kl_base": kl_base.detach()}

    def mean_voice_loss(self, batch: dict[str, torch.Tensor], logits: torch.Tensor, keep: torch.Tensor,
                        rows_of: torch.Tensor, prompt_mask: torch.Tensor) -> torch.Tensor:
        """KL(the SLM hearing the training mean ‖ the SLM as it heard the batch) over the response tokens of the content
        rows that do not already read the mean; `logits` (K, V) are the batch's own at the `keep` positions, the
        mean-voice side a target (no gradient): one extra forward, without backward, over those rows only."""
        rows = batch["content_row"] & ~batch.get("neutral_row", torch.zeros_like(batch["content_row"]))  # (B,)
        if not rows.any():
            return logits.new_zeros((), dtype=torch.float32)
        inputs = {k: batch[k][rows] for k in self.STUDENT_KEYS if k != "labels"}
        vectors = inputs["prosody_vectors"]  # (R, M, d_in)
        inputs["prosody_vectors"] = self.slm.projector.neutral_input().to(vectors).expand_as(vectors)
        with torch.no_grad():
            target = self.slm(**inputs, prompt_mask=prompt_mask[rows], logits_to_keep=keep[rows]).logits  # (K_rows, V)
        return self.kl_to_teacher(logits[rows[rows_of]], target)

    def label_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean cross-entropy (and accuracy) of each labelled row's head reading the row's projected vectors (their
        mean over the row's placeholders: the one utterance vector in global injection)."""
        rows = batch["label_task"] >= 0  # (B,)
        if not rows.any():
            zero = batch["prosody_vectors"].new_zeros((), dtype=torch.float32)
            return zero, zero
        mask = batch["prosody_mask"][rows].unsqueeze(-1).float()  # (R, M, 1)
        projected = self.slm.projector(batch["prosody_vectors"][rows]).float()  # (R, M, d_llm)
        pooled = (projected * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (R, d_llm)
        losses, right = [], []
        tasks, labels = batch["label_task"][rows].tolist(), batch["label_index"][rows]
        for r, task in enumerate(tasks):
            head, label = self.label_heads[task], labels[r]
            weight = head.weight if self.label_head_norm is None else \
                self.label_head_norm * F.normalize(head.weight, dim=1, eps=1e-8)  # (n_labels, d_llm)
            logits = F.linear(pooled[r], weight, head.bias)  # (n_labels,)
            losses.append(F.cross_entropy(logits[None], label[None]))
            right.append(logits.argmax() == label)
        return torch.stack(losses).mean(), torch.stack(right).float().mean()

    @torch.no_grad()
    def projected_norm(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean L2 norm of the batch's projected vectors (logged: a vector far louder than a token drowns the text)."""
        rows = batch["prosody_vectors"][batch["prosody_mask"].bool()]
        return self.slm.projector(rows).norm(dim=-1).mean() if len(rows) else torch.zeros(())

    def kl_to_teacher(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
        """Token-level KL(p_teacher ‖ p_student) averaged over response tokens; both (K, V), the logits that predict
        the KL rows' response tokens. Both sequences hold the same response tokens in the same order, so the two
        sets of kept positions line up one to one."""
        t = self.kd_temperature
        log_p_student = F.log_softmax(student_logits.float() / t, dim=-1)
        log_p_teacher = F.log_softmax(teacher_logits.float() / t, dim=-1)
        return F.kl_div(log_p_student, log_p_teacher, log_target=True, reduction="batchmean") * t * t

    def _teacher_logits(self, input_ids, attention_mask, keep) -> torch.Tensor:
        """(K, V): the original LLM's logits at the `keep` positions of the text-only rows."""
        kwargs = dict(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, logits_to_keep=keep)
        if self.teacher is not None:
            return self.teacher(**kwargs).logits
        if self.slm.is_lora:
            with self.slm.llm.disable_adapter():  # the base weights: the original LLM
                return self.slm.llm(**kwargs).logits
        return self.slm.llm(**kwargs).logits  # frozen

    def save_pretrained(self, directory) -> None:
        self.slm.save_pretrained(directory)



def predicting(labels: torch.Tensor) -> torch.Tensor:
    """(B, L) bool: the positions whose next token is a response token (labels (B, L), IGNORE_INDEX elsewhere): the
    only logits the losses read (`logits_to_keep`)."""
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE_INDEX
    return keep


def per_example_ce(logits: torch.Tensor, targets: torch.Tensor, rows_of: torch.Tensor, n_rows: int) -> torch.Tensor:
    """Cross-entropy averaged over each row's response tokens, then over the rows that have any (0 if none has).
    logits (K, V) at the kept positions; targets (K,) the tokens they predict (IGNORE_INDEX: not a CE target);
    rows_of (K,) each position's row of the n_rows."""
    losses = F.cross_entropy(logits.float(), targets, ignore_index=IGNORE_INDEX, reduction="none")  # (K,)
    labelled = (targets != IGNORE_INDEX).float()
    sums = losses.new_zeros(n_rows).index_add(0, rows_of, losses)  # (B,)
    counts = labelled.new_zeros(n_rows).index_add(0, rows_of, labelled)  # (B,)
    rows = counts > 0
    if not rows.any():
        return logits.sum() * 0.0  # keeps the graph: a micro-batch of on-policy rows only
    return (sums[rows] / counts[rows]).mean()


def token_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged over every response token of the batch (0 if there is none). logits (K, V), targets
    (K,) as above."""
    if not (targets != IGNORE_INDEX).any():
        return logits.sum() * 0.0
    return F.cross_entropy(logits.float(), targets, ignore_index=IGNORE_INDEX)


def _drop_frozen_from_state_dict(module, state_dict, prefix, local_metadata) -> None:
    """state_dict post-hook: checkpoints carry the trainable weights only (the frozen ones are the base model's)."""
    for name, p in module.named_parameters(remove_duplicate=False):
        if not p.requires_grad:
            state_dict.pop(prefix + name, None)


def _allow_missing_frozen(module, incompatible_keys) -> None:
    """load_state_dict post-hook: frozen weights missing from a checkpoint are expected (they come with the base)."""
    frozen = {name for name, p in module.named_parameters(remove_duplicate=False) if not p.requires_grad}
    keep = [k for k in incompatible_keys.missing_keys if k not in frozen and k.partition(".")[2] not in frozen]
    incompatible_keys.missing_keys[:] = keep


def projector_inputs(slm, stores: list[FeatureStore], limit: int = 2000) -> torch.Tensor:
    """(N, projector width): the vectors the projector reads for (up to `limit`, evenly spaced) training records."""
    records = [(store, i) for store in stores for i in range(len(store))]
    step = max(1, len(records) // limit)
    rows = [slm.builder.speech(store[i])[1] for store, i in records[::step]]
    return torch.from_numpy(np.concatenate(rows))


def build_model(config: SLMTrainingConfig, stores: list[FeatureStore], llm=None, tokenizer=None):
    """The TextProSLM of the config's stage, ready to train (llm/tokenizer: tiny test models for stage 1)."""
    from textpro.slm.model import TextProSLM

    dtype = DTYPES[config.dtype]
    if config.init_from:
        slm = TextProSLM.from_pretrained(config.init_from, dtype=dtype, is_trainable=True)
        if config.slm.encoder_summary and not slm.config.encoder_summary:  # a trained model gains the encoder branch
            slm.config.encoder_summary = True
            slm.projector.add_encoder_branch(slm.config.n_encoder)
            start = slm.config.d_whisper + slm.config.n_acoustic
            slm.projector.fit_encoder_input(projector_inputs(slm, stores)[:, start:])
    else:
        if config.stage == 2:
            raise ConfigError("stage 2 starts from the stage-1 model: set init_from to its directory")
        slm_config = TextProSLMConfig(**config.slm.to_dict())
        slm_config.d_whisper = stores[0].d_whisper  # what the features are
        slm_config.whisperpro = stores[0].whisperpro
        if stores[0].kind == "encoder":
            slm_config.encoder_pool = int(stores[0].meta["encoder_pool"])
        slm = TextProSLM.from_base(slm_config, llm=llm, tokenizer=tokenizer, dtype=dtype)
    wanted = "encoder" if slm.config.audio_input == "encoder_baseline" else "whisperpro"
    for store in stores:
        if store.kind != wanted:
            raise ConfigError(f"{store.directory}: {store.kind} features, but the model reads "
                              f"audio_input = {slm.config.audio_input} (needs {wanted} features"
                              + (": textpro featurize --encoder-only)" if wanted == "encoder" else ")"))
        if wanted == "encoder" and int(store.meta["encoder_pool"]) != slm.config.encoder_pool:
            raise ConfigError(f"{store.directory}: encoder frames pooled by {store.meta['encoder_pool']}, the model "
                              f"reads encoder_pool = {slm.config.encoder_pool}")
    for store in stores:
        if store.d_whisper != slm.config.d_whisper:
            raise ConfigError(f"{store.directory}: features have width {store.d_whisper}, the model reads "
                              f"d_whisper = {slm.config.d_whisper}")
    if not config.init_from:  # a new projector: standardise what it reads (a loaded one keeps its statistics)
        slm.projector.fit_input(projector_inputs(slm, stores), balance=config.slm.acoustic_balance)
    lora = None
    if config.stage == 2 and config.lora:
        from peft import LoraConfig

        s = config.lora_settings
        lora = LoraConfig(task_type="CAUSAL_LM", r=s.r, lora_alpha=s.alpha, lora_dropout=s.dropout,
                          target_modules=list(s.target_modules))
    if config.freeze_adapter and not slm.is_lora:  # a fresh adapter kept at zero would be no adapter at all
        raise ConfigError(f"freeze_adapter: {config.init_from} has no LoRA adapter to keep")
    adapter_seed = config.lora_settings.init_seed if lora is not None else None
    with torch.random.fork_rng(enabled=adapter_seed is not None):  # the run's own random stream stays as it was
        if adapter_seed is not None:
            torch.manual_seed(adapter_seed)
        slm.prepare_stage(config.stage, lora=lora, train_projector=not config.freeze_projector,
                          train_adapter=not config.freeze_adapter)
    if config.gradient_checkpointing:
        slm.llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return slm.train()


def fit_adapter_gate(slm, dataset: SLMDataset, layer: int, limit: int = 2000, seed: int = 0,
                     batch_size: int = 32) -> AdapterGate:
    """A new adapter gate (gate.py) whose router is fitted on up to `limit` of the run's own rows, drawn by the seed:
    the turns asking about the voice (paralinguistic rows) → 1, the content rows → 0."""
    d_llm = slm.llm.get_input_embeddings().embedding_dim
    gate = AdapterGate(d_llm, layer).to(slm.device)
    picks = np.random.default_rng([seed, 4]).permutation(len(dataset))[:limit]
    features, labels = [], []
    for start in tqdm(range(0, len(picks), batch_size), desc="adapter gate: reading the rows", leave=False):
        items = [dataset[int(i)] for i in picks[start:start + batch_size]]
        batch = slm.builder.build_generation_batch([(item["speech"], item["instruction"]) for item in items])
        features.append(gate.features(slm.llm, batch["input_ids"].to(slm.device),
                                      batch["attention_mask"].bool().to(slm.device), slm.placeholder_id))
        labels += [float(item["kind"] != "distill") for item in items]
    z, y = torch.cat(features), torch.tensor(labels)
    loss = gate.fit(z, y)
    with torch.no_grad():
        g = gate(z)
    print(f"adapter gate (layer {layer}) fitted on {int(y.sum())} paralinguistic and {int((y == 0).sum())} content "
          f"rows: loss {loss:.4f}, gate on paralinguistic rows ≥ {float(g[y > 0].min()):.3f}, on content rows ≤ "
          f"{float(g[y == 0].max()):.3f}", flush=True)
    return gate


def build(config: SLMTrainingConfig, llm=None, tokenizer=None):
    """(objective, dataset, collator) for a training config."""
    if not config.features:
        raise ConfigError("features is not set: give the feature cache directories (`textpro featurize`)")
    stores = [FeatureStore(d) for d in config.features]
    if config.kd_alpha > 0 and any(store.kind == "encoder" for store in stores):
        raise ConfigError("kd_alpha > 0 needs a transcript for the teacher to read: the encoder baseline has none "
                          "(use kd_alpha: 0, CE on the teacher's answers)")
    distill = distillation_examples(stores, config.distill) if config.distill else []
    if config.text_distill:
        distill += written_examples(stores, config.text_distill, config.train.seed)
    if config.on_policy:
        distill += distillation_examples(stores, config.on_policy, ce=False)
    para = paralinguistic_examples(stores, config.paralinguistic) if config.use_paralinguistic else []
    examples = mix(distill, para, config.paralinguistic.ratio, config.train.seed,
                   balance_tasks=config.paralinguistic.balance_tasks,
                   resample_phrasings=config.paralinguistic.resample_phrasings,
                   yes_no_own_share=config.paralinguistic.yes_no_own_share,
                   balance_labels=tuple(config.paralinguistic.balance_labels),
                   task_weights=config.paralinguistic.task_weights)
    dataset = SLMDataset(stores, examples, config.prosody_swap, config.train.seed, config.learned_swap,
                         config.task_acoustics, config.task_learned_swap, config.task_f0_shift,
                         config.own_encoder_mean, config.neutral_content, config.content_acoustic_swap,
                         config.content_acoustic_mean, config.content_mean_pull)

    slm = build_model(config, stores, llm, tokenizer)
    if config.adapter_gate_layer is not None and slm.gate is None:
        slm.set_gate(fit_adapter_gate(slm, dataset, config.adapter_gate_layer, seed=config.train.seed))
    slm.projector.branch_dropout = tuple(config.branch_dropout)
    slm.projector.learned_noise = config.learned_noise
    slm.projector.encoder_noise = config.encoder_noise
    teacher = None
    if config.kd_alpha > 0 and config.stage == 2 and not config.lora:  # the student's LLM changes: keep the original
        teacher = copy.deepcopy(slm.llm).requires_grad_(False).eval()
    label_tasks = dict(config.paralinguistic.labels) if config.label_aux > 0 else None
    objective = SLMObjective(slm, config.kd_alpha, config.kd_temperature, teacher, config.ce_average, config.base_kd,
                             config.encoder_lr_scale, config.label_aux, label_tasks, config.label_head_norm,
                             config.mean_voice_kl)
    collator = SLMCollator(slm.builder, config.max_length, with_teacher=config.kd_alpha > 0, kd_rows=config.kd_rows,
                           label_tasks=label_tasks)
    return objective, dataset, collator


def run(config: SLMTrainingConfig, resume: bool = False, stop_after: int | None = None, llm=None, tokenizer=None):
    """Train as configured (`textpro.train.kind.run_training`; the seed also fixes the projector's and LoRA's init);
    returns the loop's TrainResult (the TextPro-SLM checkpoint in `<output_dir>/model`)."""
    return run_training(config, lambda: build(config, llm, tokenizer), f"slm stage {config.stage}", resume=resume,
                     stop_after=stop_after)
