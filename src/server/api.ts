/** POST /api/engine/<op> and /api/host/<op>: {"args": [...]} → an IpcResult, with the HTTP status it means. */
import type http from 'node:http';
import type { EngineClient } from '../shared/index';
import { HOST_OPS, type HostOp, type IpcResult } from '../shared/shell-contract';
import { dispatchEngineOp, errorResult } from './engine-ops';
import { callFileHost, type FileHost } from './host';
import { readBody, send, sendJson } from './http';

export const API_OP_PATH = /^\/api\/(engine|host)\/([A-Za-z]+)$/;

type ApiTarget = 'engine' | 'host';

/** The request's args, or the error result to answer with when its body is too large or not JSON. */
async function readArgs(req: http.IncomingMessage): Promise<{ args: unknown } | { error: IpcResult<unknown>; status: number }> {
  let body: { args?: unknown };
  try {
    const text = await readBody(req);
    body = text ? (JSON.parse(text) as { args?: unknown }) : {};
  } catch (e) {
    const status = (e as { status?: number }).status ?? 400;
    return { status, error: errorResult(Object.assign(new Error((e as Error).message), { code: status === 413 ? 'too-large' : 'invalid-json' })) };
  }
  return { args: body && typeof body === 'object' && 'args' in body ? body.args : [] };
}

/** The browser can name any path: recipes are only ever written as *.json files. */
function isNonJsonRecipeSave(target: ApiTarget, op: string, args: unknown): args is [string, ...unknown[]] {
  return target === 'engine' && op === 'saveRecipe' && Array.isArray(args) && typeof args[0] === 'string' && !/\.json$/i.test(args[0]);
}

async function callHost(host: FileHost, op: string, args: unknown): Promise<IpcResult<unknown>> {
  try {
    const v = await callFileHost(host, op as HostOp, args);
    return { ok: true, value: v === undefined ? null : v };
  } catch (e) {
    return errorResult(e);
  }
}

async function callOp(engine: EngineClient, host: FileHost, target: ApiTarget, op: string, args: unknown): Promise<IpcResult<unknown>> {
  if (isNonJsonRecipeSave(target, op, args)) {
    return { ok: false, error: { code: 'invalid-payload', message: `saveRecipe: a recipe file must end in .json (${args[0]})` } };
  }
  if (target === 'engine') return dispatchEngineOp(engine, op, args);
  if ((HOST_OPS as readonly string[]).includes(op)) return callHost(host, op, args);
  return { ok: false, error: { code: 'unknown-op', message: `unknown operation "${op}"` } };
}

function statusOf(result: IpcResult<unknown>): number {
  if (result.ok) return 200;
  if (result.error.code === 'unknown-op') return 404;
  return result.error.code === 'invalid-payload' ? 400 : 500;
}

/** `match` is API_OP_PATH's match of the request's path. */
export async function handleApiOp(req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray, engine: EngineClient, host: FileHost): Promise<void> {
  if (req.method !== 'POST') return send(res, 405, 'use POST', 'text/plain; charset=utf-8', { Allow: 'POST' });
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'send application/json');
  const read = await readArgs(req);
  if ('error' in read) return sendJson(res, read.status, read.error);
  const result = await callOp(engine, host, match[1] as ApiTarget, match[2]!, read.args);
  return sendJson(res, statusOf(result), result);
}
