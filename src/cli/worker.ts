/**
 * `loram worker --queue redis://… --store s3://…|/shared/dir [--concurrency N] [--name NAME]`: a compute worker for
 * runs submitted with `loram run --queue … --store …` (or the editor's "Run on workers"). Ctrl-C (SIGINT/SIGTERM)
 * stops taking jobs and lets the running ones finish; a second one cancels them and exits.
 */
import { parseArgs } from 'node:util';
import type { Io } from './main';

const USAGE = `usage: loram worker --queue redis://[user:pass@]host:port[/db] --store s3://bucket/prefix|/shared/dir [--concurrency N] [--name NAME]
  Takes node jobs from the queue, runs them with this checkout's node code and publishes each result to the
  shared store. The password may come from LORAM_REDIS_PASSWORD; TLS (rediss://) from LORAM_REDIS_TLS_CA/CERT/KEY;
  S3 credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, LORAM_S3_ENDPOINT).
  The worker's own cache is LORAM_HOME (default ~/.cache/loram). See docs/remote.md.
`;

export interface WorkerArgs {
  queue: string;
  store: string;
  concurrency: number;
  name?: string;
}

/** The command line, or a message saying what is wrong with it. */
export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerArgs | string {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv, options: { queue: { type: 'string' }, store: { type: 'string' }, concurrency: { type: 'string' }, name: { type: 'string' } }, strict: true }).values;
  } catch (e) {
    return (e as Error).message;
  }
  const queue = values.queue ?? env.LORAM_QUEUE;
  const store = values.store ?? env.LORAM_STORE;
  if (!queue) return '--queue is required (or LORAM_QUEUE): redis://host:port';
  if (!store) return '--store is required (or LORAM_STORE): s3://bucket/prefix or a shared folder';
  const concurrency = values.concurrency === undefined ? 1 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) return `--concurrency must be a whole number from 1 to 64, got "${values.concurrency}"`;
  if (values.name !== undefined && !/^[\w.-]{1,64}$/.test(values.name)) return `--name may hold letters, digits, "_", "." and "-" (at most 64), got "${values.name}"`;
  return { queue, store, concurrency, ...(values.name ? { name: values.name } : {}) };
}

export async function cmdWorker(argv: string[], io: Io): Promise<number> {
  const args = parseWorkerArgs(argv);
  if (typeof args === 'string') {
    io.err.write(`loram worker: ${args}\n${USAGE}`);
    return 2;
  }
  const { NodeWorker } = await import('../engine/remote/node-worker');
  const { codeVersion } = await import('../engine/remote/code-version');
  const { redact } = await import('../engine/remote/queue-url');
  const stamp = () => new Date().toISOString().slice(11, 19);
  const log = (line: string) => io.out.write(`${stamp()} ${line}\n`);
  let worker;
  try {
    worker = await NodeWorker.start({ ...args, log, ...lockFromEnv() });
  } catch (e) {
    io.err.write(`loram worker: ${(e as Error).message}\n`);
    return 1;
  }
  log(`worker ${worker.name} (code ${codeVersion()}, ${args.concurrency} at a time) takes jobs from ${redact(args.queue)}; results go to ${args.store}`);
  return new Promise<number>((resolve) => {
    let stops = 0;
    const stop = () => {
      stops++;
      log(stops === 1 ? 'stopping: finishing the running job(s) (Ctrl-C again cancels them)' : 'cancelling the running job(s)');
      void worker.close(stops > 1).then(() => {
        log(`stopped after ${worker.taken} job(s)`);
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** LORAM_WORKER_LOCK_MS: how soon a lost worker's job is retried elsewhere (tests shorten it). */
function lockFromEnv(): { lockMs?: number } {
  const v = Number(process.env.LORAM_WORKER_LOCK_MS);
  return Number.isInteger(v) && v >= 1000 ? { lockMs: v } : {};
}

export { USAGE as WORKER_USAGE };
