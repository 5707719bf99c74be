# Session 34: what hearing.sh and continue.sh share (sourced from the repository root).
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=${S:-results/robust-hearing/s34} R=${R:-runs/s34}  # a later session passes its own
MINI=${MINI:-runs/mini}  # the `make mini` run whose teacher, WhisperPro and data an arm is exported beside
# the text LLM's answers to the 300 questions (they do not depend on the SLM); absent on a fresh machine: eval answers
TEACHER_ANSWERS=${TEACHER_ANSWERS:-runs/s33/eval-recipe-dev_unseen-bigsem/responses.jsonl}
mkdir -p $R
export_arm() {  # MODEL DIR: a trained SLM as a default directory, beside the recipe's teacher and WhisperPro
  [ -e $2 ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('$1', '$MINI/teacher/model', '$MINI/whisperpro/model', '$MINI/data', '$2')" > /dev/null
}
hearing_check() {  # OUT DIR FEATURES [ARGS...]: gender / pitch / rate, kept lines: the totals and "$BY" rows
  [ -s $1 ] || .venv/bin/python benchmarks/hearing_check.py $2 $3 --threads 2 "${@:4}" 2>&1 \
    | grep -E "^(gender|pitch|rate)|${BY:-  by }" > $1
}
train_hearing() {  # CONFIG ARM [ARGS...]: a hearing phase from CONFIG into $R/ARM (resumable; THREADS: its OMP threads)
  [ -e $R/$2/model ] || OMP_NUM_THREADS=${THREADS:-2} .venv/bin/textpro train slm --stage 2 --config $1 \
    --output $R/$2 --set train.save_every=80 --set train.keep_last=5 --resume "${@:3}" > $R/$2.log 2>&1
}
check_hearing_arm() {  # ARM: $R/ARM exported beside the recipe's parts, then rule 22's two hearing checks
  export_arm $R/$1/model $R/$1-default
  hearing_check $S/hc-$1.txt $R/$1-default runs/s9/feat/bigdev_recipe
  hearing_check $S/hc-$1-train.txt $R/$1-default $MINI/features/train --limit 60
  echo "$(date +%T) $1 done"
}
content_checks() {  # DIR NAME: the 53 dev requests and the 300 dev_unseen questions (session 33's check.sh inputs)
  [ -s $S/requests-$2.txt ] || .venv/bin/python results/robust-hearing/s15/request_diag.py $1 runs/s15/bigreq \
    dev_unseen --jsonl $R/requests-$2.jsonl > $S/requests-$2.txt 2> $R/requests-$2.log
  echo "$(date +%T) $2 requests checked"
  local out=$R/eval-$2-dev_unseen-bigsem
  [ -e $S/$2-dev_unseen-bigsem/results.json ] && return
  mkdir -p $out
  [ -e $out/responses.jsonl ] || [ ! -e $TEACHER_ANSWERS ] || grep '"system": "teacher"' $TEACHER_ANSWERS \
    > $out/responses.jsonl
  .venv/bin/textpro eval --bench runs/s12/bigsem --split dev_unseen --model $1 --text-model $1/teacher --out $out \
    > $out.log 2>&1 && mkdir -p $S/$2-dev_unseen-bigsem && cp $out/results.{json,md} $S/$2-dev_unseen-bigsem/
}
final_checks() {  # DIR NAME FEATURES: a final model's own and probe hearing on FEATURES, then content_checks
  hearing_check $S/hc-$2.txt $1 $3
  hearing_check $S/hc-$2-probe.txt $1 $3 --phrasings results/robust-hearing/s10/probe-phrasings.yaml
  echo "$(date +%T) $2 hearing checked"
  content_checks $1 $2
  echo "$(date +%T) $2 ALL DONE"
}
