/** The zod schemas of the engine operations that carry a run target. */
import { parseEngineArgs, PayloadError } from '../../../src/server/engine-ops';

const recipe = { format: 'loram-recipe', version: 2, name: 'r', nodes: [], edges: [] };

describe('engine op payloads: run targets', () => {
  test('run takes target "local" or "workers", and nothing else', () => {
    expect(parseEngineArgs('run', [recipe, { target: 'workers', to: 'a' }])).toEqual([recipe, { target: 'workers', to: 'a' }]);
    expect(parseEngineArgs('run', [recipe, { target: 'local' }])).toEqual([recipe, { target: 'local' }]);
    expect(() => parseEngineArgs('run', [recipe, { target: 'redis://evil:6379' }])).toThrow(PayloadError);
    expect(() => parseEngineArgs('run', [recipe, { target: 'workers', queue: 'redis://x' }])).toThrow(/run: argument 1: Unrecognized key/i);
  });

  test('runTargets takes no arguments', () => {
    expect(parseEngineArgs('runTargets', [])).toEqual([]);
    expect(() => parseEngineArgs('runTargets', [{ queue: 'redis://x' }])).toThrow(PayloadError);
  });
});
