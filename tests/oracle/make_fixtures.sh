#!/usr/bin/env bash
# make_fixtures.sh OUT_DIR : asks Hugging Face (hf-oracle: transformers.js + PyTorch) what it outputs for our test
# inputs, on seeded random models it makes itself. The Qt tests compare bertscope against these files.
# When the oracle is not available (no ../shared, no node/torch), writes OUT_DIR/SKIPPED with the reason and
# exits 0: the oracle tests then skip, saying why.
set -uo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${BERTSCOPE_SHARED:-$repo/../shared}
oracle=$shared/tools/hf-oracle
vocab=$shared/data/bert-base-uncased
node_dir=${HF_ORACLE_DIR:-$HOME/.cache/hf-oracle}
rm -rf "$out"; mkdir -p "$out"
skip() { echo "$1" > "$out/SKIPPED"; echo "oracle fixtures skipped: $1"; exit 0; }
[ -d "$oracle" ] || skip "no hf-oracle at $oracle (set BERTSCOPE_SHARED to the shared folder)"
[ -f "$vocab/vocab.txt" ] || skip "no bert-base-uncased vocabulary at $vocab"
/usr/bin/python3 -c 'import torch, onnx, numpy' 2>/dev/null || skip "python3-torch/python3-onnx missing (run .ci/run or hf-oracle's setup)"
[ -d "$node_dir/node_modules/@huggingface/transformers" ] || skip "transformers.js missing in $node_dir (run .ci/run)"
cp "$oracle"/*.mjs "$node_dir"/
cp "$here"/*.jsonl "$out"/

make() { /usr/bin/python3 "$oracle/make_model.py" "$out/$1" --vocab_dir "$vocab" "${@:2}" >"$out/$1.log" 2>&1 || skip "make_model.py failed for $1 (see $out/$1.log)"; }
ask() { (cd "$node_dir" && node hf_pipeline.mjs "$1" "$out/$2" "$out/$3") >"$out/$4" 2>"$out/$4.err" || skip "hf_pipeline.mjs $1 failed on $2 (see $out/$4.err)"; }

make mlm_small --head mlm --layers 2 --hidden 64 --heads 2 --inter 128 --seed 1 --init_std 0.3
make mlm_large --head mlm --layers 3 --hidden 96 --heads 3 --inter 200 --seed 7 --init_std 0.3
make cls_small --head cls --layers 2 --hidden 64 --heads 4 --inter 128 --seed 3 --init_std 0.3
make qa_small --head qa --layers 2 --hidden 64 --heads 2 --inter 128 --seed 2 --init_std 0.3

ask tokenize mlm_small tokenize_inputs.jsonl tokenize_expected.jsonl
ask fill-mask mlm_small fill_mask_inputs.jsonl fill_mask_small_expected.jsonl
ask fill-mask mlm_large fill_mask_inputs.jsonl fill_mask_large_expected.jsonl
ask text-classification cls_small cls_inputs.jsonl cls_expected.jsonl
ask question-answering qa_small qa_inputs.jsonl qa_expected.jsonl
cp "$here"/grad_batch_*.json "$out"/
grad() { /usr/bin/python3 "$here/torch_gradients.py" "$oracle" "$out/$1" "$out/$2" "$out/$3" >"$out/$3.log" 2>&1 || skip "torch_gradients.py failed on $1 (see $out/$3.log)"; }
grad cls_small grad_batch_cls.json grads_cls
grad mlm_small grad_batch_mlm.json grads_mlm
echo "oracle fixtures written to $out"
