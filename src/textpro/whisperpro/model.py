"""WhisperPro: an HF Whisper whose decoder layer k, read at every emitted token, is that token's prosody vector.

Two things differ from `WhisperForConditionalGeneration`, and both are about lengths:

1. The encoder runs on the clip's own mel frames. HF's encoder insists on 3000 frames (30 s), so a 5 s clip pays
   for 25 s of padding in every encoder layer and in every cross-attention of every decoding step. Here the convs,
   a slice of the positional table and the layers see only T frames; in a batch of different lengths, padded mel
   frames are zeroed before each conv (so the conv edges match the single-clip case) and masked in attention.
2. The decoder passes that mask to its cross-attention (`WhisperDecoderLayer` accepts `encoder_attention_mask`,
   which HF's `WhisperDecoder` always sets to None), so padded frames never leak into a clip's tokens.

With `attention_mask=None` and T = 3000 this is exactly HF's Whisper (the "full window" path, kept for comparison).

Prosody vector of token y_i = `decoder_hidden_states[k]` at the position whose logits emitted y_i, i.e. the input
position just before y_i (HF convention for `hidden_states`: [0] = embeddings, [j] = output of layer j, and the last
entry is after the final layer norm). The training colleague reads the same tensor teacher-forced: position t of
`decoder_input_ids` predicts `labels[t]`, so the rows whose label is a transcript token are its prosody vectors.

The mel reconstructor is training-only and lives outside this class (saved under `reconstructor/`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from transformers import (
    AutoConfig,
    AutoModelForSpeechSeq2Seq,
    DynamicCache,
    EncoderDecoderCache,
    WhisperForConditionalGeneration,
)
from transformers.masking_utils import create_causal_mask
from transformers.modeling_outputs import Seq2SeqLMOutput
from transformers.models.whisper.modeling_whisper import shift_tokens_right

from textpro.hub.adapters import register_base_loader
from textpro.whisperpro.config import WhisperProConfig


@dataclass
class WhisperProOutput(Seq2SeqLMOutput):
    """Seq2SeqLMOutput plus the encoder-frame mask, so a caller that reuses `encoder_last_hidden_state` (decoding,
    alignment, the reconstructor) knows which of its S frames are real."""

    encoder_attention_mask: torch.Tensor | None = None  # (B, S) bool, True = real encoder frame; None = all real


@dataclass
class GreedyOutput:
    tokens: list[list[int]]  # per utterance: emitted text tokens, without the final EOT
    prosody: list[torch.Tensor]  # per utterance: (N_i, d) layer-k state at the step that emitted each token
    encoder_states: torch.Tensor  # (B, S, d)
    encoder_mask: torch.Tensor | None  # (B, S) bool, or None when every frame is real
    cancelled: list[bool] = field(default_factory=list)  # per utterance: it left the batch cancelled (tokens cut)


class WhisperPro(WhisperForConditionalGeneration):
    config_class = WhisperProConfig

    # ----------------------------------------------------------------------------------------------- encoder
    def encode(
        self, input_features: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """input_features (B, n_mels, T), any T ≤ 2·max_source_positions; attention_mask (B, T), 1 = real mel frame
        (None: all T frames are real). Returns encoder states (B, S = ceil(T/2), d) and their mask (B, S) or None."""
        encoder = self.model.encoder
        frames = input_features.shape[-1]
        if frames > 2 * encoder.max_source_positions:
            raise ValueError(f"{frames} mel frames exceed the encoder's {2 * encoder.max_source_positions}")
        frame_mask = None if attention_mask is None or bool(attention_mask.all()) else attention_mask.bool()

        x = input_features.to(encoder.conv1.weight.dtype)
        if frame_mask is not None:
            x = x * frame_mask[:, None]  # conv1 of a shorter clip alone would see its zero padding here
        x = F.gelu(encoder.conv1(x))  # (B, d, T)
        if frame_mask is not None:
            x = x * frame_mask[:, None]  # ... and so would conv2
        x = F.gelu(encoder.conv2(x))  # (B, d, S): stride 2
        x = x.permute(0, 2, 1)  # (B, S, d)
        x = x + encoder.embed_positions.weight[: x.shape[1]]
        x = F.dropout(x, p=encoder.dropout, training=self.training)

        # Encoder frame s is computed from mel frames 2s-1..2s+1; a clip of n mel frames has ceil(n/2) of its own.
        encoder_mask = None if frame_mask is None else frame_mask[:, ::2]
        additive = self._additive_mask(encoder_mask, x.dtype)
        for layer in encoder.layers:
            x = layer(x, additive)
        return encoder.layer_norm(x), encoder_mask

    @staticmethod
    def _additive_mask(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
        """(B, S) bool → (B, 1, 1, S) float: 0 where attended, the dtype's minimum where not (eager and sdpa alike)."""
        if mask is None:
            return None
        additive = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
        return additive.masked_fill(~mask, torch.finfo(dtype).min)[:, None, None, :]

    # ----------------------------------------------------------------------------------------------- decoder
    def new_cache(self) -> EncoderDecoderCache:
        # WhisperConfig maps num_hidden_layers to the *encoder* layers; the cache needs the decoder's count.
        config = copy.deepcopy(self.config)
        config.num_hidden_layers = self.config.decoder_layers
        return EncoderDecoderCache(DynamicCache(config=config), DynamicCache(config=config))

    def decode(
        self,
        input_ids: torch.Tensor,
        encoder_states: torch.Tensor,
        encoder_mask: torch.Tensor | None = None,
        cache: EncoderDecoderCache | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """input_ids (B, L) (only the new tokens when `cache` holds the earlier ones); encoder_states (B, S, d).
        Returns the final-norm states (B, L, d) and all hidden states (embeddings, layer 1 … layer n), each (B, L, d),
        the last one after the final layer norm (HF's convention)."""
        decoder = self.model.decoder
        if inputs_embeds is None:
            inputs_embeds = decoder.embed_tokens(input_ids)
        past = cache.get_seq_length() if cache is not None else 0
        if position_ids is None:
            position_ids = torch.arange(past, past + inputs_embeds.shape[1], device=inputs_embeds.device)
            position_ids = position_ids[None].expand(inputs_embeds.shape[0], -1)
        x = inputs_embeds + decoder.embed_positions.weight[position_ids]
        x = F.dropout(x, p=decoder.dropout, training=self.training)

        causal = create_causal_mask(config=self.config, inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                                    cache=cache, position_ids=position_ids)
        cross = self._additive_mask(encoder_mask, x.dtype)
        hidden_states = [x]
        for layer in decoder.layers:
            x = layer(x, causal, encoder_states, encoder_attention_mask=cross, cache=cache,
                      use_cache=cache is not None)
            hidden_states.append(x)
        x = decoder.layer_norm(x)
        hidden_states[-1] = x
        return x, tuple(hidden_states)

    # ----------------------------------------------------------------------------------------------- forward
    def forward(
        self,
        input_features: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs=None,
        cache: EncoderDecoderCache | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        decoder_position_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> WhisperProOutput:
        """Teacher-forced (training) or one decoding step. input_features (B, n_mels, T) with any T ≤ 3000 and
        attention_mask (B, T) marking real mel frames; or encoder_outputs (states (B, S, d)) with
        encoder_attention_mask (B, S). labels (B, L) with -100 where ignored; decoder_input_ids default to labels
        shifted right behind decoder_start_token_id, as in HF Whisper."""
        if labels is not None and decoder_input_ids is None and decoder_inputs_embeds is None:
            decoder_input_ids = shift_tokens_right(labels, self.config.pad_token_id,
                                                   self.config.decoder_start_token_id)
        if encoder_outputs is None:
            encoder_states, encoder_attention_mask = self.encode(input_features, attention_mask)
        else:
            encoder_states = encoder_outputs[0]
        if use_cache and cache is None:
            cache = self.new_cache()
        hidden, hidden_states = self.decode(decoder_input_ids, encoder_states, encoder_attention_mask,
                                            cache=cache if use_cache or cache is not None else None,
                                            attention_mask=decoder_attention_mask,
                                            position_ids=decoder_position_ids, inputs_embeds=decoder_inputs_embeds)
        logits = self.proj_out(hidden)  # (B, L, vocab)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1).to(logits.device),
                                   ignore_index=-100)
        return WhisperProOutput(
            loss=loss, logits=logits, cache=cache,
            decoder_hidden_states=hidden_states if output_hidden_states else None,
            encoder_last_hidden_state=encoder_states, encoder_attention_mask=encoder_attention_mask,
        )

    # ----------------------------------------------------------------------------------------------- decoding
    @torch.inference_mode()
    def greedy_decode(
        self,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor | None,
        prompts: list[list[int]],
        eot: int,
        max_new_tokens: int,
        suppress_tokens: list[int] = (),
        begin_suppress_tokens: list[int] = (),
        capture_prosody: bool = True,
        cancelled: Callable[[], Sequence[bool]] | None = None,
    ) -> GreedyOutput:
        """Greedy decoding with a KV cache, recording the prosody layer's state at every emitted token.

        prompts: per row, the decoder prefix ([<|startofprev|>, previous text…,] SOT[, lang, task], notimestamps),
        all of one length. Only text tokens and EOT can be emitted: every id above EOT (language, task, timestamps …)
        is suppressed. A row leaves the batch (its cache rows too) as soon as it emits EOT, so finished rows cost no
        further steps. cancelled: asked before every step, one flag per row of `prompts`; a flagged row leaves the
        batch before that step, keeps the tokens it emitted so far and is marked in `GreedyOutput.cancelled`."""
        encoder_states, encoder_mask = self.encode(input_features, attention_mask)
        blocked, begin_blocked = self._blocked_tokens(eot, suppress_tokens, begin_suppress_tokens,
                                                      encoder_states.device)
        live = _LiveRows(self.new_cache(), encoder_states, encoder_mask,
                         torch.tensor(prompts, device=encoder_states.device))  # (B, P) first, then (B, 1)
        for step in range(max_new_tokens):
            if cancelled is not None:
                live.cancel(cancelled())
            if not live.rows:
                break
            hidden, hidden_states = self.decode(live.input_ids, live.encoder_states, live.encoder_mask,
                                                cache=live.cache)
            logits = self.proj_out(hidden[:, -1])  # (b, vocab)
            next_token = logits.masked_fill(begin_blocked if step == 0 else blocked, float("-inf")).argmax(-1)
            emitting = hidden_states[self.config.prosody_layer][:, -1] if capture_prosody else None  # (b, d)
            live.record(next_token, emitting, eot)
        tokens, prosody = live.outputs(len(prompts), capture_prosody)
        return GreedyOutput(tokens, prosody, encoder_states, encoder_mask, live.cancelled)

    def _blocked_tokens(self, eot: int, suppress_tokens, begin_suppress_tokens, device
                        ) -> tuple[torch.Tensor, torch.Tensor]:
        """(vocab,) masks of the ids that may not be emitted: every id above EOT and `suppress_tokens`; at the
        first step `begin_suppress_tokens` too."""
        blocked = torch.zeros(self.config.vocab_size, dtype=torch.bool, device=device)
        blocked[eot + 1:] = True
        blocked[list(suppress_tokens)] = True
        begin_blocked = blocked.clone()
        begin_blocked[list(begin_suppress_tokens)] = True
        return blocked, begin_blocked


class _LiveRows:
    """The rows of a greedy decoding batch still decoding, with their slices of the cache and encoder states.
    A row that ends (EOT) or is cancelled is taken out of every tensor at once: no later step computes it."""

    def __init__(self, cache: EncoderDecoderCache, encoder_states: torch.Tensor, encoder_mask: torch.Tensor | None,
                 input_ids: torch.Tensor):
        batch = encoder_states.shape[0]
        self.cache, self.input_ids = cache, input_ids
        self.encoder_states, self.encoder_mask = encoder_states, encoder_mask
        self.rows = list(range(batch))  # the original index of each row still in the batch
        self.tokens: list[list[int]] = [[] for _ in range(batch)]
        self.states: list[list[torch.Tensor]] = [[] for _ in range(batch)]
        self.cancelled = [False] * batch

    def cancel(self, flags: Sequence[bool]) -> None:
        for row in self.rows:
            self.cancelled[row] = bool(flags[row])
        self._keep([i for i, row in enumerate(self.rows) if not self.cancelled[row]])

    def record(self, next_token: torch.Tensor, emitting: torch.Tensor | None, eot: int) -> None:
        """One step's tokens (b,) and prosody states (b, d) for the rows in the batch; the rows that emitted EOT
        leave it (EOT is not kept) and the others' tokens are the next step's input."""
        keep = []
        for i, (row, token) in enumerate(zip(self.rows, next_token.tolist(), strict=True)):
            if token == eot:
                continue
            keep.append(i)
            self.tokens[row].append(token)
            if emitting is not None:
                self.states[row].append(emitting[i])
        self.input_ids = next_token[:, None]
        self._keep(keep)

    def _keep(self, keep: list[int]) -> None:
        if len(keep) == len(self.rows):
            return
        self.rows = [self.rows[i] for i in keep]
        if not keep:
            return
        index = torch.tensor(keep, device=self.encoder_states.device)
        self.cache.batch_select_indices(index)
        self.encoder_states = self.encoder_states.index_select(0, index)
        if self.encoder_mask is not None:
            self.encoder_mask = self.encoder_mask.index_select(0, index)
        self.input_ids = self.input_ids.index_select(0, index)

    def outputs(self, batch: int, capture_prosody: bool) -> tuple[list[list[int]], list[torch.Tensor | None]]:
        if not capture_prosody:
            return self.tokens, [None] * batch
        d = self.encoder_states.shape[-1]
        empty = self.encoder_states.new_zeros((0, d))
        return self.tokens, [torch.stack(states) if states else empty for states in self.states]


# So that AutoConfig / AutoModelForSpeechSeq2Seq open a saved WhisperPro directory.
AutoConfig.register("whisperpro", WhisperProConfig, exist_ok=True)
AutoModelForSpeechSeq2Seq.register(WhisperProConfig, WhisperPro, exist_ok=True)


def _adapter_base(adapter_dir, base_dir) -> WhisperPro:
    """The base a Whisper LoRA adapter merges into (textpro.hub.adapters): WhisperPro, with the adapter's own
    WhisperPro config (prosody layer …) when it carries one, else the base's."""
    config_dir = adapter_dir if (adapter_dir / "config.json").is_file() else base_dir
    config = WhisperProConfig.from_pretrained(config_dir)
    return WhisperPro.from_pretrained(base_dir, config=config, dtype=torch.float32)


# So that `resolve_model` merges a Whisper adapter over WhisperPro (hub imports no model code).
register_base_loader(("whisper", "whisperpro"), _adapter_base)
