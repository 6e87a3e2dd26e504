/**
 * EngineClient operations as data: a zod schema for each operation's arguments, and `dispatchEngineOp`, which
 * validates a payload and calls the engine. The web shell's HTTP endpoints, Electron's IPC handlers (main
 * process) and the engine's utility process all go through it, so a malformed payload is refused the same way
 * everywhere, before it reaches the engine.
 */
import { z } from 'zod';
import { recipeSchema, type EngineClient } from '../shared/index';
import { ENGINE_OPS, type EngineOp, type IpcResult } from '../shared/shell-contract';

const runId = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:-]+$/, 'not a run id');
const filePath = z.string().min(1, 'must not be empty').max(4096).refine((p) => !p.includes('\0'), 'must not contain NUL');
const anyRecipe = z.unknown().refine((v) => v !== undefined, 'a recipe is required');

const location = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('store'), artifact: z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/, 'not an artifact id'), path: z.string().max(1024) }),
  z.strictObject({ kind: z.literal('external'), path: filePath, hash: z.string().optional() }),
]);

const validateOpts = z.strictObject({ baseDir: filePath.optional(), checkFiles: z.boolean().optional() });
const runOpts = z.strictObject({
  to: z.string().min(1).max(128).optional(),
  noCache: z.boolean().optional(),
  baseDir: filePath.optional(),
  target: z.enum(['local', 'workers']).optional(),
});
const cacheOpts = z.strictObject({ baseDir: filePath.optional() });

/** Argument tuples, by operation. */
export const ENGINE_OP_ARGS = {
  listNodes: z.tuple([]),
  validate: z.tuple([anyRecipe, validateOpts.optional()]),
  run: z.tuple([anyRecipe, runOpts.optional()]),
  runTargets: z.tuple([]),
  cancel: z.tuple([runId]),
  listRuns: z.tuple([]),
  getRun: z.tuple([runId]),
  cacheStatus: z.tuple([anyRecipe, cacheOpts.optional()]),
  storeSummary: z.tuple([]),
  cleanStore: z.tuple([z.strictObject({ maxGib: z.number().min(0).max(1e6).optional(), keepRuns: z.number().int().min(0).max(10000).optional() }).optional()]),
  readArtifact: z.tuple([location]),
  readMetrics: z.tuple([runId]),
  reportModel: z.tuple([runId]),
  writeReport: z.tuple([runId]),
  loadRecipe: z.tuple([filePath]),
  saveRecipe: z.tuple([filePath, recipeSchema]),
} satisfies Record<EngineOp, z.ZodType>;

export function isEngineOp(op: string): op is EngineOp {
  return (ENGINE_OPS as readonly string[]).includes(op);
}

export class PayloadError extends Error {
  readonly code = 'invalid-payload';
}

/** Check the arguments of `op`; trailing `undefined`s (optional arguments) are dropped first. */
export function parseEngineArgs(op: EngineOp, args: unknown): unknown[] {
  if (!Array.isArray(args)) throw new PayloadError(`${op}: the arguments must be an array`);
  const a = [...args];
  while (a.length && (a[a.length - 1] === undefined || a[a.length - 1] === null)) a.pop();
  const r = ENGINE_OP_ARGS[op].safeParse(a);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.length ? `argument ${i.path.join('.')}` : 'arguments'}: ${i.message}`).join('; ');
    throw new PayloadError(`${op}: ${detail}`);
  }
  return r.data as unknown[];
}

/** Validate `args` and call `engine[op]`. Throws PayloadError for bad payloads. */
export async function callEngine(engine: EngineClient, op: EngineOp, args: unknown): Promise<unknown> {
  const a = parseEngineArgs(op, args);
  const fn = engine[op] as (...x: unknown[]) => Promise<unknown>;
  return fn.apply(engine, a);
}

export function errorResult(e: unknown): IpcResult<never> {
  const err = e as { code?: unknown; message?: unknown };
  return { ok: false, error: { code: typeof err?.code === 'string' ? err.code : 'error', message: typeof err?.message === 'string' ? err.message : String(e) } };
}

/** `callEngine` with the result as data ({ok, value} | {ok: false, error}). Never throws. */
export async function dispatchEngineOp(engine: EngineClient, op: string, args: unknown): Promise<IpcResult<unknown>> {
  if (!isEngineOp(op)) return { ok: false, error: { code: 'unknown-op', message: `unknown operation "${op}"` } };
  try {
    const value = await callEngine(engine, op, args);
    return { ok: true, value: value === undefined ? null : value };
  } catch (e) {
    return errorResult(e);
  }
}
