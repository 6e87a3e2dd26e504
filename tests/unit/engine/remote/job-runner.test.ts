/**
 * The worker's job steps that need no queue: refusing other code, reusing what the shared store has, and refusing
 * a recipe file that is not on this machine (or differs) — each with a message that names what is wrong.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { FinalJobError, runNodeJob, type JobRunnerDeps } from '../../../../src/engine/remote/job-runner';
import type { JobEvent, NodeJob } from '../../../../src/engine/remote/protocol';
import type { RemoteStore } from '../../../../src/engine/remote/remote-store';
import { FileHasher } from '../../../../src/engine/hash';
import { ArtifactStore } from '../../../../src/engine/store';
import { SignatureLocks } from '../../../../src/engine/store-lock';
import { makeRegistry } from '../../../../src/nodes/registry';
import { defineNode } from '../../../../src/nodes/definition';
import type { WorkerPool } from '../../../../src/engine/executor';

const READER = defineNode({
  type: 'Reader',
  version: 1,
  title: 'Reader',
  category: 'data',
  doc: 'reads a file',
  inputs: [],
  outputs: [],
  params: z.strictObject({ file: z.string() }),
  files: (p, env) => [{ field: 'file', path: path.resolve(env.baseDir, p.file), kind: 'file' }],
  run: async () => ({ outputs: {} }),
});

async function deps(shared: Partial<RemoteStore>): Promise<JobRunnerDeps> {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-job-'));
  const local = new ArtifactStore(home);
  await local.open();
  return {
    name: 'gpu-1',
    codeVersion: 'aaaa000011112222',
    local,
    locks: new SignatureLocks(path.join(home, 'locks')),
    shared: { display: 's3://b/p', has: async () => false, fetchInto: async () => true, publish: async () => 'published', ...shared } as RemoteStore,
    pool: { run: async () => ({ outputs: {} }) } as unknown as WorkerPool,
    registry: makeRegistry([READER]),
    hasher: new FileHasher(),
  };
}

const job = (over: Partial<NodeJob> = {}): NodeJob => ({
  runId: 'r1',
  nodeId: 'read',
  type: 'Reader',
  params: { file: 'data.jsonl' },
  inputs: {},
  signature: 'ab'.repeat(32),
  baseDir: '/nonexistent-recipe-dir',
  fileHashes: { file: 'f'.repeat(64) },
  sources: {},
  codeVersion: 'aaaa000011112222',
  submitter: 'laptop:42',
  ...over,
});

const run = async (d: JobRunnerDeps, j: NodeJob) => {
  const events: JobEvent[] = [];
  const r = await runNodeJob(d, j, 1, (e) => events.push(e), new AbortController().signal);
  return { r, events };
};

describe('a worker taking a node job', () => {
  it('refuses a job from other code, naming both versions and what to do, before it says it started', async () => {
    const d = await deps({});
    const events: JobEvent[] = [];
    await expect(runNodeJob(d, job({ codeVersion: 'bbbb999988887777' }), 1, (e) => events.push(e), new AbortController().signal)).rejects.toThrow(
      /worker gpu-1 refused node read: it runs LoRAM code version aaaa000011112222, the submitter bbbb999988887777 \(laptop:42\).*update the worker/,
    );
    expect(events).toEqual([]);
  });

  it('does not recompute what the shared store already has', async () => {
    let ran = 0;
    const d = await deps({ has: async () => true });
    d.pool = { run: async () => (ran++, { outputs: {} }) } as unknown as WorkerPool;
    const { r, events } = await run(d, job());
    expect(r).toEqual({ worker: 'gpu-1', reused: true });
    expect(ran).toBe(0);
    expect(events[0]).toEqual({ kind: 'started', worker: 'gpu-1', attempt: 1 });
  });

  it('refuses for good a recipe file missing on this worker, or differing from the submitter\'s, naming node and field', async () => {
    const d = await deps({});
    await expect(run(d, job())).rejects.toThrow(FinalJobError);
    await expect(run(d, job())).rejects.toThrow(/node read, field "file": .*data\.jsonl is not on worker gpu-1 \(ENOENT\)/);
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-recipe-'));
    await fsp.writeFile(path.join(dir, 'data.jsonl'), '{"text":"mine"}\n');
    await expect(run(d, job({ baseDir: dir }))).rejects.toThrow(/differs from the submitter's copy/);
  });

  it('fails when an input artifact is not in the shared store', async () => {
    const d = await deps({ fetchInto: async () => false });
    const input = { type: 'dataset', location: { kind: 'store', artifact: 'cd'.repeat(32), path: 'data' } };
    await expect(run(d, job({ inputs: { data: input }, fileHashes: {} }))).rejects.toThrow(/input artifact cdcdcdcdcdcd of node read is not in the shared store s3:\/\/b\/p/);
  });
});
