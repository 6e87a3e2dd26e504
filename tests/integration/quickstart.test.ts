/**
 * graphs/quickstart.json on the built-in model (issue 5 acceptance): the second run reports every node cached
 * and takes under 10% of the first; changing one LoRA-Train parameter re-runs only LoRA-Train and what depends
 * on it. Skipped until the built-in models exist (models/loram-large, built by scripts/build-models.ts).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/engine/engine';
import { resolveModelSource } from '../../src/nodes/sources';
import type { EngineEvent } from '../../src/shared';

const GRAPHS = fileURLToPath(new URL('../../graphs/', import.meta.url));
const haveModels = existsSync(path.join(resolveModelSource('builtin:large', '.'), 'config.json'));
const d = haveModels ? describe : describe.skip;
if (!haveModels) console.warn('quickstart integration test skipped: built-in models not built (npx tsx scripts/build-models.ts all)');

d('quickstart on the built-in model', () => {
  const engine = new Engine({ home: mkdtempSync(path.join(os.tmpdir(), 'loram-quickstart-')) });
  afterAll(() => engine.close());
  const recipe = () => JSON.parse(readFileSync(path.join(GRAPHS, 'quickstart.json'), 'utf8'));

  async function run(r: unknown) {
    const events: EngineEvent[] = [];
    const unsub = engine.subscribe((e) => events.push(e));
    const t0 = Date.now();
    const s = await engine.run(r, { baseDir: GRAPHS });
    if (!s.ok) throw new Error(JSON.stringify(s.errors));
    const end = await engine.wait(s.runId);
    unsub();
    return { events: events.filter((e) => e.runId === s.runId), end, ms: Date.now() - t0 };
  }
  const of = (events: EngineEvent[], type: string) => events.filter((e) => e.type === type).map((e) => (e as { node: string }).node);

  let first = 0;
  test('runs, and its verdict shows the gain over the untuned original (what the first screen leads with)', async () => {
    const { end, ms } = await run(recipe());
    first = ms;
    expect(end.type === 'run-finished' && end.ok).toBe(true);
    const m = await engine.reportModel(end.runId);
    expect(m.verdict.baselines).toEqual(['original model, untuned']);
    expect(m.verdict.gains[0]).toMatch(/^LoRAM-Stru \(recovered, on the original\) beats original model, untuned \(baseline\): \d+\.\d% lower perplexity\.$/);
  }, 1_800_000);

  test('second run: every node cached, under 10% of the time', async () => {
    const { events, end, ms } = await run(recipe());
    expect(end.type === 'run-finished' && end.ok).toBe(true);
    expect(of(events, 'node-started')).toEqual([]);
    expect(of(events, 'node-cached').length).toBe(recipe().nodes.length);
    expect(ms).toBeLessThan(first * 0.1);
  }, 600_000);

  test('changing a LoRA-Train parameter re-runs only LoRA-Train and its dependents', async () => {
    const r = recipe();
    r.nodes.find((n: { type: string }) => n.type === 'LoRA-Train').params.seed = 1;
    const { events } = await run(r);
    expect(of(events, 'node-started')).toEqual(['train', 'recover', 'eval', 'compare']);
  }, 1_800_000);
});
