import { jest } from '@jest/globals';
import type { EngineEvent } from '../../../src/shared/index';
import { createWebBridge, RemoteError } from '../../../src/renderer/src/client/web';

/** A WebSocket that the test opens, feeds and drops by hand. */
class FakeSocket {
  static made: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  close(): void {
    this.onclose?.();
  }
}

beforeEach(() => {
  FakeSocket.made = [];
  jest.useFakeTimers();
});
afterEach(() => jest.useRealTimers());

const bridge = (onConnection?: (c: boolean) => void) =>
  createWebBridge({ origin: 'http://127.0.0.1:9', token: 't k', WebSocket: FakeSocket as unknown as typeof WebSocket, ...(onConnection ? { onConnection } : {}) });

describe('the web bridge', () => {
  test('the socket opens on the first subscriber; the greeting and unreadable messages are not events', () => {
    const b = bridge();
    expect(FakeSocket.made).toHaveLength(0);
    const got: EngineEvent[] = [];
    b.engine.subscribe((e) => got.push(e));
    b.engine.subscribe(() => undefined);
    expect(FakeSocket.made).toHaveLength(1);
    expect(FakeSocket.made[0]!.url).toBe('ws://127.0.0.1:9/api/events?token=t%20k');
    const s = FakeSocket.made[0]!;
    s.onmessage!({ data: JSON.stringify({ type: 'hello' }) });
    s.onmessage!({ data: 'not json' });
    s.onmessage!({ data: JSON.stringify({ type: 'run-started', runId: 'r' }) });
    expect(got).toEqual([{ type: 'run-started', runId: 'r' }]);
    b.close();
  });

  test('a dropped socket is reopened with a doubling delay, reset once it opens; not after close', () => {
    const seen: boolean[] = [];
    const b = bridge((c) => seen.push(c));
    b.engine.subscribe(() => undefined);
    FakeSocket.made[0]!.close();
    jest.advanceTimersByTime(249);
    expect(FakeSocket.made).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1]!.close();
    jest.advanceTimersByTime(499);
    expect(FakeSocket.made).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(FakeSocket.made).toHaveLength(3);
    FakeSocket.made[2]!.onopen!();
    FakeSocket.made[2]!.close();
    jest.advanceTimersByTime(250);
    expect(FakeSocket.made).toHaveLength(4);
    expect(seen).toEqual([false, false, true, false]);
    b.close();
    jest.advanceTimersByTime(10_000);
    expect(FakeSocket.made).toHaveLength(4);
  });

  test('nobody listening: a dropped socket stays closed', () => {
    const b = bridge();
    const un = b.engine.subscribe(() => undefined);
    un();
    FakeSocket.made[0]!.close();
    jest.advanceTimersByTime(10_000);
    expect(FakeSocket.made).toHaveLength(1);
    b.close();
  });

  test('calls: the op and its arguments posted with the token; failures are RemoteErrors with a code', async () => {
    const posted: { url: string; init: RequestInit }[] = [];
    let answer: () => Response = () => new Response(JSON.stringify({ ok: true, value: [1] }));
    const fetch = (async (url: string, init: RequestInit) => {
      posted.push({ url, init });
      return answer();
    }) as unknown as typeof globalThis.fetch;
    const b = createWebBridge({ origin: 'http://h', token: 'tok', fetch, WebSocket: FakeSocket as unknown as typeof WebSocket });
    await expect(b.engine.listNodes()).resolves.toEqual([1]);
    expect(posted[0]!.url).toBe('http://h/api/engine/listNodes');
    expect(posted[0]!.init.headers).toMatchObject({ Authorization: 'Bearer tok' });
    expect(JSON.parse(String(posted[0]!.init.body))).toEqual({ args: [] });
    answer = () => new Response('{}', { status: 401 });
    await expect(b.host.info()).rejects.toMatchObject({ code: 'unauthorized' });
    answer = () => new Response('<html>', { status: 502 });
    await expect(b.host.info()).rejects.toMatchObject({ code: 'bad-response' });
    answer = () => new Response(JSON.stringify({ ok: false, error: { message: 'no', code: 'not-found' } }));
    await expect(b.host.info()).rejects.toEqual(new RemoteError('no', 'not-found'));
    answer = () => {
      throw new Error('ECONNREFUSED');
    };
    await expect(b.host.info()).rejects.toMatchObject({ code: 'unreachable' });
    b.close();
  });
});
