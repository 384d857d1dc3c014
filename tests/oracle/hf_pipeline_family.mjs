// node hf_pipeline_family.mjs TASK MODEL_DIR INPUT_JSONL : hf-oracle's hf_pipeline.mjs plus two tasks, for the
// DistilBERT / RoBERTa / token-classification fixtures. Runs Hugging Face transformers.js (onnxruntime CPU) as an
// oracle and prints one JSON object per input line. Copied next to node_modules (HF_ORACLE_DIR) to run.
// TASK: tokenize | fill-mask | question-answering | text-classification (as hf_pipeline.mjs), and
//   token-classification {"text"} -> {result: [{entity, score, index, word}] for every non-special token, O included}
//     (transformers.js 3.x gives no start/end character offsets and no aggregation)
//   logits {"text", "text_pair"?} or {"input_ids": [[..]], "attention_mask": [[..]], "token_type_ids"?: [[..]]}
//     -> {input_ids, attention_mask, outputs: {name: {dims, data}}}: the ONNX model's raw outputs through
//     transformers.js' own model call (it drops inputs the graph does not take, adds zero token_type_ids if it does)
import { env, pipeline, AutoTokenizer, AutoModel, Tensor } from '@huggingface/transformers';
import fs from 'fs'; import path from 'path';
const [task, dir, input] = process.argv.slice(2);
env.allowRemoteModels = false; env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(dir)) + '/';
const name = path.basename(path.resolve(dir));
const lines = fs.readFileSync(input, 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const list = (t) => Array.from(t.data, Number);
const rows = (t) => t.tolist().map(r => r.map(Number));
const int64 = (a) => new Tensor('int64', BigInt64Array.from(a.flat().map(BigInt)), [a.length, a[0].length]);
if (task === 'tokenize') {
  const tok = await AutoTokenizer.from_pretrained(name);
  for (const l of lines) {
    const e = tok(l.text, l.text_pair ? { text_pair: l.text_pair } : {});
    console.log(JSON.stringify({ ids: list(e.input_ids), type_ids: e.token_type_ids ? list(e.token_type_ids) : null }));
  }
} else if (task === 'logits') {
  const tok = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModel.from_pretrained(name, { dtype: 'fp32' });
  for (const l of lines) {
    let inputs;
    if (l.input_ids) {
      inputs = { input_ids: int64(l.input_ids), attention_mask: int64(l.attention_mask) };
      if (l.token_type_ids) inputs.token_type_ids = int64(l.token_type_ids);
    } else {
      inputs = tok(l.text, l.text_pair ? { text_pair: l.text_pair } : {});
    }
    const out = await model(inputs);
    const outputs = {};
    for (const [k, v] of Object.entries(out)) outputs[k] = { dims: v.dims, data: list(v) };
    console.log(JSON.stringify({ input_ids: rows(inputs.input_ids), attention_mask: rows(inputs.attention_mask),
      token_type_ids: inputs.token_type_ids ? rows(inputs.token_type_ids) : null, outputs }));
  }
} else {
  const p = await pipeline(task, name, { dtype: 'fp32' });
  for (const l of lines) {
    const t0 = performance.now();
    let r;
    if (task === 'fill-mask') r = await p(l.text, { top_k: l.top_k ?? 5 });
    else if (task === 'question-answering') r = await p(l.question, l.context, { top_k: l.top_k ?? 1 });
    else if (task === 'token-classification') r = await p(l.text, { ignore_labels: [] });
    else r = await p(l.text, { top_k: null });
    console.log(JSON.stringify({ result: r, ms: performance.now() - t0 }));
  }
}
