/**
 * Entry of the engine's utility process. The engine is TypeScript run from source (like the CLI), so tsx is
 * registered first; then every message from the main process is one EngineClient call, validated and answered
 * as data, and every engine event is posted back.
 */
import { register } from 'tsx/esm/api';
import type { EngineClient } from '../shared/index';
import { dispatchEngineOp } from '../server/engine-ops';
import type { FromEngineProcess, ToEngineProcess } from './engine-host';

interface ParentPort {
  on(event: 'message', listener: (e: { data: ToEngineProcess }) => void): void;
  postMessage(message: FromEngineProcess): void;
}

const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!port) throw new Error('engine-process must run in an Electron utility process');

const entry = process.env.LORAM_ENGINE_ENTRY;
if (!entry) throw new Error('LORAM_ENGINE_ENTRY is not set');
register();
const { Engine } = (await import(entry)) as { Engine: new () => EngineClient & { close(): Promise<void> } };
const engine = new Engine();
engine.subscribe((event) => port.postMessage({ kind: 'event', event }));
port.on('message', ({ data }) => {
  if (!data || data.kind !== 'call') return;
  void dispatchEngineOp(engine, data.op, data.args).then((result) => port.postMessage({ kind: 'result', id: data.id, result }));
});
process.on('SIGTERM', () => void engine.close().finally(() => process.exit(0)));
port.postMessage({ kind: 'ready' });
