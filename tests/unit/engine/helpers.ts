import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../../src/engine/engine';
import type { EngineEvent, RecipeInput } from '../../../src/shared';
import { registry } from './fixtures/test-registry';

export const REGISTRY_MODULE = fileURLToPath(new URL('./fixtures/test-registry.ts', import.meta.url));

export function tempHome(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'loram-engine-test-'));
}

export function testEngine(home = tempHome(), cancelGraceMs = 2000): Engine {
  return new Engine({ home, registry, registryModule: REGISTRY_MODULE, cancelGraceMs });
}

type N = { id: string; type: string; params?: Record<string, unknown>; version?: number; label?: string };
export function recipe(nodes: N[], edges: [string, string, string, string][], name = 'test'): RecipeInput {
  return {
    format: 'loram-recipe',
    version: 2,
    name,
    nodes: nodes.map((n) => ({ id: n.id, type: n.type, version: n.version ?? registry.get(n.type)?.version ?? 1, params: n.params ?? {}, position: { x: 0, y: 0 }, ...(n.label ? { label: n.label } : {}) })),
    edges: edges.map(([fn, fp, tn, tp], i) => ({ id: `e${i}`, from: { node: fn, port: fp }, to: { node: tn, port: tp } })),
  };
}

/** Run and collect this run's events. */
export async function runCollect(engine: Engine, r: unknown, opts: Parameters<Engine['run']>[1] = {}, onEvent?: (e: EngineEvent, runId: string) => void) {
  const events: EngineEvent[] = [];
  let runId = '';
  const early: EngineEvent[] = [];
  const unsub = engine.subscribe((e) => {
    if (!runId) early.push(e);
    else if (e.runId === runId) {
      events.push(e);
      onEvent?.(e, runId);
    }
  });
  const start = await engine.run(r, opts);
  if (!start.ok) {
    unsub();
    throw new Error(`invalid recipe: ${JSON.stringify(start.errors)}`);
  }
  runId = start.runId;
  for (const e of early) if (e.runId === runId) {
    events.push(e);
    onEvent?.(e, runId);
  }
  const end = await engine.wait(runId);
  unsub();
  return { runId, events, end };
}

export const started = (events: EngineEvent[]) => events.filter((e) => e.type === 'node-started').map((e) => (e as { node: string }).node);
export const cached = (events: EngineEvent[]) => events.filter((e) => e.type === 'node-cached').map((e) => (e as { node: string }).node);

/** Leftover temporary entries in the artifact folder. */
export function tempLeftovers(home: string): string[] {
  try {
    return readdirSync(path.join(home, 'artifacts')).filter((n) => n.startsWith('.'));
  } catch {
    return [];
  }
}
