import { mkdtempSync, promises as fsp, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_MAX_SHARD_SIZE,
  describeWeights,
  loadWeights,
  naturalCompare,
  parseSize,
  planShards,
  saveWeights,
  shardFileName,
  WEIGHTS_INDEX_NAME,
  WEIGHTS_NAME,
} from '../../../src/loram/io/checkpoint';
import { readSafetensorsFile, readSafetensorsHeader, serializeSafetensors } from '../../../src/loram/io/safetensors';
import { Rng } from '../../../src/loram/util/rng';
import type { WeightMap } from '../../../src/loram/util/tensor';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'loram-ckpt-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => path.join(root, `d${n++}`);

function randomWeights(seed: number, shapes: Record<string, number[]>): WeightMap {
  const rng = new Rng(seed);
  const m: WeightMap = new Map();
  for (const [name, shape] of Object.entries(shapes)) {
    const size = shape.reduce((a, b) => a * b, 1);
    m.set(name, { shape, data: Float32Array.from({ length: size }, () => rng.normal()) });
  }
  return m;
}

// 12 tensors of 4..64 values; names chosen so that plain string order (10 < 2) differs from natural order.
const SHAPES: Record<string, number[]> = {
  'model.embed_tokens.weight': [16, 4],
  'model.norm.weight': [4],
  'lm_head.weight': [16, 4],
};
for (const i of [0, 1, 2, 10]) {
  SHAPES[`model.layers.${i}.self_attn.q_proj.weight`] = [4, 4];
  SHAPES[`model.layers.${i}.mlp.down_proj.weight`] = [4, 8];
}
SHAPES['model.layers.1.input_layernorm.weight'] = [4];

function expectSameWeights(a: WeightMap, b: WeightMap): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, t] of a) {
    expect(b.get(k)!.shape).toEqual(t.shape);
    expect(b.get(k)!.data).toEqual(t.data);
  }
}

describe('helpers', () => {
  test('shard names follow HF', () => {
    expect(shardFileName(0, 3)).toBe('model-00001-of-00003.safetensors');
    expect(shardFileName(11, 12)).toBe('model-00012-of-00012.safetensors');
  });

  test('parseSize uses decimal GB and binary GiB like HF', () => {
    expect(parseSize('2GB')).toBe(2e9);
    expect(parseSize('500MB')).toBe(5e8);
    expect(parseSize('1GiB')).toBe(2 ** 30);
    expect(parseSize('1.5kib')).toBe(1536);
    expect(parseSize(1234)).toBe(1234);
    expect(DEFAULT_MAX_SHARD_SIZE).toBe(parseSize('2GB'));
    expect(() => parseSize('two gigs')).toThrow(/invalid size "two gigs"/);
    expect(() => parseSize(0)).toThrow(/invalid size 0/);
  });

  test('planShards: new shard when the next tensor would overflow; oversized tensors sit alone', () => {
    const it = (bytes: number, id: string) => ({ bytes, id });
    const ids = (s: { id: string }[][]) => s.map((x) => x.map((y) => y.id));
    expect(ids(planShards([it(100, 'a'), it(100, 'b'), it(100, 'c')], 250))).toEqual([['a', 'b'], ['c']]);
    expect(ids(planShards([it(10, 'a'), it(300, 'b'), it(10, 'c')], 250))).toEqual([['a'], ['b'], ['c']]);
    expect(ids(planShards([it(125, 'a'), it(125, 'b')], 250))).toEqual([['a', 'b']]);
    expect(ids(planShards([], 250))).toEqual([[]]);
  });

  test('natural order puts layer 2 before layer 10', () => {
    const names = ['model.layers.10.x', 'model.layers.2.x', 'lm_head.weight', 'model.layers.1.y'];
    expect(names.sort(naturalCompare)).toEqual(['lm_head.weight', 'model.layers.1.y', 'model.layers.2.x', 'model.layers.10.x']);
  });
});

