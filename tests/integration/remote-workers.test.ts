/**
 * Runs on a queue of workers, as a user runs them: redis-server (Debian's package) on a free loopback port with
 * a password, an S3 store (s3rver, in this process), two `loram worker` processes and the submitter as
 * `loram run --queue … --store … --json`. Checks: every node ran exactly once and both workers took jobs; the
 * results equal a local run's bit for bit (measured times and memory aside); a worker SIGKILLed during
 * LoRA-Train is replaced by the other, with the same results, and no partial artifact is ever visible in the
 * store; a cancel from the submitter stops the remote node within one step; a job from other code is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineEvent, RunCancelledEvent, RunFinishedEvent } from '../../src/shared';
import { openRemoteStore, type RemoteStore } from '../../src/engine/remote/remote-store';
import { spawnWorker } from '../helpers/loram-worker';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';
import { comparableArtifact } from '../helpers/artifact-compare';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LORAM = path.join(ROOT, 'bin/loram.mjs');
const QUICKSTART = path.join(ROOT, 'graphs/quickstart.json');

let redis: RedisServer | null = null;
let s3: S3TestServer;
let tmp: string;
const workers = new Map<string, { proc: ChildProcess; out: string }>();

const haveRedis = (await import('../helpers/redis-server')).redisServerPath() !== null;
if (!haveRedis) console.warn('remote worker tests skipped: redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)');
const describeRemote = haveRedis ? describe : describe.skip;

function storeUrl(): string {
  return s3.storeUrl('team/artifacts');
}

function env(home: string): NodeJS.ProcessEnv {
  return { ...process.env, ...s3.env, LORAM_HOME: home, LORAM_WORKER_LOCK_MS: '3000', LORAM_CONCURRENCY: '1' };
}

async function startWorker(name: string): Promise<void> {
  workers.set(name, await spawnWorker({ queue: redis!.url, store: storeUrl(), name, env: env(path.join(tmp, name)) }));
}

interface CliRun {
  events: EngineEvent[];
  end: RunFinishedEvent | RunCancelledEvent;
  code: number | null;
}

/** `loram run <file> --json` (on the workers when `remote`); `onEvent` may act on the child while it runs. */
async function loramRun(file: string, home: string, remote: boolean, onEvent?: (e: EngineEvent, child: ChildProcess) => void): Promise<CliRun> {
  const args = [LORAM, 'run', file, '--json', ...(remote ? ['--queue', redis!.url, '--store', storeUrl()] : [])];
  const child = spawn(process.execPath, args, { env: env(home), stdio: ['ignore', 'pipe', 'pipe'] });
  const events: EngineEvent[] = [];
  let buf = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as EngineEvent;
      events.push(e);
      onEvent?.(e, child);
    }
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const end = events.find((e): e is RunFinishedEvent | RunCancelledEvent => e.type === 'run-finished' || e.type === 'run-cancelled');
  if (!end) throw new Error(`loram run ended (${code}) without an end event:\n${err}\n${JSON.stringify(events.slice(-5))}`);
  return { events, end, code };
}

/** A variant of the quickstart recipe written next to the temp homes. */
async function recipe(name: string, edit: (r: { nodes: { id: string; params: Record<string, unknown>; sweep?: unknown }[] }) => void): Promise<string> {
  const r = JSON.parse(await fsp.readFile(QUICKSTART, 'utf8'));
  r.name = name;
  edit(r);
  const file = path.join(tmp, `${name}.json`);
  await fsp.writeFile(file, JSON.stringify(r, null, 2));
  return file;
}

const node = (r: { nodes: { id: string; params: Record<string, unknown> }[] }, id: string) => r.nodes.find((n) => n.id === id)!;

