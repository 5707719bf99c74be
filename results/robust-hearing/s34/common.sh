# Session 34: what hearing.sh and continue.sh share (sourced from the repository root).
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=${S:-results/robust-hearing/s34} R=${R:-runs/s34}  # a later session passes its own
mkdir -p $R
export_arm() {  # MODEL DIR: a trained SLM as a default directory, beside the recipe's teacher and WhisperPro
  [ -e $2 ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('$1', 'runs/mini/teacher/model', 'runs/mini/whisperpro/model', 'runs/mini/data', '$2')" > /dev/null
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
  hearing_check $S/hc-$1-train.txt $R/$1-default runs/mini/features/train --limit 60
  echo "$(date +%T) $1 done"
}
