"""TextPro-SLM: a text LLM that reads speech as its transcript plus projected prosody vectors (docs/method.md).

    ids    = chat template around [<P> transcript] (+ instruction)            (inputs.py)
    embeds = LLM token embeddings, rows at <P> replaced by projector(prosody)  (B, L, d_llm)
    logits = LLM(inputs_embeds=embeds)

Works for any HF causal LM through `inputs_embeds`. Training step: `loss = model(**batch).loss` with
`batch = model.builder.build_training_batch(examples)`. Stage 1 trains the projector only (`prepare_stage(1)`),
stage 2 the projector and the LLM, fully or through a PEFT LoRA adapter (`prepare_stage(2, lora=...)`).

Checkpoint directory (safetensors only, never pickle, never remote code):
    textpro_config.json        TextProSLMConfig (base LLM, WhisperPro, placeholder, injection mode, ratio, d_whisper)
    projector.safetensors      the prosody projector
    tokenizer files            the LLM tokenizer (with the placeholder token if one was added)
    config.json + model.safetensors                 full fine-tune: the whole LLM (the directory is also a plain HF LLM)
 or adapter_config.json + adapter_model.safetensors LoRA: only the adapter; the base LLM comes from config.base_llm
 or nothing more (llm_in_checkpoint false)          the LLM is config.base_llm unchanged: a stage-1 model (the LLM was
                                                    frozen), so a 7B stage 1 writes megabytes, not a copy of the LLM
    adapter_gate.safetensors   optional, with a LoRA adapter: the per-turn adapter gate (gate.py)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, TextStreamer
from transformers.generation.streamers import BaseStreamer

from textpro.errors import ModelError
from textpro.slm.config import CONFIG_NAME, PROJECTOR_NAME, TextProSLMConfig, checkpoint_relative  # noqa: F401 (PROJECTOR_NAME: re-exported)
from textpro.slm.gate import GATE_NAME, AdapterGate
from textpro.slm.inputs import InputBuilder, as_speech_tokens
from textpro.slm.projector import ProsodyProjector
from textpro.train.kind import IGNORE_INDEX  # the label value outside the response
from textpro.whisperpro.speech_tokens import SpeechTokens

ADAPTER_CONFIG_NAME = "adapter_config.json"
DEFAULT_PLACEHOLDER = "<|prosody|>"  # added as a special token when the vocabulary has no suitable one
# Existing special tokens that never occur in chat text: Qwen2.5's (the released checkpoints' marker, id 151663),
# then the StarCoder-style one in SmolLM2's vocabulary (id 3). Reusing one avoids resizing the embeddings.
REUSABLE_PLACEHOLDERS = ("<|repo_name|>", "<repo_name>")
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def fit_embeddings(llm, n_tokens: int) -> None:
    """Grow the LLM's vocabulary to the tokenizer's, with the new rows at zero (input and output embeddings).
    Zero rather than random: a LoRA checkpoint does not store embeddings, so reloading must rebuild the same rows.
    (A placeholder's input row is never used; its output row only matters if generated, which `generate` forbids.)"""
    old = llm.get_input_embeddings().weight.shape[0]
    if n_tokens <= old:
        return
    llm.resize_token_embeddings(n_tokens, mean_resizing=False)
    with torch.no_grad():
        llm.get_input_embeddings().weight[old:] = 0
        if (out := llm.get_output_embeddings()) is not None:
            out.weight[old:] = 0


def setup_placeholder(tokenizer, llm, token: str | None) -> str:
    """The placeholder token to use, added to the tokenizer (and the LLM's embeddings) when it is not there."""
    vocab = tokenizer.get_vocab()
    if token is None:
        token = next((t for t in REUSABLE_PLACEHOLDERS if t in vocab), DEFAULT_PLACEHOLDER)
    if token not in vocab:
        tokenizer.add_tokens([token], special_tokens=True)
    fit_embeddings(llm, len(tokenizer))
    return token


class TextPieces(TextStreamer):
    """Calls `emit(text)` with each piece of an answer as it becomes final (word boundaries): `generate`'s
    `on_text`, and the server's streamed rows. skip_prompt: the first tokens `put` are the prompt (generate's)."""

    def __init__(self, tokenizer, emit: Callable[[str], None], skip_prompt: bool = True):
        super().__init__(tokenizer, skip_prompt=skip_prompt, skip_special_tokens=True)
        self.emit = emit

    def on_finalized_text(self, text: str, stream_end: bool = False):
        if text:
            self.emit(text)


class TextProSLM(nn.Module):
    def __init__(self, llm, tokenizer, config: TextProSLMConfig, projector: ProsodyProjector | None = None):
        super().__init__()
        self.config = config
        self.llm = llm  # a transformers causal LM, or a peft PeftModel wrapping one
        self.tokenizer = tokenizer
        self.builder = InputBuilder(tokenizer, config)
        self.llm_is_base = False  # True while the LLM is config.base_llm's weights, unchanged (then not saved)
        self.gate: AdapterGate | None = None  # scales the LoRA adapter per turn (set_gate)
        if projector is None:
            table = llm.get_input_embeddings().weight.detach()  # (V, d_llm), no fp32 copy of a 7B model's table
            bias = None
            if config.projector_init == "mean_embedding":  # mean over real rows: the zero rows of added tokens add 0
                bias = table.sum(0, dtype=torch.float32) / (table.abs().amax(1) > 0).sum().clamp(min=1)  # (d_llm,)
            max_norm = None
            if config.projector_max_norm == "token":  # the median norm of the real (non-zero) token embeddings
                norms = table.float().norm(dim=1)
                max_norm = float(norms[norms > 0].median())
            projector = ProsodyProjector(config.d_whisper, table.shape[1], zero_init=config.projector_init != "default",
                                         output_bias=bias, n_acoustic=config.n_acoustic, max_norm=max_norm,
                                         n_encoder=config.n_encoder)
        self.projector = projector.to(llm.get_input_embeddings().weight.device)
        self.projector.input_gain = config.prosody_gain

    @property
    def placeholder_id(self) -> int:
        return self.builder.placeholder_id

    @property
    def device(self) -> torch.device:
        return self.llm.get_input_embeddings().weight.device

    # ---- construction ---------------------------------------------------------------------------------------------
    @classmethod
    def from_base(cls, config: TextProSLMConfig | None = None, llm=None, tokenizer=None,
                  dtype: torch.dtype = torch.float32, device: str | torch.device | None = None) -> TextProSLM:
        """A new (untrained) TextPro-SLM on config.base_llm, or on the given llm + tokenizer (tiny test models)."""
        config = TextProSLMConfig(**(config or TextProSLMConfig()).to_dict())  # our own copy: we fill in the token
        llm_is_base = llm is None
        if llm is None or tokenizer is None:
            from textpro.hub import resolve_model

            path = resolve_model(config.base_llm)
            tokenizer = tokenizer or AutoTokenizer.from_pretrained(path)
            llm = llm or AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        config.placeholder_token = setup_placeholder(tokenizer, llm, config.placeholder_token)
        if device is not None:
            llm.to(device)
        model = cls(llm, tokenizer, config)
        model.llm_is_base = llm_is_base
        return model

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, dtype: torch.dtype | None = None,
                        device: str | torch.device | None = None, is_trainable: bool = False) -> TextProSLM:
        """Load a checkpoint written by `save_pretrained` (full LLM or LoRA adapter), or one of the authors' released
        checkpoints (textpro.slm.release). is_trainable: keep the LoRA adapter trainable and the model in train mode
        (resuming stage 2); otherwise eval mode. dtype None: fp32 (a release: its own dtype, BF16)."""
        directory = Path(directory)
        from textpro.slm.release import is_release_slm, release_slm_parts

        if is_release_slm(directory):
            model = cls(*release_slm_parts(directory, dtype))
            if device is not None:
                model.to(device)
            return model.train(is_trainable)
        dtype = dtype or torch.float32
        if not (directory / CONFIG_NAME).is_file():
            raise ModelError(f"{directory}: not a TextPro-SLM checkpoint (no {CONFIG_NAME})")
        config = TextProSLMConfig.load(directory)
        try:
            return cls._load(directory, config, dtype, device, is_trainable)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:  # a damaged or incomplete checkpoint
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{directory}: cannot load this TextPro-SLM checkpoint: {reason}") from None

    @classmethod
    def _load(cls, directory: Path, config: TextProSLMConfig, dtype, device, is_trainable: bool) -> TextProSLM:
        from textpro.hub import resolve_model

        base_llm = checkpoint_relative(directory, config.base_llm)
        # A LoRA checkpoint may leave the tokenizer out: the base's is the same (the placeholder is an existing token)
        has_tokenizer = (directory / "tokenizer_config.json").is_file()
        tokenizer = AutoTokenizer.from_pretrained(directory if has_tokenizer else resolve_model(base_llm))
        if config.placeholder_token and config.placeholder_token not in tokenizer.get_vocab():
            raise ModelError(f"{directory}: the tokenizer has no {config.placeholder_token!r} (save the tokenizer "
                             "with the checkpoint)")
        if (directory / ADAPTER_CONFIG_NAME).is_file():
            from peft import PeftModel

            base = AutoModelForCausalLM.from_pretrained(resolve_model(base_llm), dtype=dtype)
            fit_embeddings(base, len(tokenizer))  # the same zero rows the adapter was trained with
            llm = PeftModel.from_pretrained(base, directory, is_trainable=is_trainable)
        elif (directory / "config.json").is_file():
            llm = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype)
        elif not config.llm_in_checkpoint:
            llm = AutoModelForCausalLM.from_pretrained(resolve_model(base_llm), dtype=dtype)
            fit_embeddings(llm, len(tokenizer))  # the placeholder's zero rows, as when the model was built
        else:
            raise ModelError(f"{directory}: holds neither LLM weights (config.json) nor a LoRA adapter")
        d_llm = llm.get_input_embeddings().embedding_dim
        projector = ProsodyProjector(config.d_whisper, d_llm, zero_init=False, n_acoustic=config.n_acoustic,
                                     n_encoder=config.n_encoder)
        missing = projector.load_state_dict(load_file(directory / PROJECTOR_NAME), strict=False).missing_keys
        # older checkpoints lack the standardisation, the acoustic mean (none read) and scale (physical units) and
        # the norm bound (unbounded)
        if set(missing) - {"input_mean", "input_std", "acoustic_mean", "acoustic_scale", "max_norm"}:
            raise ModelError(f"{directory / PROJECTOR_NAME}: missing {', '.join(missing)}")
        model = cls(llm, tokenizer, config, projector)
        model.llm_is_base = not config.llm_in_checkpoint
        if (directory / GATE_NAME).is_file():
            model.set_gate(AdapterGate.load(directory / GATE_NAME))
        if device is not None:
            model.to(device)
        return model.train(is_trainable)

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        # A frozen, unchanged base LLM (stage 1) is not copied: loading takes it from base_llm again
        base_only = self.llm_is_base and not self.is_lora and not any(p.requires_grad for p in self.llm.parameters())
        TextProSLMConfig(**{**self.config.to_dict(), "llm_in_checkpoint": not base_only}).save(directory)
        save_file({k: v.detach().cpu().contiguous() for k, v in self.projector.state_dict().items()},
                  directory / PROJECTOR_NAME)
        self.tokenizer.save_pretrained(directory)
        if self.is_lora:
            # embeddings are frozen under LoRA and any added rows are zeros that loading rebuilds: adapter only
            self.llm.save_pretrained(directory, save_embedding_layers=False)
            if self.gate is not None:
                self.gate.save(directory / GATE_NAME)
        elif not base_only:
            self.llm.save_pretrained(directory)
        return directory

    # ---- training setup -------------------------------------------------------------------------------------------
    @property
    def is_lora(self) -> bool:
        from peft import PeftModel

        return isinstance(self.llm, PeftModel)

    def enable_lora(self, lora_config=None, r: int = 16, alpha: int = 32, dropout: float = 0.05) -> TextProSLM:
        """Wrap the LLM with a PEFT LoRA adapter (default: rank r on the attention q/k/v/o projections)."""
        from peft import LoraConfig, get_peft_model

        if self.is_lora:
            return self
        lora_config = lora_config or LoraConfig(task_type="CAUSAL_LM", r=r, lora_alpha=alpha, lora_dropout=dropout,
                                                target_modules=LORA_TARGETS)
        self.llm = get_peft_model(self.llm, lora_config)
        return self

    def merge_lora(self) -> TextProSLM:
        """Fold the adapter into the LLM weights (then save_pretrained writes a full checkpoint)."""
        if self.gate is not None:
            raise ModelError("a gated adapter cannot be folded into the LLM's weights: each turn gets its own share")
        if self.is_lora:
            self.llm = self.llm.merge_and_unload()
            self.llm_is_base = False
        return self

    def set_gate(self, gate: AdapterGate) -> TextProSLM:
        """Scale the LoRA adapter per turn by `gate` (fitted as a router; the LLM's loss leaves it as it is)."""
        if not self.is_lora:
            raise ModelError("the adapter gate scales a LoRA adapter: this model has none")
        if self.gate is not None:
            raise ModelError("this model already has an adapter gate")
        gate.attach(self.llm)
        self.gate = gate.requires_grad_(False).to(self.device)
        return self

    def route(self, input_ids: torch.Tensor, prompt_mask: torch.Tensor | None = None) -> None:
        """Set each row's adapter gate from its prompt (nothing without a gate). input_ids (B, L); prompt_mask (B, L):
        the prompt positions (None: all), without padding and, in a training row, without the response."""
        if self.gate is not None:
            mask = torch.ones_like(input_ids, dtype=torch.bool) if prompt_mask is None else prompt_mask
            self.gate.values = self.gate(self.gate.features(self.llm, input_ids, mask, self.placeholder_id))

    def prepare_stage(self, stage: int, lora=None, train_projector: bool = True,
                      train_adapter: bool = True) -> TextProSLM:
        """Stage 1: LLM frozen, projector trained. Stage 2: projector + LLM; `lora` (True or a peft LoraConfig)
        trains a LoRA adapter instead of every LLM weight; train_projector=False keeps the projector as loaded,
        train_adapter=False a loaded LoRA adapter."""
        if stage == 1:
            self.llm.requires_grad_(False)
        elif stage == 2:
            self.llm_is_base = False  # the LLM (or its adapter) trains from here on
            if lora:
                self.enable_lora(None if lora is True else lora)  # peft freezes everything but the adapter
            elif not self.is_lora:
                self.llm.requires_grad_(True)
        else:
            raise ValueError(f"stage must be 1 or 2, got {stage}")
        self.projector.requires_grad_(train_projector)
        if not train_adapter:
            for name, parameter in self.llm.named_parameters():
                if "lora_" in name:  # peft's names for the adapter's factors
                    parameter.requires_grad_(False)
        return self

    def neutral_speech(self, speech, branch: str | None = None) -> SpeechTokens:
        """The same speech with every prosody vector (and the measured acoustics and mean encoder state) replaced by
        the projector's training mean: what `textpro eval` asks beside the real speech (prosody-neutral accuracy and
        agreement), to show how much the voice moves the answers. Transcript and times are kept. branch "learned"
        (WhisperPro's vectors: prosody and mean encoder state) or "acoustic": only that part is replaced (an
        ablation: which branch do the answers come from?)."""
        if branch not in (None, "learned", "acoustic"):
            raise ValueError(f"branch must be 'learned', 'acoustic' or None, got {branch!r}")
        speech = as_speech_tokens(speech)
        mean = self.projector.neutral_input().detach().cpu().numpy().astype(np.float32)
        d, k = self.config.d_whisper, self.config.n_acoustic
        learned, acoustic, encoder = mean[:d], mean[d:d + k], mean[d + k:]
        changes = {}
        if branch != "acoustic":
            changes.update(prosody=np.repeat(learned[None], len(speech.prosody), axis=0), utterance=learned.copy())
            if self.config.encoder_summary:
                changes.update(encoder_mean=encoder.copy())
        if branch != "learned" and self.config.acoustic_features:
            changes.update(acoustics=acoustic.copy())
        return dataclasses.replace(speech, **changes)

    # ---- forward --------------------------------------------------------------------------------------------------
    def embed(self, input_ids: torch.Tensor, prosody_vectors: torch.Tensor | None = None,
              prosody_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Token embeddings with each placeholder row replaced by the next projected prosody vector of its row.
        input_ids (B, L); prosody_vectors (B, M, d_whisper); prosody_mask (B, M) marks real vectors -> (B, L, d_llm)."""
        embeds = self.llm.get_input_embeddings()(input_ids)  # (B, L, d_llm)
        slots = input_ids == self.placeholder_id  # (B, L)
        if prosody_vectors is None:
            if slots.any():
                raise ValueError("input_ids hold prosody placeholders but no prosody_vectors were given")
            return embeds
        if prosody_mask is None:
            prosody_mask = torch.ones(prosody_vectors.shape[:2], dtype=torch.bool, device=prosody_vectors.device)
        if not torch.equal(slots.sum(1), prosody_mask.sum(1).to(slots.device)):
            raise ValueError(f"placeholders per row {slots.sum(1).tolist()} != prosody vectors per row "
                             f"{prosody_mask.sum(1).tolist()}")
        projected = self.projector(prosody_vectors[prosody_mask.bool()])  # (P, d_llm), row-major like `slots`
        return embeds.masked_scatter(slots.unsqueeze(-1), projected.to(embeds.dtype))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                prosody_vectors: torch.Tensor | None = None, prosody_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, prompt_mask: torch.Tensor | None = None, route: bool = True,
                **llm_kwargs):
        """The keys of `builder.build_training_batch` -> the LLM's CausalLMOutputWithPast (.loss when labels are
        given: mean cross-entropy over labelled tokens, i.e. the response; .logits (B, L, V) for distillation).
        With an adapter gate, each row's gate comes from its prompt: `prompt_mask` (B, L), or the attention mask
        without the labelled positions; route=False keeps the gate already set (for a pass with the adapter off)."""
        llm_kwargs.setdefault("use_cache", False)  # training and scoring: no KV cache to build
        if self.gate is not None and route:
            if prompt_mask is None:
                prompt_mask = torch.ones_like(input_ids, dtype=torch.bool) if attention_mask is None \
                    else attention_mask.bool()
                if labels is not None:
                    prompt_mask = prompt_mask & (labels == IGNORE_INDEX)
            self.route(input_ids, prompt_mask)
        embeds = self.embed(input_ids, prosody_vectors, prosody_mask)
        return self.llm(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels, **llm_kwargs)

    @torch.inference_mode()
    def response_logprobs(self, requests: Sequence) -> list[float]:
        """The mean log-probability per token of each given response as the answer to a spoken turn: requests are
        (speech, instruction or None, response). One right-padded forward pass; the answer's template head and end
        of turn are not scored (as `text_llm.response_logprobs` scores the text LLM)."""
        from textpro.text_llm import span_logprobs

        if not requests:
            return []
        prompts, spans = [], []
        for speech, instruction, response in requests:
            example = self.builder.example(speech, instruction, response)
            _, _, head, tail = self.builder.template(instruction)
            start = next(i for i, x in enumerate(example.labels) if x != IGNORE_INDEX) + len(head)
            if start >= len(example.input_ids) - len(tail):
                raise ValueError("empty response to score")
            prompts.append(example)
            spans.append((start, len(example.input_ids) - len(tail)))
        batch = {k: v.to(self.device) for k, v in self.builder.collate(prompts, "right").items()}
        labels = batch.pop("labels")
        prompt_mask = batch["attention_mask"].bool() & (labels == IGNORE_INDEX)  # the gate reads the prompt alone
        logits = self.forward(**batch, prompt_mask=prompt_mask).logits  # (B, L, V)
        return span_logprobs(logits, batch["input_ids"], spans)

    # ---- generation -----------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate_ids(self, requests: Sequence, max_new_tokens: int = 256, do_sample: bool = False,
                     temperature: float = 1.0, top_p: float = 1.0, streamer: BaseStreamer | None = None,
                     on_text: Callable[[str], None] | None = None, **generate_kwargs) -> torch.Tensor:
        """Answer token ids (B, new), padded with the pad id after each row's end of turn. Arguments as `generate`;
        other keyword arguments go to transformers' GenerationConfig / generate (min_new_tokens, top_k, ...)."""
        if on_text is not None:
            if len(requests) != 1:
                raise ValueError("on_text streams one answer: pass a single request")
            streamer = TextPieces(self.tokenizer, on_text)
        batch = {k: v.to(self.device) for k, v in self.builder.build_generation_batch(requests).items()}
        self.route(batch["input_ids"], batch["attention_mask"].bool())
        embeds = self.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])  # (B, L, d_llm)
        config = GenerationConfig.from_dict(self.llm.generation_config.to_dict())
        eos = config.eos_token_id if config.eos_token_id is not None else []
        eos = sorted({*([eos] if isinstance(eos, int) else eos), self.tokenizer.eos_token_id} - {None})
        if not do_sample:  # the checkpoint's sampling defaults would only raise warnings under greedy decoding
            config.update(temperature=None, top_p=None, top_k=None)
        else:
            config.update(temperature=temperature, top_p=top_p)
        # a generated placeholder would be read back as its raw (meaningless, possibly zero) embedding: forbid it
        config.update(max_new_tokens=max_new_tokens, do_sample=do_sample, pad_token_id=self.builder.pad_id,
                      eos_token_id=eos, suppress_tokens=[self.placeholder_id], use_cache=True)
        model_kwargs = config.update(**generate_kwargs)  # what GenerationConfig does not know goes to the model
        # input_ids ride along for the logits processors (repetition penalty) and the streamer; the model reads
        # the embeddings on the first step and its KV cache after
        out = self.llm.generate(input_ids=batch["input_ids"], inputs_embeds=embeds,
                                attention_mask=batch["attention_mask"], generation_config=config, streamer=streamer,
                                **model_kwargs)  # (B, L + new)
        return out[:, batch["input_ids"].shape[1]:]

    def generate(self, requests: Sequence, max_new_tokens: int = 256, do_sample: bool = False,
                 temperature: float = 1.0, top_p: float = 1.0, streamer: BaseStreamer | None = None,
                 on_text: Callable[[str], None] | None = None, **generate_kwargs) -> list[str]:
        """Answer a batch of spoken turns. requests: SpeechTokens (or cached feature records), or
        (speech, instruction or None) pairs. Batched with left padding and a KV cache; greedy by default, sampling
        with do_sample=True (temperature, top_p). on_text: called with each new piece of text as it is generated
        (batch of one); streamer: any transformers streamer (receives token ids)."""
        if not requests:
            return []
        ids = self.generate_ids(requests, max_new_tokens, do_sample, temperature, top_p, streamer, on_text,
                                **generate_kwargs)
        return [text.strip() for text in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]
