/**
 * LoRA adapters on the host, and the PEFT on-disk format:
 * - adapter_config.json: peft_type "LORA", task_type "CAUSAL_LM", r, lora_alpha, lora_dropout, target_modules,
 *   bias "none", fan_in_fan_out false, inference_mode true, base_model_name_or_path, …;
 * - adapter_model.safetensors: `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r],
 *   with <module> = `model.layers.{i}.self_attn.q_proj`, `model.layers.{i}.mlp.down_proj`, … or `lm_head`.
 * Module keys in memory are the HF module names (`model.layers.3.mlp.up_proj`, `lm_head`).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { LoraTarget } from '../model/config';
import { LORA_TARGETS, moduleName, parseModuleName } from '../model/config';
import { atomicWriteDir } from '../io/atomic';
import { readSafetensorsFile, writeSafetensorsFile } from '../io/safetensors';
import type { HostTensor, WeightMap } from '../util/tensor';
import { matmulHost, shapeStr } from '../util/tensor';
import type { LoraHyper, LoraModuleWeights } from './lora-linear';
export type { LoraModuleWeights } from './lora-linear';
import { checkLoraHyper } from './lora-linear';


export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
export const ADAPTER_WEIGHTS_NAME = 'adapter_model.safetensors';

export interface LoraAdapterConfig extends LoraHyper {
  targetModules: LoraTarget[];
  /** Decoder layers that carry adapters (PEFT `layers_to_transform`); null = all. lm_head is not a layer. */
  layers: number[] | null;
  /** PEFT `base_model_name_or_path`: which model the adapter is for. */
  baseModel: string;
}

export interface LoraAdapter {
  config: LoraAdapterConfig;
  /** HF module name → PEFT-layout factors. */
  modules: Map<string, LoraModuleWeights>;
}

/** HF module name of a target in a layer (`model.layers.2.self_attn.q_proj`), or `lm_head`. */
export function moduleKey(layer: number | null, target: LoraTarget): string {
  return target === 'lm_head' ? 'lm_head' : moduleName(layer!, target);
}

/** Inverse of moduleKey; null for names that are not LoRA-able modules. */
export function parseModuleKey(key: string): { layer: number | null; target: LoraTarget } | null {
  if (key === 'lm_head') return { layer: null, target: 'lm_head' };
  const m = parseModuleName(key);
  return m && { layer: m.layer, target: m.mod };
}

/** HF weight name of a module key (`… .q_proj.weight`, `lm_head.weight`). */
export function weightNameOf(key: string): string {
  return `${key}.weight`;
}

export const PEFT_PREFIX = 'base_model.model.';