describe('save / load', () => {
  test('single file: model.safetensors with format=pt metadata, no index', async () => {
    const dir = freshDir();
    const w = randomWeights(1, SHAPES);
    const saved = await saveWeights(dir, w);
    expect(saved.files).toEqual([WEIGHTS_NAME]);
    expect(saved.index).toBeUndefined();
    expect(readdirSync(dir)).toEqual([WEIGHTS_NAME]);
    expect((await readSafetensorsHeader(path.join(dir, WEIGHTS_NAME))).metadata).toEqual({ format: 'pt' });
    const { weights, dtypes } = await loadWeights(dir);
    expectSameWeights(w, weights);
    expect(new Set(dtypes.values())).toEqual(new Set(['F32']));
  });

  test('sharded round trip with a tiny max shard size; index like transformers writes it', async () => {
    const dir = freshDir();
    const w = randomWeights(2, SHAPES);
    const totalBytes = [...w.values()].reduce((s, t) => s + t.data.length * 4, 0);
    const saved = await saveWeights(dir, w, { maxShardSize: 200 });
    const shards = saved.files.filter((f) => f !== WEIGHTS_INDEX_NAME);
    expect(shards.length).toBeGreaterThan(3);
    shards.forEach((f, i) => expect(f).toBe(shardFileName(i, shards.length)));
    expect(saved.files.at(-1)).toBe(WEIGHTS_INDEX_NAME);

    const indexText = readFileSync(path.join(dir, WEIGHTS_INDEX_NAME), 'utf8');
    expect(indexText.endsWith('}\n')).toBe(true);
    const index = JSON.parse(indexText);
    expect(index.metadata).toEqual({ total_size: totalBytes });
    expect(Object.keys(index.weight_map)).toEqual(Object.keys(index.weight_map).sort());
    expect(Object.keys(index.weight_map).sort()).toEqual([...w.keys()].sort());

    // Every shard holds exactly what the index says, and respects the limit unless it is one big tensor.
    for (const f of shards) {
      const r = await readSafetensorsFile(path.join(dir, f));
      const listed = Object.entries(index.weight_map).filter(([, v]) => v === f).map(([k]) => k);
      expect([...r.tensors.keys()].sort()).toEqual(listed.sort());
      const bytes = [...r.tensors.values()].reduce((s, t) => s + t.data.length * 4, 0);
      if (r.tensors.size > 1) expect(bytes).toBeLessThanOrEqual(200);
    }
    // The 256-byte tensors exceed the limit, so each is alone in its shard.
    expect(Object.values(index.weight_map).filter((f) => f === index.weight_map['lm_head.weight'])).toHaveLength(1);
    // Natural order: layer 2 is in an earlier (or the same) shard than layer 10.
    expect(index.weight_map['model.layers.2.mlp.down_proj.weight'] <= index.weight_map['model.layers.10.mlp.down_proj.weight']).toBe(true);

    const { weights } = await loadWeights(dir);
    expectSameWeights(w, weights);
    const subset = await loadWeights(dir, { names: ['model.norm.weight', 'lm_head.weight'] });
    expect([...subset.weights.keys()]).toEqual(['model.norm.weight', 'lm_head.weight']);
    expect(subset.weights.get('lm_head.weight')!.data).toEqual(w.get('lm_head.weight')!.data);
  });

  test('F16 / BF16 checkpoints load within precision and report their dtype', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const dir = freshDir();
      const w = randomWeights(3, SHAPES);
      await saveWeights(dir, w, { dtype, maxShardSize: 300 });
      const { weights, dtypes } = await loadWeights(dir);
      expect(new Set(dtypes.values())).toEqual(new Set([dtype]));
      const tol = dtype === 'F16' ? 2 ** -11 : 2 ** -8;
      for (const [k, t] of w) {
        const back = weights.get(k)!.data;
        t.data.forEach((x, i) => expect(Math.abs(back[i]! - x)).toBeLessThanOrEqual(Math.abs(x) * tol + 1e-7));
      }
    }
  });

  test('saving again removes stale weight files of the other layout', async () => {
    const dir = freshDir();
    const w = randomWeights(4, SHAPES);
    await saveWeights(dir, w, { maxShardSize: 200 });
    await fsp.writeFile(path.join(dir, 'notes.txt'), 'keep me');
    await saveWeights(dir, w);
    expect(readdirSync(dir).sort()).toEqual([WEIGHTS_NAME, 'notes.txt']);
    await saveWeights(dir, w, { maxShardSize: 600 });
    expect(readdirSync(dir)).not.toContain(WEIGHTS_NAME);
    expectSameWeights(w, (await loadWeights(dir)).weights);
  });

  test('onTensor reports progress over all shards', async () => {
    const dir = freshDir();
    const w = randomWeights(5, SHAPES);
    const seen: [number, number][] = [];
    await saveWeights(dir, w, { maxShardSize: 200, onTensor: (_name, done, total) => seen.push([done, total]) });
    expect(seen.map(([d]) => d)).toEqual(Array.from({ length: w.size }, (_, i) => i + 1));
    expect(new Set(seen.map(([, t]) => t))).toEqual(new Set([w.size]));
  });
});

