/** What the engine tells a UI about where runs can compute: the queue as displayed, never its password. */
import { Engine, workersFromEnv } from '../../../../src/engine/engine';
import { registry } from '../fixtures/test-registry';
import { REGISTRY_MODULE, tempHome } from '../helpers';

const engine = (workers?: { queue: string; store: string }) => new Engine({ home: tempHome(), registry, registryModule: REGISTRY_MODULE, ...(workers ? { workers } : {}) });

describe('run targets', () => {
  test('with a queue: its URL with the password as ***; without: none', async () => {
    const saved = process.env.LORAM_QUEUE;
    delete process.env.LORAM_QUEUE; // a queue in the environment would be the engine's own
    const engines = [engine({ queue: 'redis://lab:s3cret@10.0.0.5:6380/2', store: 's3://bucket/prefix' }), engine({ queue: 'rediss://:pw@q.lab:6379', store: '/shared' }), engine()];
    try {
      const [a, b, none] = await Promise.all(engines.map((e) => e.runTargets()));
      expect(a).toEqual({ workers: 'redis://lab:***@10.0.0.5:6380/2' });
      expect(JSON.stringify(a)).not.toContain('s3cret');
      expect(b).toEqual({ workers: 'rediss://:***@q.lab:6379' });
      expect(none).toEqual({ workers: null });
    } finally {
      if (saved !== undefined) process.env.LORAM_QUEUE = saved;
      await Promise.all(engines.map((e) => e.close()));
    }
  });

  test('the shells offer workers when LORAM_QUEUE and LORAM_STORE are both set', () => {
    expect(workersFromEnv({ LORAM_QUEUE: 'redis://q:6379', LORAM_STORE: '/shared' })).toEqual({ queue: 'redis://q:6379', store: '/shared' });
    expect(workersFromEnv({ LORAM_QUEUE: 'redis://q:6379' })).toBeUndefined();
  });
});
