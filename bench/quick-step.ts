import { initBackend } from '../src/loram/backend/backend';
import { tf } from '../src/loram/backend/tf';
import { makeConfig } from '../src/loram/model/config';
import { LlamaModel } from '../src/loram/model/llama';
import { lmLoss } from '../src/loram/model/loss';
const info = await initBackend();
console.log(info.name);
const cfg = makeConfig({ vocabSize: +(process.env.V ?? 256), hiddenSize: +(process.env.D ?? 128), numLayers: +(process.env.L ?? 4), numHeads: +(process.env.NH ?? 4), numKvHeads: +(process.env.KV ?? 4), intermediateSize: +(process.env.I ?? 344) });
const m = LlamaModel.random(cfg, 1);
const B = 8, T = 64;
const ids = new Int32Array(B * T).map((_, i) => (i * 7) % cfg.vocabSize);
const labels = new Int32Array(B * T).map((_, i) => (i * 7 + 7) % cfg.vocabSize);
const batch = { inputIds: ids, labels, batch: B, seqLen: T };
const vars = m.variables();
for (let it = 0; it < 6; it++) {
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => lmLoss(m, batch).loss, vars);
  const l = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  const t1 = performance.now();
  tf.tidy(() => { lmLoss(m, batch).loss.dataSync(); });
  const t2 = performance.now();
  console.log(`loss ${l.toFixed(3)} train step ${(t1 - t0).toFixed(0)} ms (${(B * T / (t1 - t0) * 1000).toFixed(0)} tok/s)  fwd ${(t2 - t1).toFixed(0)} ms  tensors ${tf.memory().numTensors}`);
}
if (process.env.PROFILE) {
  const prof = await tf.profile(() => { const { value, grads } = tf.variableGrads(() => lmLoss(m, batch).loss, vars); value.dataSync(); tf.dispose([value, ...Object.values(grads)]); });
  const agg = new Map<string, number>();
  for (const k of prof.kernels) agg.set(k.name, (agg.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const mm = new Map<string, number>();
  for (const k of prof.kernels) if (k.name === 'BatchMatMul') { const key = k.inputShapes.map((s) => JSON.stringify(s)).join('x'); mm.set(key, (mm.get(key) ?? 0) + (k.kernelTimeMs as number)); }
  console.log([...mm].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.padEnd(40)} ${v.toFixed(1)}`).join('\n'));
  console.log([...agg].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${k.padEnd(24)} ${v.toFixed(1)}`).join('\n'));
}
