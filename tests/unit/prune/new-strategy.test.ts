/**
 * A new pruning strategy is an algorithm file plus one row of the table (src/loram/prune/strategies.ts). This test
 * adds one — the "file" is `keepFirstHalf` below, the row is added to the table module and nowhere else — and then
 * uses it the way a user does: the Prune node's params and rules, its run on a model, the memory planner and the
 * CLI's help all know it.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlamaConfig } from '../../../src/loram/model/config';
import type { WeightMap } from '../../../src/loram/util/tensor';
import type { PruneRequest, StrategySpec } from '../../../src/loram/prune/strategies';

const TABLE = '../../../src/loram/prune/strategies';
const real = await import(TABLE);

// The algorithm file: structured pruning by magnitude, but of the first half of the layers only.
async function keepFirstHalf(config: LlamaConfig, weights: WeightMap, req: PruneRequest) {
  const { pruneStructured } = await import('../../../src/loram/prune/structured');
  return pruneStructured(config, weights, { ...req, importance: 'magnitude', layerRange: [0, Math.floor(config.numLayers / 2)] });
}

// The row.
const half: StrategySpec = { title: 'LoRAM-Half', doc: 'magnitude structured, first half of the layers', structured: true, importances: ['magnitude'], recovery: 'zero-fill', prune: keepFirstHalf };
jest.unstable_mockModule(TABLE, () => ({ ...real, PRUNE_STRATEGIES: { ...real.PRUNE_STRATEGIES, half } }));

const { pruneNode } = await import('../../../src/nodes/prune');
const { nodeSpec } = await import('../../../src/nodes/index');
const { planMemory } = await import('../../../src/loram/memory/planner');
const { main } = await import('../../../src/cli/main');
const { makeTinyModel } = await import('../../integration/tiny-model');

describe('a strategy added to the table only', () => {
  test('the Prune node offers it, checks its importances and derives its lineage', () => {
    const props = nodeSpec(pruneNode).params.properties as Record<string, { enum?: string[]; description?: string }>;
    expect(props.strategy!.enum).toEqual(['rand', 'stru', 'semi', 'unst', 'half']);
    expect(props.strategy!.description).toContain('half: magnitude structured, first half of the layers (LoRAM-Half)');
    expect(pruneNode.params.safeParse({ strategy: 'half' }).success).toBe(true);
    const bad = pruneNode.params.safeParse({ strategy: 'half', importance: 'taylor' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toBe('LoRAM-Half takes magnitude importance, not taylor');
    const p = pruneNode.params.parse({ strategy: 'half' });
    // magnitude needs no calibration data: no missing-input issue.
    expect(pruneNode.staticCheck!({ model: { type: 'model', lineage: { origin: 'o', originNode: 'load', chain: [] } } }, p, { id: 'p', key: 'k' })).toEqual([]);
    const out = pruneNode.staticOutputs!({ model: { type: 'model', lineage: { origin: 'o', originNode: 'load', chain: [] } } }, p, { id: 'p', key: 'k' });
    expect(out.model).toMatchObject({ lineage: { chain: [{ kind: 'prune', structured: true }] } });
  });

  test('the Prune node runs it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loram-half-'));
    const modelDir = await makeTinyModel(path.join(dir, 'in'));
    const out = path.join(dir, 'out');
    const ctx = {
      nodeId: 'p',
      signature: 'f'.repeat(64),
      outDir: out,
      signal: new AbortController().signal,
      progress: async () => undefined,
      log: () => undefined,
      output: (rel = '') => ({ kind: 'store' as const, artifact: 'f'.repeat(64), path: rel }),
      resolve: (loc: { kind: string; path: string }) => (loc.kind === 'external' ? loc.path : path.join(out, loc.path)),
      baseDir: dir,
      cacheDir: dir,
      fileHashes: {},
      sources: {},
    };
    const model = { type: 'model' as const, location: { kind: 'external' as const, path: modelDir }, lineage: { origin: { id: 'x', name: 'tiny' }, transforms: [] }, summary: { layers: 4, hiddenSize: 32, vocabSize: 0, params: 0 } };
    const r = await pruneNode.run(ctx as never, { model }, pruneNode.params.parse({ strategy: 'half', ratio: 0.5 }));
    expect(r.outputs.model).toMatchObject({ lineage: { transforms: [{ kind: 'prune', strategy: 'half', structured: true }] } });
    expect(r.metrics!.prunedParams as number).toBeLessThan(r.metrics!.originalParams as number);
  });

  test('the memory planner plans it and the CLI lists it', async () => {
    const plan = planMemory({ model: 'llama-2-13b', strategy: 'half' as never, ratio: 0.5 });
    expect(plan.prunedParams).toBeLessThan(plan.originalParams);
    let help = '';
    await main(['--help'], { out: { write: (s) => void (help += s) }, err: { write: () => undefined }, isTTY: false });
    expect(help).toContain('none|rand|stru|semi|unst|half');
  });
});
