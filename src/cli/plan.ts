/**
 * `loram plan`: will a LoRA / LoRAM / QLoRAM training run fit? Three figures, each labelled:
 * - runtime `ort` (default): the peak of a training step on LoRAM Studio's own trainer (ONNX Runtime),
 *   memory/ort-plan.ts — the training graph's live bytes, host AdamW, the runtime's own (fixed + per node); checked by bench/loram-memory;
 * - runtime `pytorch-gpu`: an estimate for PyTorch + bitsandbytes on a GPU (memory/planner.ts planMemory: bf16
 *   base or NF4 + DQ, fp32 LoRA + AdamW, bf16 activations, sdpa attention), with its assumptions printed;
 * - runtime `paper`: the paper's parameter accounting (Tables 4–6 exactly: parameters only, 16 or 4 bits).
 * With --gpu-gib it says whether the chosen figure fits and, when it does not, the smallest change that would.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Io } from './main';
import { PRUNE_STRATEGY_NAMES } from '../loram/prune/strategy-rules';
import { fmtNumber } from './format';

export const PLAN_RUNTIMES = ['ort', 'pytorch-gpu', 'paper'] as const;
export type PlanRuntime = (typeof PLAN_RUNTIMES)[number];

export const PLAN_USAGE = `usage:
  loram plan --model <preset|config.json> --strategy <none|${PRUNE_STRATEGY_NAMES.join('|')}> [--ratio <p>] [--quant nf4]
             [--batch N] [--seq N] [--rank N] [--targets all|q_proj,v_proj,…] [--checkpointing]
             [--runtime ort|pytorch-gpu|paper] [--gpu-gib N] [--json]
    runtime ort (default): a training step on LoRAM Studio's trainer (ONNX Runtime), checked by bench/loram-memory
    runtime pytorch-gpu:   PyTorch + bitsandbytes on a GPU (estimate, assumptions listed)
    runtime paper:         the paper's parameter accounting (Tables 4-6)
    presets: llama-2-7b, llama-2-13b, llama-2-70b, llama-3.1-8b, llama-3.1-70b, smollm2-135m, smollm2-360m,
             smollm2-1.7b, tinyllama-1.1b, llama-3.2-1b
`;

class PlanUsageError extends Error {}

export interface PlanSettings {
  strategy: string;
  ratio: number;
  quant: 'none' | 'nf4';
  batch: number;
  seq: number;
  rank: number;
  targets: string[];
  checkpointing: boolean;
}

type Model = Record<string, unknown> | string;

interface Figure {
  total: number;
  parts: [string, number][];
}

const GIB = 2 ** 30;

async function figure(runtime: PlanRuntime, model: Model, s: PlanSettings): Promise<Figure> {
  const planner = await import('../loram/memory/planner');
  if (runtime === 'ort') {
    const { planOrtTraining } = await import('../loram/memory/ort-plan');
    const p = planOrtTraining({ model: model as never, strategy: s.strategy as never, ratio: s.ratio, quant: s.quant, lora: { rank: s.rank, targets: s.targets as never }, batch: s.batch, seqLen: s.seq, checkpointing: s.checkpointing });
    const b = p.bytes;
    return { total: b.total, parts: [['frozen weights (as stored)', b.weights], ['fed tensors (token batch, masks)', b.fed], ['activations + gradients (peak)', b.activations], ['host AdamW (w, m, v, grad) + run', b.optimizer], ['runtime (fixed + per graph node)', b.runtime]] };
  }
  const p = planner.planMemory({ model: model as never, strategy: s.strategy as never, ratio: s.ratio, quant: s.quant, lora: { rank: s.rank, targets: s.targets as never }, batch: s.batch, seqLen: s.seq, gradientCheckpointing: s.checkpointing });
  if (runtime === 'paper') return { total: p.hbmGiB * GIB, parts: [["parameters (paper's accounting)", p.hbmGiB * GIB]] };
  const b = p.bytes;
  return { total: b.total, parts: [['base weights', b.baseWeights], ['LoRA + grads + AdamW', b.loraWeights + b.loraGrads + b.optimizerStates], ['activations', b.activations], ['dequantization workspace', b.workspace]] };
}

/** Single changes that could make a plan fit, in the order they are tried (cheapest to the result first). */
function candidates(s: PlanSettings, structured: boolean): [string, PlanSettings][] {
  const out: [string, PlanSettings][] = [];
  if (!s.checkpointing) out.push(['--checkpointing', { ...s, checkpointing: true }]);
  if (s.quant !== 'nf4') out.push(['--quant nf4', { ...s, quant: 'nf4' }]);
  for (let b = s.batch >> 1; b >= 1; b >>= 1) out.push([`--batch ${b}`, { ...s, batch: b }]);
  for (let t = s.seq >> 1; t >= 64; t >>= 1) out.push([`--seq ${t}`, { ...s, seq: t }]);
  if (structured || s.strategy === 'none') {
    const strategy = s.strategy === 'none' ? 'stru' : s.strategy;
    for (const p of [0.5, 0.65, 0.75, 0.85, 0.9, 0.95]) if (p > s.ratio + 1e-9) out.push([`${s.strategy === 'none' ? '--strategy stru ' : ''}--ratio ${p}`, { ...s, strategy, ratio: p }]);
  }
  return out;
}

