import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { EngineEvent } from '../../../src/shared/index';
import { FileHost } from '../../../src/server/host';
import { startServer, type RunningServer } from '../../../src/server/server';
import { FakeEngine } from './fake-engine';

let dir: string;
let engine: FakeEngine;
let srv: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loram-server-'));
  const web = path.join(dir, 'web');
  mkdirSync(path.join(web, 'assets'), { recursive: true });
  writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(path.join(web, 'assets', 'a.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  engine = new FakeEngine();
  const host = new FileHost({ stateDir: path.join(dir, 'state'), defaultDir: dir, shell: 'web', appVersion: '1' });
  srv = await startServer({ engine, host, staticDir: web, port: 0 });
});
afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request (fetch would rewrite Host). */
function request(opts: { path: string; method?: string; headers?: Record<string, string>; body?: string; host?: string }): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: srv.port, path: opts.path, method: opts.method ?? 'GET', headers: { Host: opts.host ?? `127.0.0.1:${srv.port}`, ...opts.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

const api = (op: string, args: unknown[], headers: Record<string, string> = { Authorization: `Bearer ${srv.token}` }) =>
  request({ path: `/api/engine/${op}`, method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ args }) });

describe('web shell server', () => {
  test('binds to 127.0.0.1 only, and prints a URL with the token', () => {
    const addr = srv.server.address() as { address: string; family: string };
    expect(addr.address).toBe('127.0.0.1');
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/?token=${srv.token}`);
    expect(srv.token).toMatch(/^[0-9a-f]{64}$/);
  });

  test('not reachable on other interfaces', async () => {
    const ip = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!ip) return; // no other interface on this machine
    const code = await new Promise<string>((resolve) => {
      const req = http.get({ host: ip, port: srv.port, path: '/', timeout: 2000 }, () => resolve('connected'));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      req.on('timeout', () => {
        req.destroy();
        resolve('timeout');
      });
    });
    expect(code).not.toBe('connected');
  });

  test('a different token each start', async () => {
    const s2 = await startServer({ engine, host: new FileHost({ stateDir: dir, defaultDir: dir, shell: 'web', appVersion: '1' }), staticDir: null });
    expect(s2.token).not.toBe(srv.token);
    await s2.close();
  });

  test('refuses requests without the token (page, assets, API, events)', async () => {
    expect((await request({ path: '/' })).status).toBe(401);
    expect((await request({ path: '/assets/a.js' })).status).toBe(401);
    expect((await request({ path: '/?token=wrong' })).status).toBe(401);
    const noAuth = await api('listNodes', [], {});
    expect(noAuth.status).toBe(401);
    expect((await api('listNodes', [], { Authorization: 'Bearer nope' })).status).toBe(401);
    expect(engine.callsOf('listNodes')).toHaveLength(0);
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/events`);
        ws.on('open', () => reject(new Error('opened without a token')));
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
        ws.on('error', () => resolve('error'));
      }),
    ).resolves.toBe(401);
  });

  test('with the token: the page (CSP, cookie for assets), the API, path traversal refused', async () => {
    const page = await request({ path: `/?token=${srv.token}` });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^loram_token_\d+=/);
    expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const asset = await request({ path: '/assets/a.js', headers: { Cookie: cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect((await request({ path: '/../secret.txt', headers: { Cookie: cookie } })).status).not.toBe(200);
    expect((await request({ path: '/%2e%2e/secret.txt', headers: { Cookie: cookie } })).body).not.toBe('secret');
    const r = await api('listNodes', []);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body.ok).toBe(true);
    expect(body.value.map((s: { type: string }) => s.type)).toContain('Prune');
  });

  test('DNS-rebinding and cross-origin guards', async () => {
    expect((await request({ path: `/?token=${srv.token}`, host: `evil.example:${srv.port}` })).status).toBe(403);
    expect((await api('listNodes', [], { Authorization: `Bearer ${srv.token}`, Origin: 'http://evil.example' })).status).toBe(403);
    expect((await api('listNodes', [], { Authorization: `Bearer ${srv.token}`, Origin: `http://127.0.0.1:${srv.port}` })).status).toBe(200);
  });

  test('payloads are validated before they reach the engine', async () => {
    const before = engine.calls.length;
    const bad = await api('cancel', [42]);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ code: 'invalid-payload' });
    const badSave = await api('saveRecipe', ['/tmp/x.json', { format: 'nope' }]);
    expect(JSON.parse(badSave.body).error.code).toBe('invalid-payload');
    const notJsonFile = await api('saveRecipe', [path.join(dir, '.bashrc'), { format: 'loram-recipe', version: 2, name: 'r', nodes: [], edges: [] }]);
    expect(JSON.parse(notJsonFile.body).error).toMatchObject({ code: 'invalid-payload', message: expect.stringMatching(/must end in \.json/) });
    const unknown = await api('deleteEverything', []);
    expect(unknown.status).toBe(404);
    expect(engine.calls.length).toBe(before);
    const notJson = await request({ path: '/api/engine/listNodes', method: 'POST', headers: { Authorization: `Bearer ${srv.token}`, 'Content-Type': 'text/plain' }, body: '{}' });
    expect(notJson.status).toBe(415);
    const get = await request({ path: '/api/engine/listNodes', headers: { Authorization: `Bearer ${srv.token}` } });
    expect(get.status).toBe(405);
    const run = await api('run', [{ format: 'loram-recipe' }, { to: 'x', baseDir: '/tmp' }]);
    expect(JSON.parse(run.body)).toEqual({ ok: true, value: { ok: true, runId: 'run-1' } });
    expect(engine.callsOf('run').at(-1)!.args[1]).toEqual({ to: 'x', baseDir: '/tmp' });
  });

  test('engine events arrive on the WebSocket', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/events?token=${srv.token}`);
    const got: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (m) => {
        const e = JSON.parse(String(m));
        got.push(e);
        if (e.type === 'hello') engine.emit({ type: 'node-log', runId: 'r', time: 1, node: 'a', level: 'info', message: 'hi' } as EngineEvent);
        if (e.type === 'node-log') resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    expect(got[1]).toMatchObject({ type: 'node-log', message: 'hi' });
  });

  test('host operations: recovery file, recent files, directory listing', async () => {
    const host = (op: string, args: unknown[]) =>
      request({ path: `/api/host/${op}`, method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${srv.token}` }, body: JSON.stringify({ args }) }).then((r) => JSON.parse(r.body));
    const recipe = { format: 'loram-recipe', version: 2, name: 'r', nodes: [], edges: [] };
    expect(await host('writeRecovery', [{ savedAt: 1, path: null, recipe }])).toEqual({ ok: true, value: null });
    expect((await host('readRecovery', [])).value).toEqual({ savedAt: 1, path: null, recipe });
    await host('clearRecovery', []);
    expect((await host('readRecovery', [])).value).toBeNull();
    expect((await host('addRecent', [path.join(dir, 'a.json')])).value).toEqual([path.join(dir, 'a.json')]);
    writeFileSync(path.join(dir, 'b.json'), '{}');
    const listing = (await host('listDir', [dir])).value;
    expect(listing.entries.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(['web', 'b.json']));
    expect(listing.entries.map((e: { name: string }) => e.name)).not.toContain('secret.txt');
    expect((await host('writeRecovery', [{ nope: 1 }])).error.code).toBe('invalid-payload');
    expect((await host('info', [])).value).toMatchObject({ shell: 'web', defaultDir: dir });
  });
});
