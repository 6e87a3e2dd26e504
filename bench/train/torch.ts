/**
 * The PyTorch column: bench/train/torch_peer.py run by the first Python that can `import torch` (LORAM_PYTHON,
 * then python3 on PATH, then Debian's /usr/bin/python3, which is where python3-torch lives when PATH has a pyenv one).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastJson, runChild, threadEnv } from './spawn';
import type { MeasureOpts, Row, TrainShape } from './types';

export const TORCH_PEER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_peer.py');

export interface TorchPython {
  python: string;
  torch: string;
}

export interface TorchRow extends Row {
  torch: string;
  blas: string;
  blasLibrary: string | null;
}

/** The interpreter that runs the peer, or null with the reasons each candidate was passed over. */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): { found: TorchPython | null; tried: string[] } {
  const candidates = [...new Set([env.LORAM_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c))];
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { found: { python, torch: r.stdout.trim() }, tried };
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { found: null, tried };
}

/**
 * One peer measurement. `blasDir` (a folder holding an OpenBLAS libblas.so.3) goes into the peer's
 * LD_LIBRARY_PATH only: Debian's torch uses whatever libblas.so.3 resolves to.
 */
export async function measureTorch(py: TorchPython, shape: TrainShape, threads: number, o: MeasureOpts, blasDir?: string): Promise<TorchRow> {
  const args = [TORCH_PEER, '--shape', shape.name, '--threads', String(threads), '--steps', String(o.steps), '--warmup', String(o.warmup), '--seed', String(o.seed)];
  const env: NodeJS.ProcessEnv = { ...threadEnv(threads), OPENBLAS_NUM_THREADS: String(threads) };
  if (blasDir) env.LD_LIBRARY_PATH = [blasDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return lastJson<TorchRow>(`torch peer on ${shape.name}`, await runChild(py.python, args, env));
}
