/**
 * Model throughput: forward and training-step tokens/s and peak tensor bytes, per available tfjs backend.
 *   npx tsx bench/model/run.ts [--backends wasm,cpu] [--quick]
 * (a) tiny: 4 layers, d 128, 4 heads, MLP 344, vocab 256, batch 8 × 64
 * (b) SmolLM2-135M-shaped random model: d 576, 30 layers, 9 / 3 KV heads, MLP 1536, vocab 49152, tied; 1 × 128
 */
import { initBackend, BACKENDS } from '../../src/loram/backend/backend';
import type { BackendName } from '../../src/loram/backend/backend';
import { tf } from '../../src/loram/backend/tf';
import { makeConfig, countParams } from '../../src/loram/model/config';
import type { LlamaConfig } from '../../src/loram/model/config';
import { LlamaModel } from '../../src/loram/model/llama';
import { lmLoss } from '../../src/loram/model/loss';
import { printTable, timeIt, writeResults } from '../common';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = (args[args.indexOf('--backends') + 1] ?? '').split(',').filter(Boolean) as BackendName[];

const CASES: { name: string; cfg: LlamaConfig; batch: number; seq: number; runs: number }[] = [
  { name: 'tiny (a)', cfg: makeConfig({ vocabSize: 256, hiddenSize: 128, numLayers: 4, numHeads: 4, intermediateSize: 344 }), batch: 8, seq: 64, runs: quick ? 3 : 10 },
  {
    name: 'SmolLM2-135M-shaped (b)',
    cfg: makeConfig({ vocabSize: 49152, hiddenSize: 576, numLayers: 30, numHeads: 9, numKvHeads: 3, intermediateSize: 1536, tieWordEmbeddings: true }),
    batch: 1,
    seq: 128,
    runs: quick ? 1 : 3,
  },
];

async function available(): Promise<BackendName[]> {
  const first = await initBackend(); // the best one, per the normal start-up order
  const names: BackendName[] = [first.name];
  for (const b of BACKENDS.slice(BACKENDS.indexOf(first.name) + 1)) names.push(b);
  return wanted.length ? names.filter((n) => wanted.includes(n)) : names;
}

const rows: Record<string, string | number>[] = [];
for (const backend of await available()) {
  await tf.setBackend(backend === 'tensorflow-gpu' ? 'tensorflow' : backend);
  for (const c of CASES) {
    const model = LlamaModel.random(c.cfg, 1);
    const n = c.batch * c.seq;
    const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919) % c.cfg.vocabSize);
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 104729 + 1) % c.cfg.vocabSize);
    const batch = { inputIds: ids, labels, batch: c.batch, seqLen: c.seq };
    const vars = model.variables();
    const forward = () => tf.tidy(() => void lmLoss(model, batch).loss.dataSync());
    const step = () => {
      const { value, grads } = tf.variableGrads(() => lmLoss(model, batch).loss, vars);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    };
    const fwdMs = await timeIt(forward, c.runs);
    const stepMs = await timeIt(step, c.runs);
    const prof = await tf.profile(step);
    rows.push({
      backend,
      model: c.name,
      params: countParams(c.cfg).toLocaleString('en-US'),
      'batch×seq': `${c.batch}×${c.seq}`,
      'forward ms': fwdMs.toFixed(1),
      'forward tok/s': Math.round((n / fwdMs) * 1000),
      'train step ms': stepMs.toFixed(1),
      'train tok/s': Math.round((n / stepMs) * 1000),
      'peak MiB (step)': (prof.peakBytes / 2 ** 20).toFixed(1),
    });
    console.log(JSON.stringify(rows.at(-1)));
    model.dispose();
  }
}
console.log();
printTable(rows);
writeResults('model', rows);