async function readModel(name: string): Promise<Model> {
  const presets = await import('../loram/memory/presets');
  if (presets.isPresetName(name)) return name;
  try {
    return JSON.parse(await fsp.readFile(path.resolve(name), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new PlanUsageError(`--model "${name}" is neither a preset (${presets.PRESET_NAMES.join(', ')}) nor a readable config.json: ${(e as Error).message}`);
  }
}

function posInt(v: string | undefined, d: number, what: string): number {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new PlanUsageError(`--${what} must be a positive integer, got "${v}"`);
  return n;
}

export async function cmdPlan(argv: string[], io: Io): Promise<number> {
  try {
    return await plan(argv, io);
  } catch (e) {
    if (!(e instanceof PlanUsageError)) throw e;
    io.err.write(`loram plan: ${e.message}\n`);
    return 2;
  }
}

type Values = Record<string, string | boolean | undefined>;

function planArgs(argv: string[]): Values {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        model: { type: 'string' }, strategy: { type: 'string' }, ratio: { type: 'string' }, quant: { type: 'string' }, 'gpu-gib': { type: 'string' },
        batch: { type: 'string' }, seq: { type: 'string' }, rank: { type: 'string' }, targets: { type: 'string' }, checkpointing: { type: 'boolean' }, runtime: { type: 'string' }, json: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    throw new PlanUsageError((e as Error).message);
  }
}

type Planner = typeof import('../loram/memory/planner');

/** The flags as checked settings (each refusal names the flag and what it takes). */
async function planSettings(values: Values, planner: Planner): Promise<{ settings: PlanSettings; runtime: PlanRuntime; gpu: number | null; targetsArg: string }> {
  const str = (k: string) => values[k] as string | undefined;
  if (!str('model')) throw new PlanUsageError('--model is required (a preset name or a config.json)');
  if (!str('strategy')) throw new PlanUsageError(`--strategy is required (none, ${PRUNE_STRATEGY_NAMES.join(', ')})`);
  const { LORA_TARGETS } = await import('../loram/model/config');
  const strategy = str('strategy')!;
  if (!planner.PLAN_STRATEGIES.includes(strategy as never)) throw new PlanUsageError(`--strategy must be one of ${planner.PLAN_STRATEGIES.join(', ')}`);
  const ratio = str('ratio') === undefined ? (strategy === 'none' ? 0 : NaN) : Number(str('ratio'));
  if (!Number.isFinite(ratio)) throw new PlanUsageError('--ratio must be a number (e.g. 0.85)');
  const quant = str('quant') ?? 'none';
  if (quant !== 'nf4' && quant !== 'none') throw new PlanUsageError('--quant must be nf4 (or none)');
  const runtime = (str('runtime') ?? 'ort') as PlanRuntime;
  if (!PLAN_RUNTIMES.includes(runtime)) throw new PlanUsageError(`--runtime must be one of ${PLAN_RUNTIMES.join(', ')}`);
  const gpu = str('gpu-gib') === undefined ? null : Number(str('gpu-gib'));
  if (gpu !== null && !(gpu > 0)) throw new PlanUsageError('--gpu-gib must be a positive number');
  const targetsArg = str('targets') ?? 'all';
  const targets = targetsArg === 'all' ? [...LORA_TARGETS] : targetsArg.split(',').map((t) => t.trim());
  for (const t of targets) if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new PlanUsageError(`--targets: unknown module "${t}" (${LORA_TARGETS.join(', ')}, or all)`);
  const settings: PlanSettings = {
    strategy,
    ratio: strategy === 'none' ? 0 : ratio,
    quant,
    batch: posInt(str('batch'), 1, 'batch'),
    seq: posInt(str('seq'), 512, 'seq'),
    rank: posInt(str('rank'), 8, 'rank'),
    targets,
    checkpointing: !!values.checkpointing,
  };
  return { settings, runtime, gpu, targetsArg };
}

/** When the plan does not fit: single changes in order until one fits (all tried are reported). */
async function smallestChangeThatFits(runtime: PlanRuntime, model: unknown, settings: PlanSettings, structured: boolean, gpu: number) {
  let suggestion: { change: string; totalBytes: number } | null = null;
  const tried: { change: string; totalBytes: number; fits: boolean }[] = [];
  for (const [change, s] of candidates(settings, structured)) {
    const f = await figure(runtime, model as never, s);
    tried.push({ change, totalBytes: f.total, fits: f.total <= gpu * GIB });
    if (f.total <= gpu * GIB) {
      suggestion = { change, totalBytes: f.total };
      break;
    }
  }
  return { suggestion, tried };
}

async function plan(argv: string[], io: Io): Promise<number> {
  const values = planArgs(argv);
  const planner = await import('../loram/memory/planner');
  const { settings, runtime, gpu, targetsArg } = await planSettings(values, planner);
  const modelName = values.model as string;
  const model = await readModel(modelName);
  let paper: ReturnType<Planner['planMemory']>;
  let chosen: Figure;
  try {
    paper = planner.planMemory({ model: model as never, strategy: settings.strategy as never, ratio: settings.ratio, quant: settings.quant as never });
    chosen = await figure(runtime, model, settings);
  } catch (e) {
    throw new PlanUsageError((e as Error).message);
  }
  const fits = gpu === null ? null : chosen.total <= gpu * GIB;
  const { suggestion, tried } = fits === false ? await smallestChangeThatFits(runtime, model, settings, planner.isStructured(settings.strategy as never), gpu!) : { suggestion: null, tried: [] };
  const r: PlanReport = { modelName, runtime, settings, targetsArg, paper, chosen, gpu, fits, suggestion, tried };
  io.out.write(values.json ? planJson(r) : planText(r));
  return 0;
}

interface PlanReport {
  modelName: string;
  runtime: PlanRuntime;
  settings: PlanSettings;
  targetsArg: string;
  paper: ReturnType<Planner['planMemory']>;
  chosen: Figure;
  gpu: number | null;
  fits: boolean | null;
  suggestion: { change: string; totalBytes: number } | null;
  tried: { change: string; totalBytes: number; fits: boolean }[];
}

function planJson(r: PlanReport): string {
  const { paper } = r;
  const out = {
    model: r.modelName,
    runtime: r.runtime,
    settings: r.settings,
    paper: { originalParams: paper.originalParams, prunedParams: paper.prunedParams, equivalentParams: paper.equivalentParams, reduction: paper.reduction, hbmGiB: paper.hbmGiB },
    totalBytes: r.chosen.total,
    breakdown: Object.fromEntries(r.chosen.parts),
    gpuGiB: r.gpu,
    fits: r.fits,
    suggestion: r.suggestion,
    tried: r.tried,
  };
  return JSON.stringify(out, null, 2) + '\n';
}

function planText(r: PlanReport): string {
  const { paper, settings, chosen, gpu } = r;
  const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`;
  const label = { ort: 'LoRAM Studio trainer (ONNX Runtime), one training step', 'pytorch-gpu': 'PyTorch + bitsandbytes on a GPU (estimate)', paper: "the paper's parameter accounting" }[r.runtime];
  const lines = [
    `model ${r.modelName}: ${paper.config.numLayers} layers, hidden ${paper.config.hiddenSize}`,
    `strategy ${settings.strategy}, ratio ${settings.ratio}, quantization ${settings.quant}${paper.prunedLayerRange ? `, pruned layers [${paper.prunedLayerRange[0]}, ${paper.prunedLayerRange[1]})` : ''}`,
    `LoRA r=${settings.rank} on ${r.targetsArg}; batch ${settings.batch} × ${settings.seq} tokens; ${settings.checkpointing ? 'checkpointing' : 'no checkpointing'}`,
    '',
    "paper's accounting (parameters only, Tables 4-6):",
    `  original params   ${fmtNumber(paper.originalParams)}`,
    `  pruned params     ${fmtNumber(paper.prunedParams)}`,
    `  reduction         ${paper.reduction.toFixed(2)}×`,
    `  HBM               ${paper.hbmGiB.toFixed(2)} GiB`,
    '',
    `${label}:`,
    ...chosen.parts.map(([k, v]) => `  ${k.padEnd(36)} ${gib(v)}`),
    `  ${'total'.padEnd(36)} ${gib(chosen.total)}`,
  ];
  if (gpu !== null) {
    lines.push('', r.fits ? `fits in ${gpu} GiB (${gib(gpu * GIB - chosen.total)} to spare)` : `does NOT fit in ${gpu} GiB (${gib(chosen.total - gpu * GIB)} over)`);
    if (r.fits === false) lines.push(r.suggestion ? `smallest change that fits: ${r.suggestion.change} → ${gib(r.suggestion.totalBytes)}` : `no single change fits (tried ${r.tried.map((t) => `${t.change} → ${gib(t.totalBytes)}`).join('; ')})`);
  }
  if (r.runtime === 'pytorch-gpu') lines.push('', ...paper.assumptions.filter((a) => !a.startsWith('activations:')).map((a) => `  - ${a}`), '  - activations: bf16, sdpa attention (see planner.ts layerActivationBytes)');
  return lines.join('\n') + '\n';
}
