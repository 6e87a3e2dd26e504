import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../../src/loram/backend/tf';
import { initBackend } from '../../../src/loram/backend/backend';
import { makeConfig } from '../../../src/loram/model/config';
import { LlamaModel } from '../../../src/loram/model/llama';
import { loadModelDir, saveModelDir } from '../../../src/loram/io/model-dir';

describe('model save + reload', () => {
  let dir: string;
  beforeAll(async () => {
    await initBackend();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loram-model-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['untied, sharded', makeConfig({ vocabSize: 50, hiddenSize: 32, numLayers: 3, numHeads: 4, numKvHeads: 2, intermediateSize: 40 }), 20_000],
    ['tied, qkv bias, pruned per-layer sizes', { ...makeConfig({ vocabSize: 50, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 40, tieWordEmbeddings: true, attentionBias: true }), layers: [{ num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 17 }, { num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 40 }] }, undefined],
  ])('%s: identical logits after save and reload (float32)', async (name, cfg, maxShardSize) => {
    const m = LlamaModel.random(cfg, 3, 0.1);
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const before = tf.tidy(() => m.forward(ids).dataSync().slice());
    const target = path.join(dir, name.replace(/\W+/g, '-'));
    await saveModelDir(target, cfg, m.toWeights(), maxShardSize ? { maxShardSize } : {});
    if (maxShardSize) expect(fs.existsSync(path.join(target, 'model.safetensors.index.json'))).toBe(true);
    const loaded = await loadModelDir(target);
    expect(loaded.config.layers).toEqual(cfg.layers);
    const m2 = LlamaModel.fromWeights(loaded.config, loaded.weights);
    const after = tf.tidy(() => m2.forward(ids).dataSync().slice());
    expect(Array.from(after)).toEqual(Array.from(before));
    m.dispose();
    m2.dispose();
    ids.dispose();
  });
});
