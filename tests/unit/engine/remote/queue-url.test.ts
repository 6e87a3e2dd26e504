import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseQueueUrl, redact } from '../../../../src/engine/remote/queue-url';
import { jobIdOf } from '../../../../src/engine/remote/protocol';
import { parseWorkerArgs } from '../../../../src/cli/worker';

describe('queue URLs', () => {
  it('reads host, port, database, user and password', () => {
    const q = parseQueueUrl('redis://alice:s%40cret@gpu-box.lan:6380/3', {});
    expect(q.connection).toMatchObject({ host: 'gpu-box.lan', port: 6380, db: 3, username: 'alice', password: 's@cret', maxRetriesPerRequest: null });
    expect(q.connection.tls).toBeUndefined();
    expect(q.display).toBe('redis://alice:***@gpu-box.lan:6380/3');
  });

  it('defaults to port 6379, database 0, no credentials; takes the password from LORAM_REDIS_PASSWORD', () => {
    expect(parseQueueUrl('redis://localhost', {}).connection).toEqual({ host: 'localhost', port: 6379, db: 0, maxRetriesPerRequest: null });
    expect(parseQueueUrl('redis://localhost', { LORAM_REDIS_PASSWORD: 'pw', LORAM_REDIS_USERNAME: 'u' }).connection).toMatchObject({ password: 'pw', username: 'u' });
  });

  it('rediss:// turns TLS on, with the CA, certificate and server name from the environment', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'loram-tls-'));
    await fsp.writeFile(path.join(dir, 'ca.pem'), 'CA');
    const q = parseQueueUrl('rediss://h:6390', { LORAM_REDIS_TLS_CA: path.join(dir, 'ca.pem'), LORAM_REDIS_TLS_SERVERNAME: 'redis.internal' });
    expect(q.connection.tls?.ca?.toString()).toBe('CA');
    expect(q.connection.tls?.servername).toBe('redis.internal');
    expect(() => parseQueueUrl('rediss://h', { LORAM_REDIS_TLS_CA: path.join(dir, 'missing.pem') })).toThrow(/LORAM_REDIS_TLS_CA=.*missing\.pem: cannot read it/);
    expect(() => parseQueueUrl('redis://h', { LORAM_REDIS_TLS_CA: path.join(dir, 'ca.pem') })).toThrow(/use rediss:\/\/ for TLS/);
  });

  it('says what was expected for a bad URL, without printing the password', () => {
    expect(() => parseQueueUrl('http://h:1', {})).toThrow(/scheme is "http".*Expected redis:\/\//);
    expect(() => parseQueueUrl('not a url', {})).toThrow(/not a URL/);
    expect(() => parseQueueUrl('redis://u:topsecret@h/99', {})).toThrow(/database "99"/);
    expect(() => parseQueueUrl('redis://u:topsecret@h/99', {})).not.toThrow(/topsecret/);
    expect(redact('redis://:pw@h:1')).toBe('redis://:***@h:1');
    expect(redact('redis://:pw@h:1/2?password=pw2')).toBe('redis://:***@h:1/2');
  });
});

describe('job ids', () => {
  it('are one per run, node and repair, and never contain the key separator', () => {
    expect(jobIdOf('20261201-1', 'train', 0)).toBe('20261201-1.train');
    expect(jobIdOf('20261201-1', 'train', 1)).toBe('20261201-1.train.repair1');
    const odd = jobIdOf('r', 'a:b c', 0);
    expect(odd).not.toMatch(/[: ]/);
    expect(odd).not.toBe(jobIdOf('r', 'a:b d', 0));
  });
});

describe('loram worker arguments', () => {
  it('needs a queue and a store, from flags or the environment', () => {
    expect(parseWorkerArgs([], {})).toMatch(/--queue is required/);
    expect(parseWorkerArgs(['--queue', 'redis://h'], {})).toMatch(/--store is required/);
    expect(parseWorkerArgs([], { LORAM_QUEUE: 'redis://h', LORAM_STORE: '/shared' })).toEqual({ queue: 'redis://h', store: '/shared', concurrency: 1 });
    expect(parseWorkerArgs(['--queue', 'redis://h', '--store', '/s', '--concurrency', '4', '--name', 'gpu-1'], {})).toEqual({ queue: 'redis://h', store: '/s', concurrency: 4, name: 'gpu-1' });
  });

  it('rejects a bad concurrency, name or flag with a message naming it', () => {
    expect(parseWorkerArgs(['--queue', 'redis://h', '--store', '/s', '--concurrency', '0'], {})).toMatch(/--concurrency must be a whole number from 1 to 64, got "0"/);
    expect(parseWorkerArgs(['--queue', 'redis://h', '--store', '/s', '--name', 'a b'], {})).toMatch(/--name may hold/);
    expect(parseWorkerArgs(['--bogus'], {})).toMatch(/bogus/);
  });
});
