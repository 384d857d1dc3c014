// node bench_batch_hf.mjs MODEL_DIR FILE BATCH REPS : sentences per second of transformers.js text-classification
// (onnxruntime CPU, fp32) over FILE's lines (text before a tab), BATCH sentences per call, as bertscope's
// `bench --sentences` runs them: each batch padded to its longest sentence (transformers.js truncates at the
// model's maximum, bertscope at 128 tokens; the same for sentences under 128 tokens, as the yelp ones are).
// Run from hf-oracle's node folder (scripts/bench.sh copies it there).
import { env, pipeline } from '@huggingface/transformers';
import fs from 'fs';
import path from 'path';
const [dir, file, batch, reps] = process.argv.slice(2);
env.allowRemoteModels = false; env.localModelPath = path.dirname(path.resolve(dir)) + '/';
const classify = await pipeline('text-classification', path.basename(path.resolve(dir)), { dtype: 'fp32' });
const sentences = fs.readFileSync(file, 'utf8').split('\n').map(l => l.split('\t')[0]).filter(l => l.length > 0);
const n = Number(batch);
const pass = async (list) => { for (let i = 0; i < list.length; i += n) await classify(list.slice(i, i + n)); };
await pass(sentences.slice(0, n));  // warm-up
const seconds = [];
for (let r = 0; r < Number(reps); r++) { const t0 = performance.now(); await pass(sentences); seconds.push((performance.now() - t0) / 1000); }
seconds.sort((a, b) => a - b); const median = seconds[seconds.length >> 1];
console.log(JSON.stringify({ engine: 'onnxruntime-node via transformers.js', sentences: sentences.length, batch_size: n, median_s: median, sentences_per_s: sentences.length / median }));
