/**
 * A Hugging Face LLaMA model directory: config.json + safetensors weights (+ tokenizer files). Loading checks
 * every tensor against the shapes the config implies, from the file headers before any data is read, so a
 * wrong or mismatched checkpoint fails fast with a message that says exactly what is wrong.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { expectedShapes, parseHfConfig, toHfConfig, type LlamaConfig } from '../model/config';
import { numel, sameShape, shapeStr, type HostTensor, type WeightMap } from '../util/tensor';
import { atomicWriteDir } from './atomic';
import { describeWeights, loadWeights, saveWeights, WEIGHTS_INDEX_NAME, WEIGHTS_NAME, type SaveWeightsOptions } from './checkpoint';
import { tensorEntries, type TensorSource } from './safetensors';

export const CONFIG_NAME = 'config.json';
/** Files copied from a source model so the saved directory is usable by HF tools and by our tokenizer loader. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'special_tokens_map.json', 'tokenizer.model'] as const;

export interface ModelDir {
  config: LlamaConfig;
  weights: WeightMap;
  /** Absolute path of the directory. */
  dir: string;
}

/** Rotary `inv_freq` buffers are recomputed from the config; some old checkpoints still carry them. */
export function isIgnoredTensor(name: string): boolean {
  return /(^|\.)rotary_emb\.inv_freq$/.test(name);
}

const MAX_LISTED = 20;
function listLines(lines: string[]): string {
  const shown = lines.slice(0, MAX_LISTED).map((l) => `  ${l}`);
  if (lines.length > MAX_LISTED) shown.push(`  ... and ${lines.length - MAX_LISTED} more`);
  return shown.join('\n');
}

/**
 * Compare actual tensor shapes with those `config` implies. Throws one Error listing every missing tensor
 * (with its expected shape), every wrong shape (expected and actual) and every unexpected tensor. Returns the
 * names to drop: a tied `lm_head.weight` (it is the embedding) and rotary `inv_freq` buffers.
 */
export function checkWeightShapes(config: LlamaConfig, actual: ReadonlyMap<string, readonly number[]>, source: string): string[] {
  const expected = expectedShapes(config);
  const drop: string[] = [];
  const wrong: string[] = [];
  const extra: string[] = [];
  const missing: string[] = [];
  for (const [name, shape] of actual) {
    const want = expected.get(name);
    if (want) {
      if (!sameShape(want, shape)) wrong.push(`${name}: expected ${shapeStr(want)}, found ${shapeStr(shape)}`);
    } else if (isIgnoredTensor(name) || (name === 'lm_head.weight' && config.tieWordEmbeddings)) {
      drop.push(name);
    } else {
      extra.push(`${name} ${shapeStr(shape)}`);
    }
  }
  for (const [name, shape] of expected) if (!actual.has(name)) missing.push(`${name} (expected shape ${shapeStr(shape)})`);
  if (missing.length + wrong.length + extra.length === 0) return drop;

  const parts: string[] = [`${source}: weights do not match the config`];
  if (missing.length) {
    parts.push(`missing tensors (${missing.length}):\n${listLines(missing)}`);
    if (missing.some((m) => m.startsWith('lm_head.weight')) && !config.tieWordEmbeddings) {
      parts.push('  hint: if the output layer shares the embedding, config.json should say "tie_word_embeddings": true');
    }
  }
  if (wrong.length) parts.push(`wrong shapes (${wrong.length}):\n${listLines(wrong)}`);
  if (extra.length) parts.push(`unexpected tensors (${extra.length}):\n${listLines(extra)}`);
  throw new Error(parts.join('\n'));
}

