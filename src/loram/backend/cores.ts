/**
 * The machine's compute budget split between concurrently running nodes: the engine runs LORAM_CONCURRENCY nodes at
 * once (default min(2, cores)), so a node's ONNX Runtime session gets cores / that many intra-op threads unless
 * LORAM_THREADS says otherwise; two sessions each spinning on every core would fight over them.
 */
import os from 'node:os';

export function cores(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** How many nodes compute at once (LORAM_CONCURRENCY, else min(2, cores)). */
export function nodeConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.LORAM_CONCURRENCY);
  if (Number.isInteger(n) && n >= 1) return n;
  return Math.min(2, cores());
}

/** Intra-op threads for one node's session: LORAM_THREADS, else an even share of the cores. */
export function threadsPerNode(env: NodeJS.ProcessEnv = process.env): number {
  if (env.LORAM_THREADS) {
    const n = Number(env.LORAM_THREADS);
    if (!Number.isInteger(n) || n < 1) throw new Error(`LORAM_THREADS must be a positive integer, got "${env.LORAM_THREADS}"`);
    return n;
  }
  return Math.max(1, Math.floor(cores() / nodeConcurrency(env)));
}
