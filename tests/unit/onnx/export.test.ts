/** The exporter: protobuf encoding, graph inputs/outputs, position ids, external-data layout, cache. */
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../../src/loram/backend/backend';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { leftPad, rightPad } from '../../../src/loram/eval/lm';
import { DATA_FILE, exportOnnx, exportOnnxCached, MODEL_FILE, onnxExportHash, readOnnxExport } from '../../../src/loram/onnx/export';
import { encodeVarint, Message } from '../../../src/loram/onnx/proto';
import { createSession, OrtCausalLM } from '../../../src/loram/onnx/runtime';
import { maxRelErr, prunedShape, randomIds, tfjsLogits, tiny } from './helpers';

let tmp: string;
beforeAll(async () => {
  await initBackend();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-onnx-export-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe('protobuf encoder', () => {
  test('varints, including int64 negatives as 10-byte two’s complement', () => {
    expect([...encodeVarint(1)]).toEqual([1]);
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(-1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => encodeVarint(2 ** 60)).toThrow(/safe integer/);
  });

  test('nested messages carry correct length prefixes; lazy bytes are produced while writing', async () => {
    let produced = 0;
    const inner = new Message().string(1, 'ab').bytes(9, { length: 3, produce: () => (produced++, Uint8Array.from([7, 8, 9])) });
    const outer = new Message().varint(1, 8).message(7, inner);
    expect(produced).toBe(0);
    const bytes = await outer.toBytes();
    expect(produced).toBe(1);
    // field 1 varint 8 | field 7 len 9 | (field 1 "ab") (field 9 len 3 [7,8,9])
    expect([...bytes]).toEqual([0x08, 8, 0x3a, 9, 0x0a, 2, 97, 98, 0x4a, 3, 7, 8, 9]);
  });
});

describe('exported graphs', () => {
  const cfg = tiny();
  const w = randomWeights(cfg, 31, 0.2);

  test('input and output names, dynamic batch and sequence', async () => {
    const kv = await exportOnnx(prunedShape(), randomWeights(prunedShape(), 1, 0.1), path.join(tmp, 'names'), { kind: 'kv' });
    const { session } = await createSession(kv.modelPath, { threads: 1 });
    // Layer 2 of the pruned shape has no attention, hence no cache entries.
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', ...[0, 1, 3].flatMap((i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`])]);
    expect(session.outputNames).toEqual(['logits', ...[0, 1, 3].flatMap((i) => [`present.${i}.key`, `present.${i}.value`])]);
    expect(kv.kvLayers).toEqual([{ layer: 0, kvHeads: 2 }, { layer: 1, kvHeads: 1 }, { layer: 3, kvHeads: 1 }]);
    await session.release();
    const lm = await OrtCausalLM.open({ logits: await exportOnnx(cfg, w, path.join(tmp, 'dyn')) }, { threads: 1 });
    for (const [B, T] of [[1, 1], [2, 5], [5, 17]] as const) {
      const out = await lm.logits({ ids: Int32Array.from(randomIds(B * T, cfg.vocabSize, B + T)), batch: B, seqLen: T });
      expect(out.length).toBe(B * T * cfg.vocabSize);
    }
    await lm.dispose();
  });

  test('a position_ids input gives the same logits as positions derived from the mask; left padding shifts positions', async () => {
    const withPos = await exportOnnx(cfg, w, path.join(tmp, 'pos'), { positionIdsInput: true });
    expect(withPos.inputs).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    const derived = await exportOnnx(cfg, w, path.join(tmp, 'nopos'));
    const a = await OrtCausalLM.open({ logits: withPos }, { threads: 1 });
    const b = await OrtCausalLM.open({ logits: derived }, { threads: 1 });
    const rows = [randomIds(9, cfg.vocabSize, 1), randomIds(4, cfg.vocabSize, 2)];
    const left = leftPad(rows, 0);
    expect(maxRelErr(await a.logits(left), await b.logits(left))).toBeLessThan(1e-6);
    // A left-padded row scores like the same row alone (positions restart at 0 after the padding).
    const V = cfg.vocabSize;
    const padded = (await b.logits(left)).slice((9 + 5) * V, 18 * V);
    const alone = await b.logits(rightPad([rows[1]!]));
    expect(maxRelErr(padded, alone)).toBeLessThan(1e-4);
    await a.dispose();
    await b.dispose();
  });

  test('external-data layout (forced by a tiny threshold) loads and matches tfjs', async () => {
    const art = await exportOnnx(cfg, w, path.join(tmp, 'external'), { externalDataThreshold: 1000 });
    expect(art.dataFile).toBe(DATA_FILE);
    const modelBytes = (await fsp.stat(path.join(art.dir, MODEL_FILE))).size;
    const dataBytes = (await fsp.stat(path.join(art.dir, DATA_FILE))).size;
    expect(modelBytes).toBeLessThan(20_000); // only the graph and small constants stay inline
    expect(dataBytes).toBeGreaterThanOrEqual(art.initializerBytes - 20_000);
    const lm = await OrtCausalLM.open({ logits: art }, { threads: 1 });
    const ids = Int32Array.from(randomIds(8, cfg.vocabSize, 9));
    const m = LlamaModel.fromWeights(cfg, w);
    expect(maxRelErr(await lm.logits({ ids, batch: 1, seqLen: 8 }), tfjsLogits(m, ids, 1, 8))).toBeLessThan(1e-4);
    m.dispose();
    await lm.dispose();
    // The inline export of the same weights is a single file.
    const inline = await exportOnnx(cfg, w, path.join(tmp, 'inline'));
    expect(inline.dataFile).toBeNull();
    await expect(fsp.access(path.join(inline.dir, DATA_FILE))).rejects.toThrow();
  });

  test('exports are cached by content hash', async () => {
    const cache = path.join(tmp, 'cache');
    const first = await exportOnnxCached(cfg, w, cache, { description: 'first' });
    expect(first.cached).toBe(false);
    const again = await exportOnnxCached(cfg, w, cache, { description: 'a label does not change the content' });
    expect(again.cached).toBe(true);
    expect(again.modelPath).toBe(first.modelPath);
    expect(again.hash).toBe(first.hash);
    // One changed weight, or another graph kind, is another export.
    const w2 = new Map(w);
    const t = w.get('model.layers.1.mlp.up_proj.weight')!;
    const changed = { shape: t.shape, data: Float32Array.from(t.data) };
    changed.data[7]! += 1e-3;
    w2.set('model.layers.1.mlp.up_proj.weight', changed);
    expect(onnxExportHash(cfg, w2)).not.toBe(first.hash);
    const other = await exportOnnxCached(cfg, w2, cache);
    expect(other.cached).toBe(false);
    expect(other.dir).not.toBe(first.dir);
    const kv = await exportOnnxCached(cfg, w, cache, { kind: 'kv' });
    expect(kv.hash).not.toBe(first.hash);
    expect((await readOnnxExport(first.dir))?.hash).toBe(first.hash);
    // A damaged entry (model file gone) is rebuilt rather than used.
    await fsp.rm(first.modelPath);
    const rebuilt = await exportOnnxCached(cfg, w, cache);
    expect(rebuilt.cached).toBe(false);
    await fsp.access(rebuilt.modelPath);
  });

  test('sequence longer than the RoPE table is refused with a clear message', async () => {
    const art = await exportOnnx(cfg, w, path.join(tmp, 'short'), { maxPositions: 6 });
    const lm = await OrtCausalLM.open({ logits: art }, { threads: 1 });
    await expect(lm.logits({ ids: new Int32Array(7), batch: 1, seqLen: 7 })).rejects.toThrow(/7 exceeds the export's 6 positions/);
    await lm.dispose();
  });

  test('CPU fallback is reported when CUDA is not installed', async () => {
    const art = await exportOnnx(cfg, w, path.join(tmp, 'ep'));
    const s = await createSession(art.modelPath, { threads: 2 });
    expect(['cpu', 'cuda']).toContain(s.info.provider);
    if (s.info.provider === 'cpu') expect(s.info.fallbackReason).toMatch(/cuda/i);
    expect(s.info.threads).toBe(2);
    await s.session.release();
    const cpu = await createSession(art.modelPath, { provider: 'cpu', threads: 1 });
    expect(cpu.info).toMatchObject({ provider: 'cpu', threads: 1 });
    expect(cpu.info.fallbackReason).toBeUndefined();
    await cpu.session.release();
    const calm = await OrtCausalLM.open({ logits: art }, { provider: 'cpu', threads: 2, spinning: false });
    expect((await calm.logits({ ids: new Int32Array([1, 2, 3]), batch: 1, seqLen: 3 })).length).toBe(3 * cfg.vocabSize);
    expect(await calm.sessionInfo()).toMatchObject({ threads: 2, spinning: false });
    expect(calm.backendDetail).toMatch(/2 intra-op threads, no spinning/);
    await calm.dispose();
    expect(ort.env.versions.node).toBeTruthy();
  });
});