/** Read and parse `<dir>/config.json`. */
export async function readModelConfig(dir: string): Promise<LlamaConfig> {
  const file = path.join(dir, CONFIG_NAME);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${dir}: no ${CONFIG_NAME}; not a Hugging Face model directory`);
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseHfConfig(json, file);
}

/** Load config and weights of a model directory and check them against each other. */
export async function loadModelDir(dir: string): Promise<ModelDir> {
  const abs = path.resolve(dir);
  const config = await readModelConfig(abs);
  const locations = await describeWeights(abs);
  const shapes = new Map([...locations].map(([n, l]) => [n, l.shape]));
  checkWeightShapes(config, shapes, abs);
  // Read exactly the expected tensors, in config order (ignored/tied extras are never read).
  const names = [...expectedShapes(config).keys()];
  const { weights } = await loadWeights(abs, { names, locations });
  return { config, weights, dir: abs };
}

export interface SaveModelDirOptions extends SaveWeightsOptions {
  /** Copy TOKENIZER_FILES that exist in this directory (may be the directory being replaced). */
  copyFrom?: string;
  /** Extra JSON files to write, e.g. {"loram.json": lineage}; pretty-printed with a trailing newline. */
  extraJson?: Record<string, unknown>;
}

function checkExtraName(name: string): void {
  if (name !== path.basename(name) || name === '.' || name === '..' || name.includes('\\') || name.startsWith('.loram-tmp-')) {
    throw new Error(`saveModelDir: extra file name "${name}" must be a plain file name`);
  }
  if (name === CONFIG_NAME || name === WEIGHTS_NAME || name === WEIGHTS_INDEX_NAME || /^model-\d{5}-of-\d{5}\.safetensors$/.test(name)) {
    throw new Error(`saveModelDir: extra file "${name}" would overwrite the model's own ${name}`);
  }
}

function prettyJson(value: unknown, name: string): string {
  const text = JSON.stringify(value, null, 2) as string | undefined;
  if (text === undefined) throw new Error(`saveModelDir: ${name} has no JSON representation`);
  return text + '\n';
}

/**
 * Save a model directory atomically: config.json, weights, copied tokenizer files and extra JSON files are
 * written into a temporary sibling which then replaces `dir`. If anything fails (or `onTensor` throws to cancel),
 * `dir` keeps its previous content and no temporary directory remains.
 */
export async function saveModelDir(dir: string, config: LlamaConfig, weights: TensorSource, opts: SaveModelDirOptions = {}): Promise<void> {
  const entries = tensorEntries(weights);
  // Validate everything that can be validated before touching the disk.
  const byName = new Map<string, HostTensor>();
  for (const [name, t] of entries) {
    if (byName.has(name)) throw new Error(`saveModelDir ${dir}: duplicate tensor "${name}"`);
    if (t.data.length !== numel(t.shape)) throw new Error(`saveModelDir ${dir}: tensor "${name}" has ${t.data.length} values but shape ${shapeStr(t.shape)} needs ${numel(t.shape)}`);
    byName.set(name, t);
  }
  const drop = new Set(checkWeightShapes(config, new Map(entries.map(([n, t]) => [n, t.shape])), `saveModelDir ${dir}`));
  const toWrite = entries.filter(([n]) => !drop.has(n));
  const extras = Object.entries(opts.extraJson ?? {});
  for (const [name] of extras) checkExtraName(name);
  const copyFrom = opts.copyFrom ? path.resolve(opts.copyFrom) : undefined;
  if (copyFrom && !(await fsp.stat(copyFrom).then((s) => s.isDirectory(), () => false))) {
    throw new Error(`saveModelDir: copyFrom ${copyFrom} is not a directory`);
  }

  await atomicWriteDir(dir, async (tmp) => {
    await fsp.writeFile(path.join(tmp, CONFIG_NAME), prettyJson(toHfConfig(config), CONFIG_NAME));
    await saveWeights(tmp, toWrite, opts);
    if (copyFrom) {
      for (const f of TOKENIZER_FILES) {
        try {
          await fsp.copyFile(path.join(copyFrom, f), path.join(tmp, f));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
    }
    // Extra files last, so an explicit file (say a new generation_config.json) wins over a copied one.
    for (const [name, value] of extras) await fsp.writeFile(path.join(tmp, name), prettyJson(value, name));
  });
}
