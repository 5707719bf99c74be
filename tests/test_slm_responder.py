"""`textpro eval --model DIR` runs a TextPro-SLM checkpoint through SLMResponder."""

from pathlib import Path

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from textpro.eval.responders import AudioQuery, SpeechResponder, speech_responder_for_model
from textpro.slm import TextProSLM, TextProSLMConfig

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello.wav"


def test_eval_runs_a_saved_checkpoint(tmp_path, smollm2_dir, whisper_tiny_en_dir, one_thread):
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    torch.manual_seed(0)
    llm = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                       bos_token_id=1, eos_token_id=2, pad_token_id=2))
    config = TextProSLMConfig(base_llm=str(smollm2_dir), whisperpro="whisper-tiny.en", d_whisper=384)
    TextProSLM.from_base(config, llm=llm, tokenizer=tokenizer).save_pretrained(tmp_path / "slm")

    responder = speech_responder_for_model(tmp_path / "slm", max_new_tokens=4, batch_size=2)
    assert isinstance(responder, SpeechResponder) and responder.batch_size == 2
    answers = responder.answer_audio([AudioQuery(EXAMPLE), AudioQuery(EXAMPLE, "Is the speaker male or female?")])
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)
    heard = responder.pipeline.listen(str(EXAMPLE)).text.lower()
    assert "never said she stole my money" in heard
    # retraining changes the cache key, so old answers are never reused
    again = speech_responder_for_model(tmp_path / "slm")
    assert again.name == responder.name
    (tmp_path / "slm" / "projector.safetensors").touch()
    assert speech_responder_for_model(tmp_path / "slm").name != responder.name
