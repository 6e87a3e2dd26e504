import { existsSync, mkdtempSync, promises as fsp, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEMP_PREFIX } from '../../../src/loram/io/atomic';
import { saveWeights, WEIGHTS_INDEX_NAME, WEIGHTS_NAME } from '../../../src/loram/io/checkpoint';
import { checkWeightShapes, loadModelDir, saveModelDir } from '../../../src/loram/io/model-dir';
import { readSafetensorsHeader } from '../../../src/loram/io/safetensors';
import { expectedShapes, makeConfig, parseHfConfig, toHfConfig, type LlamaConfig } from '../../../src/loram/model/config';
import { Rng } from '../../../src/loram/util/rng';
import type { HostTensor, WeightMap } from '../../../src/loram/util/tensor';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'loram-md-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** Each test works in its own parent folder so "no temp directories left behind" can be checked exactly. */
async function freshParent(): Promise<string> {
  const p = path.join(root, `p${n++}`);
  await fsp.mkdir(p);
  return p;
}

const CFG = makeConfig({ vocabSize: 16, hiddenSize: 8, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 12, eosTokenId: 2 });

function weightsFor(cfg: LlamaConfig, seed: number): WeightMap {
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(cfg)) {
    const size = shape.reduce((a, b) => a * b, 1);
    w.set(name, { shape, data: Float32Array.from({ length: size }, () => rng.normal()) });
  }
  return w;
}

function expectSameWeights(a: WeightMap, b: WeightMap): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [k, t] of a) {
    expect(b.get(k)!.shape).toEqual(t.shape);
    expect(b.get(k)!.data).toEqual(t.data);
  }
}

/** Write a model dir by hand (config + raw weights) to produce inconsistent directories. */
async function rawModelDir(cfg: LlamaConfig, weights: WeightMap): Promise<string> {
  const dir = path.join(await freshParent(), 'model');
  await saveWeights(dir, weights);
  await fsp.writeFile(path.join(dir, 'config.json'), JSON.stringify(toHfConfig(cfg)));
  return dir;
}

const tempLeftovers = (parent: string) => readdirSync(parent).filter((f) => f.startsWith(TEMP_PREFIX));

