import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { EngineEvent } from '../../../src/shared/index';
import { createWebBridge, RemoteError } from '../../../src/renderer/src/client/web';
import { FileHost } from '../../../src/server/host';
import { parseServeArgs } from '../../../src/server/serve';
import { startServer, type RunningServer } from '../../../src/server/server';
import { FakeEngine } from './fake-engine';

let dir: string;
let engine: FakeEngine;
let srv: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loram-client-'));
  engine = new FakeEngine();
  srv = await startServer({ engine, host: new FileHost({ stateDir: dir, defaultDir: dir, shell: 'web', appVersion: '1' }), staticDir: null });
});
afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the renderer's web EngineClient against the server", () => {
  test('calls, errors as exceptions, events over the WebSocket', async () => {
    const b = createWebBridge({ origin: srv.origin, token: srv.token, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    const specs = await b.engine.listNodes();
    expect(specs.some((s) => s.type === 'LoRA-Train')).toBe(true);
    await b.engine.saveRecipe('/x/r.json', { format: 'loram-recipe', version: 2, name: 'r', nodes: [], edges: [] });
    expect(engine.files.has('/x/r.json')).toBe(true);
    await expect(b.engine.cancel(7 as unknown as string)).rejects.toMatchObject({ code: 'invalid-payload' });
    const got = new Promise<EngineEvent>((resolve) => {
      const un = b.engine.subscribe((e) => {
        un();
        resolve(e);
      });
    });
    // wait for the socket to connect, then emit
    for (let i = 0; i < 50 && engine.listeners.size < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    engine.emit({ type: 'node-log', runId: 'r', time: 1, node: 'n', level: 'info', message: 'hello' } as EngineEvent);
    await expect(got).resolves.toMatchObject({ message: 'hello' });
    expect(await b.host.info()).toMatchObject({ shell: 'web' });
    b.close();
  });

  test('a wrong token is reported plainly', async () => {
    const b = createWebBridge({ origin: srv.origin, token: 'bad', WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    const err = await b.engine.listNodes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe('unauthorized');
    b.close();
  });
});

describe('loram serve arguments', () => {
  test('--port N, --open, a bare recipe; bad ports refused', () => {
    expect(parseServeArgs(['--port', '8123'])).toEqual({ port: 8123 });
    expect(parseServeArgs(['--port=0', 'graphs/q.json'])).toEqual({ port: 0, open: 'graphs/q.json' });
    expect(() => parseServeArgs(['--port', 'abc'])).toThrow(/port/);
    expect(() => parseServeArgs(['--host', '0.0.0.0'])).toThrow(/unknown option --host/);
  });
});
