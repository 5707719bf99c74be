# Session 22: the default's last step (hacc85-s7: bk-s7 + 100 steps, 15% content rows) as `textpro train slm --stage 2`
# arguments; sourced by the train.sh of every later session whose arms change one thing in it (s23-s26).
hacc85=(--config results/robust-hearing/s11/cont-yn.yaml --set init_from=runs/s21/bk-s7-default
        --set train.max_steps=100 --set learned_noise=0.0 --set "branch_dropout=[0.0, 0.0]"
        --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0, style: 0.95, accent: 0.0}"
        --set paralinguistic.ratio=0.85 --set "paralinguistic.balance_labels=[accent]" --set base_kd=1.0)