/** Every computed node of `remote` has the same artifact, bit for bit, as the same signature in `localHome`. */
async function expectSameArtifacts(remote: CliRun, remoteHome: string, localHome: string): Promise<void> {
  const sigs = Object.values(remote.end.nodes).flatMap((n) => (n.signature ? [n.signature] : []));
  expect(sigs.length).toBeGreaterThan(0);
  for (const sig of sigs) {
    const a = await comparableArtifact(path.join(localHome, 'artifacts', sig));
    const b = await comparableArtifact(path.join(remoteHome, 'artifacts', sig));
    expect({ sig, files: b }).toEqual({ sig, files: a });
  }
}

/** Every artifact visible in the shared store is complete and verifies (fetched into a scratch store). */
async function expectOnlyCompleteArtifacts(store: RemoteStore, sigs: string[]): Promise<void> {
  const { ArtifactStore } = await import('../../src/engine/store');
  const scratch = new ArtifactStore(await fsp.mkdtemp(path.join(tmp, 'verify-')));
  await scratch.open();
  for (const sig of sigs) {
    if (!(await store.has(sig))) continue;
    expect(await store.fetchInto(sig, scratch)).toBe(true);
    expect((await scratch.check(sig, 'full')).state).toBe('ok');
  }
}

/** Jobs each worker finished ("job <id>: done" in its log), by job id. */
function jobsDone(): Map<string, string[]> {
  const done = new Map<string, string[]>();
  for (const [name, w] of workers) for (const m of w.out.matchAll(/job (\S+): done/g)) done.set(m[1]!, [...(done.get(m[1]!) ?? []), name]);
  return done;
}