describe('index errors', () => {
  const a = { shape: [2], data: new Float32Array([1, 2]) };
  const b = { shape: [3], data: new Float32Array([3, 4, 5]) };

  async function handMade(weightMap: Record<string, string>, files: Record<string, Uint8Array>): Promise<string> {
    const dir = freshDir();
    await fsp.mkdir(dir);
    await fsp.writeFile(path.join(dir, WEIGHTS_INDEX_NAME), JSON.stringify({ metadata: { total_size: 20 }, weight_map: weightMap }));
    for (const [f, bytes] of Object.entries(files)) await fsp.writeFile(path.join(dir, f), bytes);
    return dir;
  }

  test('an index written by another tool (extra metadata, unsorted) loads', async () => {
    const dir = await handMade(
      { b: 'model-00002-of-00002.safetensors', a: 'model-00001-of-00002.safetensors' },
      { 'model-00001-of-00002.safetensors': serializeSafetensors({ a }), 'model-00002-of-00002.safetensors': serializeSafetensors({ b }) },
    );
    const { weights } = await loadWeights(dir);
    expect(weights.get('b')!.data).toEqual(b.data);
    expect((await describeWeights(dir)).get('a')).toMatchObject({ file: 'model-00001-of-00002.safetensors', shape: [2], dtype: 'F32' });
  });

  test('index names a missing shard', async () => {
    const dir = await handMade(
      { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
      { 'model-00001-of-00002.safetensors': serializeSafetensors({ a }) },
    );
    await expect(loadWeights(dir)).rejects.toThrow(/shard "model-00002-of-00002\.safetensors" \(holding 1 tensors, e\.g\. "b"\) does not exist/);
  });

  test('index names a tensor its shard does not contain', async () => {
    const dir = await handMade(
      { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors' },
      { 'model-00001-of-00002.safetensors': serializeSafetensors({ a }) },
    );
    await expect(loadWeights(dir)).rejects.toThrow(/tensor "b" is mapped to shard "model-00001-of-00002\.safetensors", but that shard does not contain it/);
  });

  test('index may not point outside the directory', async () => {
    const dir = await handMade({ a: '../elsewhere.safetensors' }, {});
    await expect(loadWeights(dir)).rejects.toThrow(/"\.\.\/elsewhere\.safetensors" is not a plain file name/);
  });

  test('broken index JSON', async () => {
    const dir = freshDir();
    await fsp.mkdir(dir);
    await fsp.writeFile(path.join(dir, WEIGHTS_INDEX_NAME), '{"weight_map": ');
    await expect(loadWeights(dir)).rejects.toThrow(/model\.safetensors\.index\.json: cannot read index/);
  });

  test('a corrupt shard names its file', async () => {
    const dir = await handMade({ a: 'model-00001-of-00001.safetensors' }, { 'model-00001-of-00001.safetensors': serializeSafetensors({ a }).subarray(0, 30) });
    await expect(loadWeights(dir)).rejects.toThrow(/model-00001-of-00001\.safetensors: .*truncated/);
  });

  test('no weights at all; pickle checkpoints get a hint', async () => {
    const dir = freshDir();
    await fsp.mkdir(dir);
    await expect(loadWeights(dir)).rejects.toThrow(/no model\.safetensors or model\.safetensors\.index\.json/);
    await fsp.writeFile(path.join(dir, 'pytorch_model.bin'), 'x');
    await expect(loadWeights(dir)).rejects.toThrow(/pytorch_model\.bin: PyTorch pickle checkpoints are not supported/);
  });

  test('asking for a tensor the checkpoint lacks', async () => {
    const dir = freshDir();
    await saveWeights(dir, { a });
    await expect(loadWeights(dir, { names: ['zz'] })).rejects.toThrow(/tensor "zz" is not in the checkpoint/);
  });
});
