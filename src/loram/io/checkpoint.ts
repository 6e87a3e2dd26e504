/**
 * Hugging Face checkpoint layout inside a model directory: either one `model.safetensors`, or shards
 * `model-00001-of-0000N.safetensors` plus `model.safetensors.index.json` = {metadata: {total_size}, weight_map:
 * {tensor name: shard file}}. Shard planning and file naming follow transformers/huggingface_hub so the
 * directories we write load in HF tools unchanged, and theirs load here.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { HostTensor, WeightMap } from '../util/tensor';
import { atomicWriteFile } from './atomic';
import {
  readSafetensorsFile,
  readSafetensorsHeader,
  tensorEntries,
  writeSafetensorsFile,
  type SafetensorsDtype,
  type TensorSource,
  type WriteDtype,
  type WriteOptions,
} from './safetensors';

export const WEIGHTS_NAME = 'model.safetensors';
export const WEIGHTS_INDEX_NAME = 'model.safetensors.index.json';
/** HF's "2GB": decimal units, as in transformers' `max_shard_size` parsing. */
export const DEFAULT_MAX_SHARD_SIZE = 2_000_000_000;
/** transformers refuses safetensors whose metadata lacks a known `format`. */
export const DEFAULT_METADATA: Readonly<Record<string, string>> = { format: 'pt' };

const SHARD_RE = /^model-\d{5}-of-\d{5}\.safetensors$/;

export function shardFileName(index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

/** Parse a size like 2000000, "2GB", "500MB", "1.5GiB" (decimal units are powers of 10, *iB of 2, as in HF). */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') {
    if (!Number.isFinite(size) || size <= 0) throw new Error(`invalid size ${size}: must be a positive number of bytes`);
    return Math.floor(size);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$/i.exec(size);
  if (!m) throw new Error(`invalid size "${size}": use bytes or a unit like "2GB", "500MB", "1GiB"`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const pow = { B: 0, K: 1, M: 2, G: 3, T: 4 }[unit[0] as 'B' | 'K' | 'M' | 'G' | 'T'];
  const base = unit.includes('I') ? 1024 : 1000;
  const bytes = Math.floor(Number(m[1]) * base ** pow);
  if (bytes <= 0) throw new Error(`invalid size "${size}": must be positive`);
  return bytes;
}

/** Compare names so that `layers.2` sorts before `layers.10`: shards then hold consecutive layers. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

export interface WeightIndex {
  metadata: { total_size: number; [k: string]: unknown };
  weight_map: Record<string, string>;
}

export interface SaveWeightsOptions {
  /** Bytes per shard before splitting (number or "2GB"); default 2 GB. A larger single tensor gets its own shard. */
  maxShardSize?: number | string;
  dtype?: WriteOptions['dtype'];
  /** `__metadata__` of every file; default {format: "pt"}. */
  metadata?: Record<string, string>;
  /** Progress over all tensors of all shards; throwing aborts the save. */
  onTensor?: (name: string, done: number, total: number) => void;
}

export interface SavedWeights {
  /** File names written, relative to the directory (shards, then the index if sharded). */
  files: string[];
  /** Sum of tensor data bytes (what HF records as `total_size`). */
  totalSize: number;
  index?: WeightIndex;
}

const BYTES: Record<WriteDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Group tensors into shards like huggingface_hub: in order, start a new shard when adding a tensor would pass
 * the limit; a tensor bigger than the limit sits alone.
 */
export function planShards<T extends { bytes: number }>(items: readonly T[], maxShardSize: number): T[][] {
  const shards: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const it of items) {
    if (cur.length > 0 && size + it.bytes > maxShardSize) {
      shards.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(it);
    size += it.bytes;
  }
  if (cur.length > 0 || shards.length === 0) shards.push(cur);
  return shards;
}

/**
 * Write weights into `dir` (created if needed) as one file or as shards + index, then delete weight files of
 * an earlier save that this one did not overwrite (a stale index next to a new single file would confuse
 * loaders). Use saveModelDir for an all-or-nothing save of a whole model.
 */
