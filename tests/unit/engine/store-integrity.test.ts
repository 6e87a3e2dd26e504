/**
 * The store's guarantees on the engine's test nodes (the same store and engine as `loram run`; no mocks): a
 * full disk while an artifact is written fails the node clearly and publishes nothing; artifacts published
 * before manifests are adopted; the per-signature lock waits for a live holder and takes over a dead one's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsp, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EngineEvent } from '../../../src/shared';
import { MANIFEST_FILE } from '../../../src/engine/manifest';
import { SignatureLocks } from '../../../src/engine/store-lock';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../../src/engine/engine';
import { registry as diskFullRegistry } from './fixtures/disk-full-registry';
import { cached, recipe, runCollect, started, tempHome, tempLeftovers, testEngine } from './helpers';

const logs = (events: EngineEvent[]) => events.filter((e) => e.type === 'node-log').map((e) => (e as { message: string }).message);
const one = recipe([{ id: 's', type: 'Source', params: { value: 7 } }], []);

/** A pid that no process has now: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('a full disk while writing an artifact', () => {
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

  test.each(['outputs.json', MANIFEST_FILE])('failing to write %s: the node fails saying so, nothing partial is visible, the next run computes it', async (failing) => {
    const home = tempHome();
    const engine = testEngine(home);
    try {
      engine.store.writer = {
        writeFile: async (f, d) => {
          if (path.basename(f) === failing) {
            await fsp.writeFile(f, d.slice(0, 3)); // a partial write, then the disk is full
            throw enospc();
          }
          await fsp.writeFile(f, d);
        },
      };
      const { end, events } = await runCollect(engine, one);
      expect(end.type === 'run-finished' && !end.ok).toBe(true);
      const failed = events.find((e) => e.type === 'node-failed') as Extract<EngineEvent, { type: 'node-failed' }>;
      expect(failed.error.message).toMatch(/^the disk is full: s's result could not be written to the artifact store \(.*\); nothing of it was published/);
      expect(failed.error.message).toContain('loram cache gc --max-gib');
      expect(failed.error.code).toBe('ENOSPC');
      const sig = (end as Extract<EngineEvent, { type: 'run-finished' }>).nodes.s!.signature!;
      expect(existsSync(engine.store.pathOf(sig))).toBe(false);
      expect(tempLeftovers(home)).toEqual([]);
      expect(await engine.store.has(sig)).toBe(false);
      expect(readdirSync(path.join(home, 'locks')).filter((n) => n.endsWith('.lock'))).toEqual([]);

      engine.store.writer = { writeFile: (f, d) => fsp.writeFile(f, d) };
      const again = await runCollect(engine, one);
      expect(started(again.events)).toEqual(['s']);
      expect((await engine.store.check(sig, 'full')).state).toBe('ok');
    } finally {
      await engine.close();
    }
  });
});

test("a node's own write failing with ENOSPC in the worker: the node fails saying the disk is full, nothing is published", async () => {
  const home = tempHome();
  const engine = new Engine({ home, registry: diskFullRegistry, registryModule: fileURLToPath(new URL('./fixtures/disk-full-registry.ts', import.meta.url)) });
  try {
    const { end, events } = await runCollect(engine, recipe([{ id: 'w', type: 'DiskFull', version: 1 }], []));
    expect(end.type === 'run-finished' && !end.ok).toBe(true);
    const failed = events.find((e) => e.type === 'node-failed') as Extract<EngineEvent, { type: 'node-failed' }>;
    expect(failed.error.message).toMatch(/^the disk is full: w's result could not be written .*nothing of it was published.*\(ENOSPC: no space left on device, write\)$/);
    expect(readdirSync(path.join(home, 'artifacts'))).toEqual([]);
    expect(tempLeftovers(home)).toEqual([]);
  } finally {
    await engine.close();
  }
});

describe('manifests', () => {
  test('every artifact gets one, written last; an artifact from before manifests is adopted on its next hit', async () => {
    const engine = testEngine();
    try {
      const first = await runCollect(engine, one);
      const sig = (first.end as Extract<EngineEvent, { type: 'run-finished' }>).nodes.s!.signature!;
      const m = await engine.store.manifest(sig);
      expect(Object.keys(m!.files)).toEqual(['outputs.json', 'value.json']);
      await fsp.rm(path.join(engine.store.pathOf(sig), MANIFEST_FILE));
      expect((await engine.store.check(sig, 'sizes')).state).toBe('legacy');
      const again = await runCollect(engine, one);
      expect(cached(again.events)).toEqual(['s']);
      expect(logs(again.events).join('\n')).toMatch(/predates store manifests: its manifest was written from its current content/);
      expect((await engine.store.check(sig, 'full')).state).toBe('ok');
    } finally {
      await engine.close();
    }
  });
});

describe('the per-signature lock', () => {
  const SIG = 'ab'.repeat(32);

  test('a second holder waits for the first, then has it', async () => {
    const dir = path.join(tempHome(), 'locks');
    const a = new SignatureLocks(dir);
    const b = new SignatureLocks(dir);
    const held = await a.acquire(SIG, { note: 'first' });
    expect('held' in (await b.tryAcquire(SIG))).toBe(true);
    const waits: string[] = [];
    const second = b.acquire(SIG, { pollMs: 20, onWait: (h) => waits.push(h.note ?? '') });
    await new Promise((r) => setTimeout(r, 150));
    await held.release();
    const got = await second;
    expect(waits).toEqual(['first']);
    expect(got.waitedFor?.pid).toBe(process.pid);
    await got.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a dead process's lock is taken over", async () => {
    const dir = path.join(tempHome(), 'locks');
    mkdirSync(dir, { recursive: true });
    const pid = deadPid();
    writeFileSync(path.join(dir, `${SIG}.lock`), JSON.stringify({ pid, host: os.hostname(), startedAt: Date.now() - 60_000, signature: SIG }));
    const stale: number[] = [];
    const l = await new SignatureLocks(dir).acquire(SIG, { onStale: (h) => stale.push(h.pid) });
    expect(stale).toEqual([pid]);
    expect(l.info.pid).toBe(process.pid);
    await l.release();
  });

  test('a lock from before the last boot is stale even if its pid is in use now', async () => {
    const dir = path.join(tempHome(), 'locks');
    mkdirSync(dir, { recursive: true });
    const beforeBoot = Date.now() - os.uptime() * 1000 - 3_600_000;
    writeFileSync(path.join(dir, `${SIG}.lock`), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: beforeBoot, signature: SIG }));
    expect((await new SignatureLocks(dir).holder(SIG))?.stale).toBe(true);
    writeFileSync(path.join(dir, `${SIG}.lock`), JSON.stringify({ pid: process.pid, host: 'another-host', startedAt: beforeBoot, signature: SIG }));
    expect((await new SignatureLocks(dir).holder(SIG))?.stale).toBe(false); // another host's: cannot be checked, waited for
  });

  test('a run takes over a stale lock on the signature it computes, and says so', async () => {
    const home = tempHome();
    const engine = testEngine(home);
    try {
      const first = await runCollect(engine, one);
      const sig = (first.end as Extract<EngineEvent, { type: 'run-finished' }>).nodes.s!.signature!;
      await fsp.rm(engine.store.pathOf(sig), { recursive: true });
      writeFileSync(path.join(home, 'locks', `${sig}.lock`), JSON.stringify({ pid: deadPid(), host: os.hostname(), startedAt: Date.now(), signature: sig }));
      const again = await runCollect(engine, one);
      expect(started(again.events)).toEqual(['s']);
      expect(logs(again.events).join('\n')).toMatch(/took over the store lock of process \d+, since .*, which no longer runs/);
      expect(existsSync(path.join(home, 'locks', `${sig}.lock`))).toBe(false);
    } finally {
      await engine.close();
    }
  });
});