export function peftTensorName(key: string, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${key}.lora_${which}.weight`;
}

/** ΔW = (α/r)·B·A in HF layout [out, in]. */
export function loraDelta(w: LoraModuleWeights, scale: number): HostTensor {
  const d = matmulHost(w.B, w.A);
  if (scale !== 1) for (let i = 0; i < d.data.length; i++) d.data[i]! *= scale;
  return d;
}

export function loraScale(c: LoraHyper): number {
  return c.alpha / c.r;
}

/** adapter_config.json content (only keys PEFT's LoraConfig knows, so PEFT loads it without complaint). */
export function peftConfigJson(c: LoraAdapterConfig): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: c.baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: c.layers ? [...c.layers] : null,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: c.r,
    rank_pattern: {},
    revision: null,
    target_modules: [...c.targetModules],
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
}

/** Parse adapter_config.json; refuses LoRA variants this implementation does not reproduce. */
export function parsePeftConfig(json: unknown, source = ADAPTER_CONFIG_NAME): LoraAdapterConfig {
  const o = json as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw new Error(`${source}: not a JSON object`);
  if (o.peft_type !== 'LORA') throw new Error(`${source}: peft_type must be "LORA", got ${JSON.stringify(o.peft_type)}`);
  if (o.use_dora) throw new Error(`${source}: DoRA adapters are not supported`);
  if (o.use_rslora) throw new Error(`${source}: rsLoRA scaling is not supported`);
  if (o.fan_in_fan_out) throw new Error(`${source}: fan_in_fan_out adapters are not supported (LLaMA uses nn.Linear)`);
  if (o.bias !== undefined && o.bias !== 'none') throw new Error(`${source}: bias "${String(o.bias)}" is not supported (only "none")`);
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    if (o[k] && typeof o[k] === 'object' && Object.keys(o[k] as object).length) throw new Error(`${source}: per-module ${k} is not supported`);
  }
  let targets: LoraTarget[];
  if (Array.isArray(o.target_modules)) targets = o.target_modules as LoraTarget[];
  else if (typeof o.target_modules === 'string') throw new Error(`${source}: regex target_modules are not supported; list the modules`);
  else throw new Error(`${source}: target_modules is missing`);
  for (const t of targets) if (!LORA_TARGETS.includes(t)) throw new Error(`${source}: unsupported target module "${t}" (one of ${LORA_TARGETS.join(', ')})`);
  const layersRaw = o.layers_to_transform;
  const layers = layersRaw == null ? null : typeof layersRaw === 'number' ? [layersRaw] : (layersRaw as number[]);
  const c: LoraAdapterConfig = {
    r: Number(o.r),
    alpha: Number(o.lora_alpha ?? 8),
    dropout: Number(o.lora_dropout ?? 0),
    targetModules: [...targets],
    layers: layers ? [...layers] : null,
    baseModel: typeof o.base_model_name_or_path === 'string' ? o.base_model_name_or_path : '',
  };
  checkLoraHyper(c);
  return c;
}

/** The adapter's tensors under their PEFT names. */
export function adapterTensors(a: LoraAdapter): WeightMap {
  const out: WeightMap = new Map();
  for (const [key, w] of a.modules) {
    out.set(peftTensorName(key, 'A'), w.A);
    out.set(peftTensorName(key, 'B'), w.B);
  }
  return out;
}

/** Build an adapter from PEFT-named tensors; every module needs both factors with rank config.r. */
export function adapterFromTensors(config: LoraAdapterConfig, tensors: WeightMap, source = ADAPTER_WEIGHTS_NAME): LoraAdapter {
  const parts = new Map<string, Partial<LoraModuleWeights>>();
  for (const [name, t] of tensors) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(name);
    if (!m) throw new Error(`${source}: unexpected tensor "${name}" (expected base_model.model.<module>.lora_A.weight / lora_B.weight)`);
    const key = m[1]!;
    const parsed = parseModuleKey(key);
    if (!parsed) throw new Error(`${source}: tensor "${name}" is on "${key}", which is not a LoRA target this implementation supports`);
    if (!config.targetModules.includes(parsed.target)) throw new Error(`${source}: tensor "${name}" is for ${parsed.target}, which is not in target_modules`);
    const p = parts.get(key) ?? {};
    p[m[2] as 'A' | 'B'] = t;
    parts.set(key, p);
  }
  const modules = new Map<string, LoraModuleWeights>();
  for (const [key, p] of [...parts].sort((a, b) => compareKeys(a[0], b[0]))) {
    if (!p.A || !p.B) throw new Error(`${source}: module ${key} has lora_${p.A ? 'A' : 'B'} but no lora_${p.A ? 'B' : 'A'}`);
    if (p.A.shape.length !== 2 || p.A.shape[0] !== config.r) throw new Error(`${source}: ${key}.lora_A.weight has shape ${shapeStr(p.A.shape)}, expected [r=${config.r}, in]`);
    if (p.B.shape.length !== 2 || p.B.shape[1] !== config.r) throw new Error(`${source}: ${key}.lora_B.weight has shape ${shapeStr(p.B.shape)}, expected [out, r=${config.r}]`);
    modules.set(key, { A: p.A, B: p.B });
  }
  return { config: { ...config, targetModules: [...config.targetModules], layers: config.layers ? [...config.layers] : null }, modules };
}

/** Module keys in model order: by layer, then q,k,v,o,gate,up,down; lm_head last. */
export function compareKeys(a: string, b: string): number {
  const pa = parseModuleKey(a);
  const pb = parseModuleKey(b);
  const rank = (p: ReturnType<typeof parseModuleKey>) => (p ? (p.layer === null ? Number.MAX_SAFE_INTEGER : p.layer * 16 + LORA_TARGETS.indexOf(p.target)) : -1);
  return rank(pa) - rank(pb) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Write adapter_config.json + adapter_model.safetensors into `dir` (atomically: the directory appears whole). */
export async function saveAdapter(dir: string, a: LoraAdapter): Promise<void> {
  await atomicWriteDir(dir, async (tmp) => {
    await fsp.writeFile(path.join(tmp, ADAPTER_CONFIG_NAME), `${JSON.stringify(peftConfigJson(a.config), null, 2)}\n`);
    await writeSafetensorsFile(path.join(tmp, ADAPTER_WEIGHTS_NAME), adapterTensors(a), { metadata: { format: 'pt' } });
  });
}

export async function loadAdapter(dir: string): Promise<LoraAdapter> {
  const cfgPath = path.join(dir, ADAPTER_CONFIG_NAME);
  let raw: string;
  try {
    raw = await fsp.readFile(cfgPath, 'utf8');
  } catch (e) {
    throw new Error(`${dir} is not a PEFT adapter directory: cannot read ${ADAPTER_CONFIG_NAME} (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new Error(`${cfgPath}: invalid JSON (${(e as Error).message})`);
  }
  const config = parsePeftConfig(json, cfgPath);
  const wPath = path.join(dir, ADAPTER_WEIGHTS_NAME);
  const { tensors } = await readSafetensorsFile(wPath);
  return adapterFromTensors(config, tensors, wPath);
}