export async function saveWeights(dir: string, weights: TensorSource, opts: SaveWeightsOptions = {}): Promise<SavedWeights> {
  const max = parseSize(opts.maxShardSize ?? DEFAULT_MAX_SHARD_SIZE);
  const pick = opts.dtype ?? 'F32';
  const items = tensorEntries(weights)
    .map(([name, tensor]) => {
      const dtype = typeof pick === 'function' ? pick(name, tensor) : pick;
      return { name, tensor, dtype, bytes: tensor.data.length * (BYTES[dtype] ?? 4) };
    })
    .sort((a, b) => naturalCompare(a.name, b.name));
  const shards = planShards(items, max);
  const totalSize = items.reduce((s, it) => s + it.bytes, 0);
  const metadata = opts.metadata ?? { ...DEFAULT_METADATA };
  await fsp.mkdir(dir, { recursive: true });

  const files = shards.length === 1 ? [WEIGHTS_NAME] : shards.map((_, i) => shardFileName(i, shards.length));
  const dtypeOf = new Map(items.map((it) => [it.name, it.dtype]));
  let done = 0;
  for (const [i, shard] of shards.entries()) {
    await writeSafetensorsFile(
      path.join(dir, files[i]!),
      shard.map((it) => [it.name, it.tensor] as const),
      {
        dtype: (name) => dtypeOf.get(name)!,
        metadata,
        onTensor: (name) => opts.onTensor?.(name, ++done, items.length),
      },
    );
  }
  let index: WeightIndex | undefined;
  const written = new Set(files);
  if (shards.length > 1) {
    // Sorted keys, 2-space indent, trailing newline: the same bytes as transformers' save_pretrained.
    const pairs = shards.flatMap((shard, i) => shard.map((it) => [it.name, files[i]!] as const));
    pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sortedMap: Record<string, string> = {};
    for (const [k, f] of pairs) Object.defineProperty(sortedMap, k, { value: f, enumerable: true, writable: true, configurable: true });
    index = { metadata: { total_size: totalSize }, weight_map: sortedMap };
    await atomicWriteFile(path.join(dir, WEIGHTS_INDEX_NAME), JSON.stringify(index, null, 2) + '\n');
    files.push(WEIGHTS_INDEX_NAME);
    written.add(WEIGHTS_INDEX_NAME);
  }
  for (const f of await fsp.readdir(dir)) {
    if ((f === WEIGHTS_NAME || f === WEIGHTS_INDEX_NAME || SHARD_RE.test(f)) && !written.has(f)) {
      await fsp.rm(path.join(dir, f), { force: true });
    }
  }
  return { files, totalSize, index };
}

export interface WeightLocation {
  name: string;
  file: string;
  shape: number[];
  dtype: SafetensorsDtype;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw e;
  }
}

async function noWeightsError(dir: string): Promise<Error> {
  let listing: string[] = [];
  try {
    listing = await fsp.readdir(dir);
  } catch (e) {
    return new Error(`${dir}: cannot read model directory (${(e as Error).message})`);
  }
  const pickle = listing.filter((f) => /\.(bin|pt|pth|ckpt)$/.test(f));
  const other = listing.filter((f) => f.endsWith('.safetensors'));
  let hint = '';
  if (pickle.length) hint = ` Found ${pickle.join(', ')}: PyTorch pickle checkpoints are not supported, convert them to safetensors.`;
  else if (other.length) hint = ` Found ${other.join(', ')}, which are not model weights by Hugging Face naming.`;
  return new Error(`${dir}: no ${WEIGHTS_NAME} or ${WEIGHTS_INDEX_NAME}.${hint}`);
}

