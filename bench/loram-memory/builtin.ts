/**
 * Planned vs measured training memory on the built-in family, at LoRA-Train's defaults (r 8 / α 16 on every target,
 * dropout 0.05, batch 4 × 128, one intra-op thread as a node gets on two cores): each row measured by LoRA-Train's
 * own probe (memory/probe.ts: a fresh process, two steps on random weights of the trained shapes) next to the ORT
 * planner — the figures the editor's Memory chart shows for such a run.
 *
 *   node --import tsx bench/loram-memory/builtin.ts [--repeat 3] [--threads 1] [--no-write]
 * Prints a table; writes bench/results/loram-memory-builtin.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadModelDir } from '../../src/loram/io/model-dir';
import { BUILTIN_NAMES, builtinModelDir } from '../../src/loram/model/builtin';
import { LORA_TARGETS } from '../../src/loram/model/config';
import { planOrtTraining, plannedConfig } from '../../src/loram/memory/ort-plan';
import { measureInFreshProcess } from '../../src/loram/memory/probe';

const RESULTS = fileURLToPath(new URL('../results/loram-memory-builtin.json', import.meta.url));
const { values } = parseArgs({ options: { repeat: { type: 'string', default: '3' }, threads: { type: 'string', default: '1' }, 'no-write': { type: 'boolean' } } });
const repeat = Number(values.repeat);
const threads = Number(values.threads);
const LORA = { rank: 8, alpha: 16, dropout: 0.05, targets: LORA_TARGETS };
const SHAPE = { batch: 4, seqLen: 128 };
const VARIANTS = [
  { name: 'LoRA (full model)', strategy: 'none', ratio: 0, nf4: false, ckpt: false },
  { name: 'LoRA (full model)', strategy: 'none', ratio: 0, nf4: false, ckpt: true },
  { name: 'LoRAM-Stru', strategy: 'stru', ratio: 0.5, nf4: false, ckpt: false },
  { name: 'QLoRAM-Stru', strategy: 'stru', ratio: 0.5, nf4: true, ckpt: false },
  { name: 'QLoRAM-Stru', strategy: 'stru', ratio: 0.5, nf4: true, ckpt: true },
] as const;

const MiB = 2 ** 20;
const rows = [];
process.stdout.write('| model | variant | p | quant | ckpt | planned MiB | measured MiB (each run) | error (median) |\n|---|---|---|---|---|---|---|---|\n');
for (const model of BUILTIN_NAMES) {
  const { config } = await loadModelDir(builtinModelDir(model));
  for (const v of VARIANTS) {
    const cfg = plannedConfig(config, v.strategy, v.ratio);
    const nf4 = v.nf4 ? { blockSize: 64, doubleQuant: true } : null;
    const plan = planOrtTraining({ model: cfg, strategy: 'none', ...(nf4 ? { quant: 'nf4' as const, nf4 } : {}), lora: LORA, ...SHAPE, checkpointing: v.ckpt });
    const measured: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const m = await measureInFreshProcess({ config: cfg, nf4, lora: { r: LORA.rank, alpha: LORA.alpha, dropout: LORA.dropout, targetModules: LORA.targets }, ...SHAPE, checkpoint: v.ckpt, gradAccum: 1, steps: 2, threads });
      measured.push(m.measuredPeakBytes);
    }
    const median = [...measured].sort((a, b) => a - b)[Math.floor(measured.length / 2)]!;
    const error = (plan.bytes.total - median) / median;
    rows.push({ model, variant: v.name, ratio: v.ratio, quant: v.nf4 ? 'nf4' : 'none', checkpointing: v.ckpt, plannedBytes: plan.bytes.total, runtimeBytes: plan.bytes.runtime, graphNodes: plan.graphNodes, measuredPeakBytes: measured, error });
    process.stdout.write(`| ${model} | ${v.name} | ${v.ratio || '—'} | ${v.nf4 ? 'nf4' : 'none'} | ${v.ckpt ? 'yes' : 'no'} | ${(plan.bytes.total / MiB).toFixed(1)} | ${measured.map((x) => (x / MiB).toFixed(1)).join(', ')} | ${error > 0 ? '+' : ''}${(error * 100).toFixed(1)}% |\n`);
  }
}
if (!values['no-write']) {
  const command = `node --import tsx bench/loram-memory/builtin.ts --repeat ${repeat} --threads ${threads}`;
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify({ command, when: new Date().toISOString(), lora: LORA, ...SHAPE, threads, steps: 2, rows }, null, 2)}\n`);
}
