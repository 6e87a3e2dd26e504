/** The preload bridge with a mocked `electron`: one function per operation, no ipcRenderer leak. */
import { jest } from '@jest/globals';
import { CHANNELS, ENGINE_OPS, HOST_OPS } from '../../../src/shared/shell-contract';

const exposed: Record<string, any> = {};
const on = new Map<string, ((...a: unknown[]) => void)[]>();
const invoked: [string, unknown[]][] = [];
let answer: unknown = { ok: true, value: 'v' };

jest.unstable_mockModule('electron', () => ({
  contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (exposed[k] = v) },
  ipcRenderer: {
    invoke: async (ch: string, ...args: unknown[]) => {
      invoked.push([ch, args]);
      return answer;
    },
    on: (ch: string, fn: (...a: unknown[]) => void) => on.set(ch, [...(on.get(ch) ?? []), fn]),
    removeListener: (ch: string, fn: (...a: unknown[]) => void) => on.set(ch, (on.get(ch) ?? []).filter((f) => f !== fn)),
  },
}));

await import('../../../src/preload/index');

describe('preload bridge', () => {
  test('exposes window.loram with exactly one function per operation', () => {
    const { engine, host } = exposed.loram;
    expect(Object.keys(engine).sort()).toEqual([...ENGINE_OPS, 'subscribe'].sort());
    expect(Object.keys(host).sort()).toEqual([...HOST_OPS, 'onCommand'].sort());
    expect(Object.isFrozen(engine)).toBe(true);
    for (const v of [...Object.values(engine), ...Object.values(host)]) expect(typeof v).toBe('function');
    expect(JSON.stringify(Object.keys(exposed.loram))).toBe('["engine","host"]');
  });

  test('each function invokes its own channel; errors come back as exceptions with their code', async () => {
    answer = { ok: true, value: { ok: true, runId: 'r' } };
    await expect(exposed.loram.engine.run({ a: 1 }, { to: 'x' })).resolves.toEqual({ ok: true, runId: 'r' });
    expect(invoked.at(-1)).toEqual([CHANNELS.engine('run'), [{ a: 1 }, { to: 'x' }]]);
    answer = { ok: false, error: { code: 'invalid-payload', message: 'bad' } };
    await expect(exposed.loram.engine.cancel(1)).rejects.toMatchObject({ message: 'bad', code: 'invalid-payload' });
  });

  test('subscriptions wrap the listener (no IPC event object) and unsubscribe cleanly', () => {
    const got: unknown[][] = [];
    const un = exposed.loram.engine.subscribe((...a: unknown[]) => got.push(a));
    const fns = on.get(CHANNELS.event)!;
    expect(fns).toHaveLength(1);
    fns[0]!({ sender: 'IPC-EVENT' }, { type: 'node-log' });
    expect(got).toEqual([[{ type: 'node-log' }]]);
    un();
    expect(on.get(CHANNELS.event)).toHaveLength(0);
    expect(() => exposed.loram.engine.subscribe('nope')).toThrow(TypeError);
  });
});