describeRemote('recipes on a queue of workers (BullMQ on Redis, artifacts in S3)', () => {
  beforeAll(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-remote-'));
    redis = await startRedis();
    s3 = await startS3Server();
    await Promise.all([startWorker('w1'), startWorker('w2')]);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers.values()) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    await redis?.stop();
    await s3?.stop();
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('runs the quickstart and a small sweep: every node once, on both workers, bit for bit the local results', async () => {
    const sweep = await recipe('sweep', (r) => {
      node(r, 'train').params.steps = 20;
      (r.nodes.find((n) => n.id === 'prune')! as { sweep?: unknown }).sweep = { axis: 'strategy', mode: 'zip', values: { strategy: ['stru', 'rand'] } };
    });
    const local = path.join(tmp, 'local');
    for (const file of [QUICKSTART, sweep]) expect((await loramRun(file, local, false)).code).toBe(0);

    const sub = path.join(tmp, 'submitter');
    for (const file of [QUICKSTART, sweep]) {
      const run = await loramRun(file, sub, true);
      expect(run.code).toBe(0);
      const started = run.events.filter((e) => e.type === 'run-started');
      expect(started[0]).toMatchObject({ workers: expect.stringContaining('***@127.0.0.1') });
      const finished = run.events.filter((e) => e.type === 'node-finished');
      const ids = finished.map((e) => (e as { node: string }).node);
      expect(new Set(ids).size).toBe(ids.length);
      for (const n of Object.values(run.end.nodes)) if (n.status === 'done') expect(['w1', 'w2']).toContain(n.worker);
      await expectSameArtifacts(run, sub, local);
    }
    const done = jobsDone();
    for (const [job, by] of done) expect({ job, by: by.length }).toEqual({ job, by: 1 });
    expect(new Set([...done.values()].flat())).toEqual(new Set(['w1', 'w2']));
  }, 600_000);

  it('a worker SIGKILLed during LoRA-Train: the other finishes the run with the same results; nothing partial is ever visible', async () => {
    const file = await recipe('killed', (r) => {
      node(r, 'train').params.steps = 40;
      node(r, 'train').params.seed = 7;
    });
    const local = path.join(tmp, 'local');
    expect((await loramRun(file, local, false)).code).toBe(0);
    const store = await openRemoteStore(storeUrl(), { ...process.env, ...s3.env });
    let victim: string | null = null;
    let ticks = 0;
    const startedSigs: string[] = [];
    const seen: Promise<void>[] = [];
    const run = await loramRun(file, path.join(tmp, 'submitter'), true, (e) => {
      if (e.type === 'node-started') startedSigs.push(e.signature);
      if (e.type === 'node-log' && e.node === 'train' && !victim) victim = /running on worker (\w+)/.exec(e.message)?.[1] ?? null;
      if (e.type !== 'node-progress' || e.node !== 'train' || !victim) return;
      ticks++;
      if (ticks === 3) workers.get(victim)!.proc.kill('SIGKILL');
      // While the run goes on (the victim's upload cut short included), whatever the store shows is complete.
      if (ticks % 10 === 0) seen.push(expectOnlyCompleteArtifacts(store, [...startedSigs]));
    });
    await Promise.all(seen);
    expect(victim).not.toBeNull();
    expect(workers.get(victim!)!.proc.signalCode).toBe('SIGKILL');
    expect(run.code).toBe(0);
    const train = run.end.nodes.train!;
    expect(train.status).toBe('done');
    expect(train.worker).toBe(victim === 'w1' ? 'w2' : 'w1');
    await expectSameArtifacts(run, path.join(tmp, 'submitter'), local);
    await expectOnlyCompleteArtifacts(store, Object.values(run.end.nodes).flatMap((n) => (n.signature ? [n.signature] : [])));
    await store.close();
    await startWorker(victim!);
  }, 600_000);

  it('a cancel from the submitter stops the remote node within one training step', async () => {
    const file = await recipe('cancelled', (r) => {
      node(r, 'train').params.steps = 5000;
      node(r, 'train').params.seed = 11;
    });
    let cancelled = false;
    const run = await loramRun(file, path.join(tmp, 'submitter'), true, (e, child) => {
      if (e.type !== 'node-progress' || e.node !== 'train' || e.step < 5 || cancelled) return;
      cancelled = true;
      child.kill('SIGINT');
    });
    expect(run.end.type).toBe('run-cancelled');
    expect(run.code).toBe(130);
    expect(run.end.nodes.train!.status).toBe('cancelled');
    // The worker's own account: the step its node was at when the cancel arrived, and the step it stopped at.
    const log = [...workers.values()].map((w) => w.out).join('\n');
    const m = /stopped at step (\d+) \(the cancel arrived at step (\d+)\)/.exec(log);
    expect(m).not.toBeNull();
    expect(Number(m![1]) - Number(m![2])).toBeLessThanOrEqual(1);
    const store = await openRemoteStore(storeUrl(), { ...process.env, ...s3.env });
    const sig = run.events.find((e) => e.type === 'node-started' && e.node === 'train') as { signature: string } | undefined;
    expect(sig).toBeDefined();
    expect(await store.has(sig!.signature)).toBe(false);
    await store.close();
  }, 300_000);

  it('a job from other code is refused by every worker, with a message that names both versions', async () => {
    const { Queue, QueueEvents } = await import('bullmq');
    const { parseQueueUrl } = await import('../../src/engine/remote/queue-url');
    const { QUEUE_NAME } = await import('../../src/engine/remote/protocol');
    const { connection } = parseQueueUrl(redis!.url);
    const queue = new Queue(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection });
    await events.waitUntilReady();
    const data = { runId: 'other-code', nodeId: 'load', type: 'Load', params: { source: 'builtin:large' }, inputs: {}, signature: 'ef'.repeat(32), baseDir: tmp, fileHashes: {}, sources: {}, codeVersion: '0123456789abcdef', submitter: 'elsewhere:1' };
    const job = await queue.add('node', data, { jobId: 'other-code.load', attempts: 2, backoff: { type: 'fixed', delay: 100 } });
    await expect(job.waitUntilFinished(events)).rejects.toThrow(/worker w\d refused node load: it runs LoRAM code version [0-9a-f]{16}, the submitter 0123456789abcdef \(elsewhere:1\)/);
    await Promise.all([queue.close(), events.close()]);
  }, 60_000);
});