/** Read and check `model.safetensors.index.json`; returns tensor → shard file. */
export async function readWeightIndex(dir: string): Promise<Map<string, string>> {
  const file = path.join(dir, WEIGHTS_INDEX_NAME);
  let json: unknown;
  try {
    json = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read index (${(e as Error).message})`);
  }
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new Error(`${file}: "weight_map" must be an object of tensor name → file`);
  const map = new Map<string, string>();
  for (const [name, f] of Object.entries(wm)) {
    if (typeof f !== 'string') throw new Error(`${file}: weight_map["${name}"] must be a file name, got ${JSON.stringify(f)}`);
    // Shards live next to the index; anything else could read arbitrary files.
    if (f !== path.basename(f) || f === '.' || f === '..' || f.includes('\\')) {
      throw new Error(`${file}: weight_map["${name}"] = "${f}" is not a plain file name in the model directory`);
    }
    map.set(name, f);
  }
  return map;
}

/**
 * Where every tensor of a model directory lives, with shape and dtype, from the file headers only (no tensor
 * data is read), so shapes can be checked before gigabytes are loaded. Throws if the index names a missing
 * file or a tensor its shard does not contain. Tensors present in a shard but absent from the index are ignored:
 * the index is authoritative, as in transformers.
 */
export async function describeWeights(dir: string): Promise<Map<string, WeightLocation>> {
  const out = new Map<string, WeightLocation>();
  const single = path.join(dir, WEIGHTS_NAME);
  // transformers prefers model.safetensors over an index when both exist; do the same.
  if (await isFile(single)) {
    const h = await readSafetensorsHeader(single);
    for (const e of h.tensors.values()) out.set(e.name, { name: e.name, file: WEIGHTS_NAME, shape: e.shape, dtype: e.dtype });
    return out;
  }
  if (!(await isFile(path.join(dir, WEIGHTS_INDEX_NAME)))) throw await noWeightsError(dir);
  const index = await readWeightIndex(dir);
  const byFile = new Map<string, string[]>();
  for (const [name, f] of index) byFile.set(f, [...(byFile.get(f) ?? []), name]);
  for (const [f, names] of byFile) {
    const p = path.join(dir, f);
    if (!(await isFile(p))) {
      throw new Error(`${path.join(dir, WEIGHTS_INDEX_NAME)}: shard "${f}" (holding ${names.length} tensors, e.g. "${names[0]}") does not exist`);
    }
    const h = await readSafetensorsHeader(p);
    for (const name of names) {
      const e = h.tensors.get(name);
      if (!e) throw new Error(`${path.join(dir, WEIGHTS_INDEX_NAME)}: tensor "${name}" is mapped to shard "${f}", but that shard does not contain it`);
      out.set(name, { name, file: f, shape: e.shape, dtype: e.dtype });
    }
  }
  // Keep the index order (sorted by name) rather than shard-grouped order.
  return new Map([...index.keys()].map((n) => [n, out.get(n)!]));
}

export interface LoadedWeights {
  weights: WeightMap;
  dtypes: Map<string, SafetensorsDtype>;
}

/**
 * Load weights from a model directory (single file or sharded). `names` restricts what is read (default all);
 * each shard is opened once and only the needed tensors are read from it.
 */
export async function loadWeights(dir: string, opts: { names?: Iterable<string>; locations?: Map<string, WeightLocation> } = {}): Promise<LoadedWeights> {
  const loc = opts.locations ?? (await describeWeights(dir));
  const wanted = opts.names ? [...new Set(opts.names)] : [...loc.keys()];
  const byFile = new Map<string, string[]>();
  for (const n of wanted) {
    const l = loc.get(n);
    if (!l) throw new Error(`${dir}: tensor "${n}" is not in the checkpoint`);
    byFile.set(l.file, [...(byFile.get(l.file) ?? []), n]);
  }
  const read = new Map<string, HostTensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  for (const [f, names] of byFile) {
    const r = await readSafetensorsFile(path.join(dir, f), { names });
    for (const [n, t] of r.tensors) read.set(n, t);
    for (const [n, d] of r.dtypes) dtypes.set(n, d);
  }
  const weights: WeightMap = new Map(wanted.map((n) => [n, read.get(n)!]));
  return { weights, dtypes };
}
