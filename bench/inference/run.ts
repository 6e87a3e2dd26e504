/**
 * Inference benchmark: ONNX Runtime (1 and 2 intra-op threads; 2 also without spin-waiting, which matters on a
 * busy machine) vs TensorFlow.js, on
 * - the built-in "large" model when models/loram-large exists, else a random stand-in of a similar size
 *   (8 layers, d 256, 8/2 heads, MLP 688, vocab 4096); the built-in "small" one too when it exists, and
 * - a random SmolLM2-135M-shaped model (d 576, 30 layers, 9/3 heads, MLP 1536, vocab 49152, tied).
 *
 * Scoring: logits of a batch of 8 × 128 tokens (tokens/s = 1024 / time). Generation: batch 1, a 16-token
 * prompt, 32 greedy new tokens (tokens/s = 32 / time; ORT uses its KV cache, tfjs recomputes the prefix).
 *
 *   npx tsx bench/inference/run.ts            (BENCH_QUICK=1: the small model only, fewer repetitions)
 */
import os from 'node:os';
import path from 'node:path';
import { initBackend, describeBackend } from '../../src/loram/backend/backend';
import type { LlamaConfig } from '../../src/loram/model/config';
import { makeConfig } from '../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../src/loram/model/llama';
import { builtinModelDir } from '../../src/loram/model/builtin';
import { loadModelDir } from '../../src/loram/io/model-dir';
import { TfjsCausalLM, type CausalLM, type TokenBatch } from '../../src/loram/eval/lm';
import { OrtCausalLM } from '../../src/loram/onnx/runtime';
import { Rng } from '../../src/loram/util/rng';
import type { WeightMap } from '../../src/loram/util/tensor';
import { printTable, timeIt, writeResults } from '../common';

const QUICK = process.env.BENCH_QUICK === '1';
const CACHE = path.join(os.tmpdir(), 'loram-bench-onnx-cache');
const B = 8;
const T = 128;
const PROMPT = 16;
const NEW = 32;

interface Subject {
  name: string;
  note: string;
  config: LlamaConfig;
  weights: WeightMap;
}

async function builtin(name: 'large' | 'small'): Promise<Subject> {
  const dir = builtinModelDir(name);
  const m = await loadModelDir(dir);
  return { name: `loram-${name} (built-in)`, note: dir, config: m.config, weights: m.weights };
}

async function smallModel(): Promise<Subject> {
  try {
    return await builtin('large');
  } catch (e) {
    const config = makeConfig({ vocabSize: 4096, hiddenSize: 256, numLayers: 8, numHeads: 8, numKvHeads: 2, intermediateSize: 688, tieWordEmbeddings: true, maxPositionEmbeddings: 512 });
    return { name: 'small random (d256, 8 layers)', note: `built-in model not available (${(e as Error).message.split(';')[0]}); random stand-in 8×d256, 8/2 heads, MLP 688, vocab 4096, tied`, config, weights: randomWeights(config, 1, 0.02) };
  }
}

function smolConfig(): LlamaConfig {
  return makeConfig({ vocabSize: 49152, hiddenSize: 576, numLayers: 30, numHeads: 9, numKvHeads: 3, intermediateSize: 1536, tieWordEmbeddings: true, ropeTheta: 100000, maxPositionEmbeddings: 2048, rmsNormEps: 1e-5 });
}

