/** A `loram worker` child process for the remote-worker tests; resolves once it says it takes jobs. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LORAM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/loram.mjs');

export interface WorkerProcess {
  proc: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  out: string;
}

export async function spawnWorker(opts: { queue: string; store: string; name: string; env: NodeJS.ProcessEnv }): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, [LORAM, 'worker', '--queue', opts.queue, '--store', opts.store, '--name', opts.name], { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const w: WorkerProcess = { proc, out: '' };
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      w.out += d.toString();
      if (w.out.includes('takes jobs from')) resolve();
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`worker ${opts.name} exited (${code}):\n${w.out}`)));
  });
  return w;
}
