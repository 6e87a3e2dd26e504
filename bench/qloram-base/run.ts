/**
 * QLoRAM's frozen base, resident in the training process: SmolLM2-135M's shape pruned stru p = 0.5 (the planner's
 * layer sizes), decoder linears in NF4 with double quantization, embedding / lm_head at 16 bits, in an ONNX Runtime
 * training session. Measured as the resident size the process gives back when the session is released (every
 * host copy of the weights already collected), against 4.127 bits per decoder-linear weight plus 16 bits for the
 * rest; the rise over the baseline before building is printed too (it also holds what the graph build left in
 * the allocator). glibc keeps freed blocks below its dynamic mmap threshold, which would hide both: the script
 * re-runs itself with a fixed MALLOC_MMAP_THRESHOLD_ so large frees return to the OS.
 *
 *   node --import tsx bench/qloram-base/run.ts [--ratio 0.5] [--threads 1]
 * Prints a table and writes bench/results/qloram-base.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { countParams, makeConfig, expectedShapes, type LlamaConfig } from '../../src/loram/model/config';
import { keptLayerSizes } from '../../src/loram/memory/planner';
import { DenseBases, Nf4Bases } from '../../src/loram/ort-train/base-linears';
import { OrtTrainSession } from '../../src/loram/ort-train/session';
import { createSession } from '../../src/loram/onnx/runtime';
import { GraphBuilder, DataType, modelProto } from '../../src/loram/onnx/graph';
import { LORA_TARGETS } from '../../src/loram/model/config';
import type { WeightMap } from '../../src/loram/util/tensor';

import { spawnSync } from 'node:child_process';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.env.MALLOC_MMAP_THRESHOLD_) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' } });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({ options: { ratio: { type: 'string', default: '0.5' }, threads: { type: 'string', default: '1' }, quant: { type: 'string', default: 'nf4' } } });
const ratio = Number(values.ratio);

function config(): LlamaConfig {
  const cfg = makeConfig({ vocabSize: 49152, hiddenSize: 576, numLayers: 30, numHeads: 9, numKvHeads: 3, intermediateSize: 1536, tieWordEmbeddings: true, maxPositionEmbeddings: 2048 });
  cfg.layers = keptLayerSizes(cfg, ratio);
  return cfg;
}

function weightsOf(cfg: LlamaConfig): WeightMap {
  const w: WeightMap = new Map();
  let s = 12345;
  for (const [name, shape] of expectedShapes(cfg)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = (((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) - 0.5) * 0.07;
    w.set(name, { shape, data });
  }
  return w;
}

async function settle(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage.rss();
}

/** A one-node session first, so ONNX Runtime's own code and thread pool are in the baseline, not in the base. */
async function warmRuntime(): Promise<void> {
  const g = new GraphBuilder('warm');
  g.input('x', DataType.FLOAT, [1]);
  g.output('y', g.op1('Neg', ['x']), DataType.FLOAT, [1]);
  const bytes = await modelProto(g.toGraphProto().graph, { irVersion: 8, opset: 17, producerName: 'bench', producerVersion: '1' }).toBytes();
  await (await createSession(bytes, { provider: 'cpu', threads: Number(values.threads) })).session.release();
}

await warmRuntime();
const cfg = config();
const shapes = expectedShapes(cfg);
let linear = 0;
for (const [name, shape] of shapes) if (/\.(q|k|v|o|gate|up|down)_proj\.weight$/.test(name)) linear += shape[0]! * shape[1]!;
const rest = countParams(cfg) - linear;
const baseline = await settle();
let session: OrtTrainSession | null = await (async () => {
  // --quant none: the same model with a dense f32 base, for contrast.
  const bases = values.quant === 'none' ? new DenseBases() : new Nf4Bases({ blockSize: 64, doubleQuant: true });
  const s = await OrtTrainSession.create({ config: cfg, weights: weightsOf(cfg), bases, mode: { kind: 'lora', lora: { r: 8, alpha: 16, dropout: 0, targets: LORA_TARGETS } }, batch: 1, seqLen: 128 }, { provider: 'cpu', threads: Number(values.threads) });
  console.log(bases.summary ?? 'dense f32 base');
  return s;
})();
const withBase = await settle();
await session.release();
session = null;
const released = await settle();
const measured = withBase - released;
const expected = values.quant === 'none' ? (linear + rest) * 4 : (linear * 4.127) / 8 + rest * 2;
const row = { shape: 'smollm2-135m', strategy: 'stru', ratio, quant: values.quant, decoderLinearParams: linear, restParams: rest, expectedBytes: Math.round(expected), measuredBytes: measured, riseOverBaselineBytes: withBase - baseline, relativeError: (measured - expected) / expected };
console.log('| shape | stru p | decoder-linear params | rest params | expected MiB (NF4: 4.127 / 16 bit; none: 32 bit) | measured MiB (given back on release) | error | rise over baseline MiB |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(`| ${row.shape} | ${ratio} | ${linear.toLocaleString('en-US')} | ${rest.toLocaleString('en-US')} | ${(expected / 2 ** 20).toFixed(1)} | ${(measured / 2 ** 20).toFixed(1)} | ${(row.relativeError * 100).toFixed(1)}% | ${((withBase - baseline) / 2 ** 20).toFixed(1)} |`);
const dir = path.join(import.meta.dirname ?? '.', '..', 'results');
mkdirSync(dir, { recursive: true });
if (values.quant === 'nf4') writeFileSync(path.join(dir, 'qloram-base.json'), JSON.stringify({ command: 'node --import tsx bench/qloram-base/run.ts', when: new Date().toISOString(), rows: [row] }, null, 2) + '\n');
