#!/bin/bash
# Session 33: where did the recipe's model lose its hearing? Its slm-stage2 model (before slm-gate) and its slm-hearing
# model, exported like runs/mini/default (the recipe's teacher and WhisperPro), on the same 360-clip dev_unseen with
# its own dev phrasings.   stage2_check.sh [THREADS] -> results/robust-hearing/s33/hc-recipe-{stage2,hearing}.txt
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
T=${1:-1} S=results/robust-hearing/s33 R=runs/s33
for step in slm-stage2 slm-hearing; do
  tag=recipe-${step#slm-} m=$R/recipe-${step#slm-}-default
  [ -e $m ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('runs/mini/$step/model', 'runs/mini/teacher/model', 'runs/mini/whisperpro/model', 'runs/mini/data', '$m')" > /dev/null
  [ -s $S/hc-$tag.txt ] || OMP_NUM_THREADS=$T .venv/bin/python benchmarks/hearing_check.py $m \
    runs/s9/feat/bigdev_recipe --threads $T 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-$tag.txt
  echo "$(date +%T) $step checked"
done
