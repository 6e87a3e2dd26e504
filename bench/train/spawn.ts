/**
 * Runs a measurement in a child process (its own peak RSS; no engine state shared with other measurements) and
 * reads back the one JSON object it prints as its last stdout line.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childArgv } from './args';
import type { TrainArgs } from './args';
import type { Row } from './types';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The last stdout line that is a JSON object, or an error carrying the child's stderr. */
export function lastJson<T>(what: string, r: ChildResult): T {
  const line = r.stdout.trim().split('\n').reverse().find((l) => l.trimStart().startsWith('{'));
  if (r.code !== 0 || !line) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-8).join('\n');
    throw new Error(`${what} failed (exit ${r.code})${tail ? `:\n${tail}` : ''}`);
  }
  return JSON.parse(line) as T;
}

/** Thread caps for native libraries that read them (tfjs-node's TensorFlow, OpenMP, MKL). */
export function threadEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { TF_NUM_INTRAOP_THREADS: n, TF_NUM_INTEROP_THREADS: '1', OMP_NUM_THREADS: n, MKL_NUM_THREADS: n };
}

export async function measureInChild(a: Omit<TrainArgs, 'json'>): Promise<Row> {
  const args = ['--import', 'tsx', path.join(HERE, 'child.ts'), ...childArgv(a)];
  const r = await runChild(process.execPath, args, threadEnv(a.threads));
  return lastJson<Row>(`${a.backend} on ${a.shape}`, r);
}