function batchOf(V: number, seed: number): TokenBatch {
  const rng = new Rng(seed);
  return { ids: Int32Array.from({ length: B * T }, () => rng.int(V)), batch: B, seqLen: T };
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

interface Row {
  model: string;
  runtime: string;
  threads: number | string;
  scoreMs: number;
  scoreTokS: number;
  genMs: number;
  genTokS: number;
  msPerNewToken: number;
}

async function measure(lm: CausalLM, batch: TokenBatch, prompt: number[], runs: number, genWarmup = 1): Promise<Omit<Row, 'model' | 'runtime' | 'threads'>> {
  const scoreMs = await timeIt(() => lm.logits(batch).then(() => undefined), runs, 1);
  let produced = 0;
  const genMs = await timeIt(async () => {
    const [r] = await lm.generate([prompt], { maxNewTokens: NEW });
    produced = r!.tokens.length;
  }, runs, genWarmup);
  return { scoreMs, scoreTokS: (B * T * 1000) / scoreMs, genMs, genTokS: (produced * 1000) / genMs, msPerNewToken: genMs / produced };
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const backend = await initBackend();
  console.log(`tfjs backend: ${describeBackend(backend)}`);
  console.log(`ONNX export cache: ${CACHE}\n`);
  const subjects: (() => Promise<Subject>)[] = [smallModel];
  try {
    builtinModelDir('small');
    subjects.push(() => builtin('small'));
  } catch {
    // not built yet
  }
  if (!QUICK) subjects.push(async () => ({ name: 'SmolLM2-135M-shaped (random)', note: 'd 576, 30 layers, 9/3 heads, MLP 1536, vocab 49152, tied; random N(0, 0.02) weights', config: smolConfig(), weights: randomWeights(smolConfig(), 2, 0.02) }));
  const rows: Row[] = [];
  const details: Record<string, unknown>[] = [];
  for (const make of subjects) {
    const t0 = performance.now();
    const s = await make();
    const big = s.config.vocabSize * s.config.hiddenSize > 10_000_000;
    const runs = QUICK || big ? 1 : 3;
    console.log(`== ${s.name}: ${s.note} (${(performance.now() - t0).toFixed(0)} ms to build)`);
    const batch = batchOf(s.config.vocabSize, 3);
    const prompt = Array.from(batchOf(s.config.vocabSize, 4).ids.subarray(0, PROMPT));

    const te = performance.now();
    const exported = await OrtCausalLM.fromWeights(s.config, s.weights, { cacheDir: CACHE, threads: 1, maxPositions: 512 });
    const exportMs = performance.now() - te;
    const cached = exported.artifacts.logits!.cached && exported.artifacts.kv!.cached;
    console.log(`   ONNX export ${cached ? '(cached) ' : ''}${exportMs.toFixed(0)} ms, ${(exported.artifacts.logits!.initializerBytes / 1e6).toFixed(1)} MB of weights per graph`);
    await exported.dispose();

    let ortLogits: Float32Array | null = null;
    const sessions: Record<string, unknown> = {};
    for (const { threads, spinning } of [{ threads: 1, spinning: true }, { threads: 2, spinning: true }, { threads: 2, spinning: false }]) {
      const lm = await OrtCausalLM.fromWeights(s.config, s.weights, { cacheDir: CACHE, threads, spinning, maxPositions: 512 });
      const m = await measure(lm, batch, prompt, runs);
      ortLogits ??= await lm.logits(batch);
      const label = `${threads}${spinning ? '' : ' (no spin)'}`;
      sessions[`ort-${label}`] = lm.backendDetail;
      rows.push({ model: s.name, runtime: 'onnxruntime', threads: label, ...m });
      console.log(`   onnxruntime ${label} thread(s): scoring ${m.scoreMs.toFixed(0)} ms, generation ${m.genMs.toFixed(0)} ms`);
      await lm.dispose();
    }
    const model = LlamaModel.fromWeights(s.config, s.weights, { trainable: false });
    // tfjs-wasm's heap cannot hold an 8 × 128 forward of the SmolLM-sized model (XNNPACK aborts, out of
    // memory), so that batch runs as two passes of 4 rows.
    const tfjsMaxBatch = big ? 4 : B;
    const tfm = new TfjsCausalLM(model, { ownsModel: true, maxBatch: tfjsMaxBatch });
    const tfLogits = await tfm.logits(batch);
    const rel = maxRel(ortLogits!, tfLogits);
    // The scoring warm-up already ran every kernel; a generation warm-up would cost ~a minute on the big model.
    const m = await measure(tfm, batch, prompt, runs, big ? 0 : 1);
    rows.push({ model: s.name, runtime: `tfjs-${backend.name}${tfjsMaxBatch < B ? ` (${B / tfjsMaxBatch}×${tfjsMaxBatch} rows)` : ''}`, threads: backend.threads, ...m });
    console.log(`   tfjs: scoring ${m.scoreMs.toFixed(0)} ms, generation ${m.genMs.toFixed(0)} ms; ORT vs tfjs logits max rel err ${rel.toExponential(2)}\n`);
    await tfm.dispose();
    details.push({ model: s.name, note: s.note, config: { hidden: s.config.hiddenSize, layers: s.config.numLayers, heads: s.config.layers[0]!.num_attention_heads, kvHeads: s.config.layers[0]!.num_key_value_heads, mlp: s.config.layers[0]!.intermediate_size, vocab: s.config.vocabSize, tied: s.config.tieWordEmbeddings }, exportMs, exportCached: cached, ortVsTfjsMaxRelErr: rel, tfjsRowsPerForward: tfjsMaxBatch, sessions, runs });
  }
  printTable(
    rows.map((r) => ({
      model: r.model,
      runtime: r.runtime,
      threads: r.threads,
      [`score ${B}×${T} ms`]: round(r.scoreMs, 0),
      'score tok/s': round(r.scoreTokS, 0),
      [`gen ${PROMPT}+${NEW} ms`]: round(r.genMs, 0),
      'gen tok/s': round(r.genTokS),
      'ms/new token': round(r.msPerNewToken),
    })),
  );
  writeResults('inference', { setup: { scoring: { batch: B, seqLen: T }, generation: { batch: 1, prompt: PROMPT, newTokens: NEW, decoding: 'greedy; ORT with KV cache, tfjs full prefix' }, tfjsBackend: describeBackend(backend), loadAverageAfter: os.loadavg().map((x) => round(x, 2)) }, models: details, rows });
}

await main();