describe('save and load a model directory', () => {
  test('round trip with tokenizer files copied and an extra lineage file', async () => {
    const parent = await freshParent();
    const src = path.join(parent, 'src');
    await fsp.mkdir(src);
    await fsp.writeFile(path.join(src, 'tokenizer.json'), '{"model":{}}');
    await fsp.writeFile(path.join(src, 'generation_config.json'), '{"do_sample":false}');
    const dir = path.join(parent, 'out');
    const w = weightsFor(CFG, 1);
    await saveModelDir(dir, CFG, w, { copyFrom: src, extraJson: { 'loram.json': { derivedFrom: 'base', transforms: [] } } });

    expect(readdirSync(dir).sort()).toEqual(['config.json', 'generation_config.json', 'loram.json', WEIGHTS_NAME, 'tokenizer.json']);
    const configText = readFileSync(path.join(dir, 'config.json'), 'utf8');
    expect(configText).toBe(JSON.stringify(toHfConfig(CFG), null, 2) + '\n');
    expect(JSON.parse(readFileSync(path.join(dir, 'loram.json'), 'utf8'))).toEqual({ derivedFrom: 'base', transforms: [] });
    expect(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).toBe('{"model":{}}');

    const m = await loadModelDir(dir);
    expect(m.dir).toBe(path.resolve(dir));
    expect(toHfConfig(m.config)).toEqual(toHfConfig(CFG));
    expectSameWeights(w, m.weights); // same names in config order, same values
    expect(tempLeftovers(parent)).toEqual([]);
  });

  test('sharded, half precision and pruned (per-layer sizes) models round trip', async () => {
    // Layer 1 pruned from 4 to 2 query heads (KV 2 → 1, group size stays 2) and from 12 to 5 MLP channels.
    const base = makeConfig({ vocabSize: 16, hiddenSize: 8, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 2, intermediateSize: 12 });
    const pruned: LlamaConfig = { ...base, layers: [base.layers[0]!, { num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 5 }] };
    const dir = path.join(await freshParent(), 'm');
    const w = weightsFor(pruned, 2);
    await saveModelDir(dir, pruned, w, { maxShardSize: 600, dtype: 'BF16' });
    expect(readdirSync(dir)).toContain(WEIGHTS_INDEX_NAME);
    const m = await loadModelDir(dir);
    expect(m.config.layers).toEqual(pruned.layers);
    expect(m.weights.get('model.layers.1.mlp.down_proj.weight')!.shape).toEqual([8, 5]);
    for (const [k, t] of w) t.data.forEach((x, i) => expect(Math.abs(m.weights.get(k)!.data[i]! - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8));
  });

  test('tied embeddings: lm_head is not saved, and dropped when a checkpoint carries it; inv_freq is ignored', async () => {
    const tied = { ...CFG, tieWordEmbeddings: true };
    const w = weightsFor(CFG, 3); // includes lm_head.weight
    const dir = path.join(await freshParent(), 'tied');
    await saveModelDir(dir, tied, w);
    expect((await readSafetensorsHeader(path.join(dir, WEIGHTS_NAME))).tensors.has('lm_head.weight')).toBe(false);

    w.set('model.layers.0.self_attn.rotary_emb.inv_freq', { shape: [2], data: new Float32Array([1, 0.01]) });
    const raw = await rawModelDir(tied, w);
    const m = await loadModelDir(raw);
    expect(m.weights.has('lm_head.weight')).toBe(false);
    expect(m.weights.has('model.layers.0.self_attn.rotary_emb.inv_freq')).toBe(false);
    expect(m.weights.size).toBe(expectedShapes(tied).size);
  });
});

describe('shape checks', () => {
  test('missing tensor: names it and its expected shape', async () => {
    const w = weightsFor(CFG, 4);
    w.delete('model.layers.1.mlp.up_proj.weight');
    const dir = await rawModelDir(CFG, w);
    await expect(loadModelDir(dir)).rejects.toThrow(/missing tensors \(1\):\n  model\.layers\.1\.mlp\.up_proj\.weight \(expected shape \[12, 8\]\)/);
  });

  test('missing lm_head hints at tie_word_embeddings', async () => {
    const w = weightsFor(CFG, 4);
    w.delete('lm_head.weight');
    const dir = await rawModelDir(CFG, w);
    await expect(loadModelDir(dir)).rejects.toThrow(/lm_head\.weight \(expected shape \[16, 8\]\)\n  hint: .*"tie_word_embeddings": true/);
  });

  test('wrong shape: names the tensor, the expected and the actual shape', async () => {
    const w = weightsFor(CFG, 5);
    w.set('model.layers.0.self_attn.k_proj.weight', { shape: [8, 8], data: new Float32Array(64) });
    const dir = await rawModelDir(CFG, w);
    await expect(loadModelDir(dir)).rejects.toThrow(/wrong shapes \(1\):\n  model\.layers\.0\.self_attn\.k_proj\.weight: expected \[4, 8\], found \[8, 8\]/);
  });

  test('unexpected tensors are listed; all problems are reported together', async () => {
    const w = weightsFor(CFG, 6);
    w.set('model.layers.2.mlp.up_proj.weight', { shape: [12, 8], data: new Float32Array(96) });
    w.set('score.weight', { shape: [2, 8], data: new Float32Array(16) });
    w.delete('model.norm.weight');
    const dir = await rawModelDir(CFG, w);
    const err = await loadModelDir(dir).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/weights do not match the config/);
    expect(err?.message).toMatch(/missing tensors \(1\):\n  model\.norm\.weight \(expected shape \[8\]\)/);
    expect(err?.message).toMatch(/unexpected tensors \(2\):\n  model\.layers\.2\.mlp\.up_proj\.weight \[12, 8\]\n  score\.weight \[2, 8\]/);
  });

  test('long lists are capped', () => {
    const shapes = new Map<string, number[]>([...expectedShapes(CFG)].map(([k, s]) => [k, s]));
    for (let i = 0; i < 30; i++) shapes.set(`extra.${i}`, [1]);
    expect(() => checkWeightShapes(CFG, shapes, 'x')).toThrow(/unexpected tensors \(30\):[\s\S]*\.\.\. and 10 more/);
  });

  test('config problems and missing config', async () => {
    const dir = path.join(await freshParent(), 'nocfg');
    await saveWeights(dir, weightsFor(CFG, 7));
    await expect(loadModelDir(dir)).rejects.toThrow(/no config\.json; not a Hugging Face model directory/);
    await fsp.writeFile(path.join(dir, 'config.json'), '{"vocab_size": 16,');
    await expect(loadModelDir(dir)).rejects.toThrow(/config\.json: not valid JSON/);
    await fsp.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...toHfConfig(CFG), hidden_size: -1 }));
    await expect(loadModelDir(dir)).rejects.toThrow(/config\.json: invalid LLaMA config\n  hidden_size/);
  });

  test('saveModelDir refuses mismatched weights before touching the disk', async () => {
    const parent = await freshParent();
    const w = weightsFor(CFG, 8);
    w.delete('model.norm.weight');
    await expect(saveModelDir(path.join(parent, 'x'), CFG, w)).rejects.toThrow(/missing tensors \(1\):\n  model\.norm\.weight/);
    const bad = weightsFor(CFG, 8);
    bad.set('model.norm.weight', { shape: [8], data: new Float32Array(7) });
    await expect(saveModelDir(path.join(parent, 'x'), CFG, bad)).rejects.toThrow(/"model\.norm\.weight" has 7 values but shape \[8\] needs 8/);
    await expect(saveModelDir(path.join(parent, 'x'), CFG, weightsFor(CFG, 8), { extraJson: { '../evil.json': {} } })).rejects.toThrow(/plain file name/);
    await expect(saveModelDir(path.join(parent, 'x'), CFG, weightsFor(CFG, 8), { extraJson: { 'config.json': {} } })).rejects.toThrow(/would overwrite/);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('atomic save', () => {
  async function previousModel(): Promise<{ parent: string; dir: string; v1: WeightMap }> {
    const parent = await freshParent();
    const dir = path.join(parent, 'model');
    const v1 = weightsFor(CFG, 10);
    await saveModelDir(dir, CFG, v1, { extraJson: { 'loram.json': { version: 1 } } });
    return { parent, dir, v1 };
  }

  async function expectIntact(parent: string, dir: string, v1: WeightMap): Promise<void> {
    expect(readdirSync(parent)).toEqual(['model']); // no temp directory left behind
    expect(JSON.parse(readFileSync(path.join(dir, 'loram.json'), 'utf8'))).toEqual({ version: 1 });
    expectSameWeights(v1, (await loadModelDir(dir)).weights);
  }

  test('a weight that fails midway (after other tensors and shards were written) leaves the old directory intact', async () => {
    const { parent, dir, v1 } = await previousModel();
    const v2 = weightsFor(CFG, 11);
    let armed = false;
    const good = v2.get('model.norm.weight')!;
    // Passes validation, then fails when its bytes are needed, like a read error from a lazily loaded source.
    const failing: HostTensor = {
      shape: good.shape,
      get data(): Float32Array {
        if (armed) throw new Error('injected failure reading model.norm.weight');
        return good.data;
      },
    };
    v2.set('model.norm.weight', failing);
    let written = 0;
    await expect(
      saveModelDir(dir, CFG, v2, {
        maxShardSize: 500,
        extraJson: { 'loram.json': { version: 2 } },
        onTensor: () => {
          written++;
          armed = true;
        },
      }),
    ).rejects.toThrow('injected failure reading model.norm.weight');
    expect(written).toBeGreaterThan(3);
    await expectIntact(parent, dir, v1);
  });

  test('cancellation from the progress callback leaves the old directory intact', async () => {
    const { parent, dir, v1 } = await previousModel();
    let ticks = 0;
    const cancel = () => {
      if (++ticks === 5) throw new Error('cancelled by user');
    };
    await expect(saveModelDir(dir, CFG, weightsFor(CFG, 12), { onTensor: cancel, maxShardSize: 500 })).rejects.toThrow('cancelled by user');
    await expectIntact(parent, dir, v1);
  });

  test('a failure after all weights are written (bad extra JSON) leaves the old directory intact', async () => {
    const { parent, dir, v1 } = await previousModel();
    const bad = { toJSON: () => { throw new Error('lineage not serialisable'); } };
    await expect(saveModelDir(dir, CFG, weightsFor(CFG, 13), { extraJson: { 'loram.json': bad } })).rejects.toThrow('lineage not serialisable');
    await expectIntact(parent, dir, v1);
  });

  test('a failed first save creates nothing', async () => {
    const parent = await freshParent();
    await expect(saveModelDir(path.join(parent, 'new'), CFG, weightsFor(CFG, 14), { onTensor: () => { throw new Error('stop'); } })).rejects.toThrow('stop');
    expect(readdirSync(parent)).toEqual([]);
  });

  test('a successful save replaces the whole directory (no stale files) and copies tokenizer files from itself', async () => {
    const { parent, dir } = await previousModel();
    await fsp.writeFile(path.join(dir, 'tokenizer.json'), '{"v":1}');
    await fsp.writeFile(path.join(dir, 'stale.bin'), 'old');
    const v2 = weightsFor(CFG, 15);
    await saveModelDir(dir, CFG, v2, { copyFrom: dir, maxShardSize: 500 });
    expect(readdirSync(parent)).toEqual(['model']);
    const files = readdirSync(dir);
    expect(files).not.toContain('stale.bin');
    expect(files).not.toContain('loram.json');
    expect(files).not.toContain(WEIGHTS_NAME);
    expect(files).toContain(WEIGHTS_INDEX_NAME);
    expect(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).toBe('{"v":1}');
    expectSameWeights(v2, (await loadModelDir(dir)).weights);
    expect(existsSync(path.join(dir, 'config.json'))).toBe(true);
    expect(parseHfConfig(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'))).eosTokenId).toBe(2);
  });
});
