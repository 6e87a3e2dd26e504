/**
 * The remote artifact store (issue 14) against a real shared folder and a real S3 server (s3rver in process):
 * publish and download byte for byte, publish only whole and verified, refuse corrupted objects, and a worker
 * killed mid-upload leaves nothing visible, only staging that sweepStaging removes.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fsp, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MANIFEST_FILE, parseManifest } from '../../src/engine/manifest';
import { openRemoteStore, RemoteIntegrityError, type RemoteStore } from '../../src/engine/remote/remote-store';
import { ArtifactStore } from '../../src/engine/store';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/publish-then-hang.ts', import.meta.url));
const META = { type: 'T', version: 1, params: {}, node: 'n', runId: 'r', createdAt: 0, durationMs: 1 };
const WEIGHTS = 'model/weights.bin';

const tmpDir = (tag: string) => mkdtempSync(path.join(os.tmpdir(), `loram-remote-${tag}-`));
const newSig = () => randomBytes(32).toString('hex');

async function localStore(): Promise<ArtifactStore> {
  const s = new ArtifactStore(tmpDir('home'));
  await s.open();
  return s;
}

/** An artifact made by the local store: nested folders, an empty file, 3 MB of weights, and symbolic links to a
 *  file inside it and to one outside it (their targets' bytes are what gets published). */
async function makeArtifact(sig = newSig()): Promise<{ store: ArtifactStore; sig: string; dir: string }> {
  const store = await localStore();
  const outside = path.join(tmpDir('outside'), 'tokenizer.json');
  await fsp.writeFile(outside, '{"vocab": {}}');
  await store.produce(sig, async (tmp) => {
    await fsp.mkdir(path.join(tmp, 'model'));
    await fsp.mkdir(path.join(tmp, 'nested', 'deep'), { recursive: true });
    await fsp.writeFile(path.join(tmp, WEIGHTS), randomBytes(3 * 1024 * 1024));
    await fsp.writeFile(path.join(tmp, 'nested', 'deep', 'a.json'), '{"a": 1}');
    await fsp.writeFile(path.join(tmp, 'empty.txt'), '');
    await fsp.writeFile(path.join(tmp, 'notes.txt'), 'hello');
    await fsp.symlink('notes.txt', path.join(tmp, 'link-inside'));
    await fsp.symlink(outside, path.join(tmp, 'link-outside'));
    return { outputs: {}, metrics: { loss: 0.5 }, meta: META };
  });
  return { store, sig, dir: store.pathOf(sig) };
}

/** One kind of remote store, seen from outside the code under test. */
interface Remote {
  url: string;
  env: NodeJS.ProcessEnv;
  /** Everything stored, as paths relative to the store's root. */
  list(): Promise<string[]>;
  /** Overwrite one published file's bytes behind the store's back. */
  corrupt(sig: string, rel: string, bytes: Buffer): Promise<void>;
  /** Overwrite a published manifest behind the store's back. */
  damageManifest(sig: string): Promise<void>;
}

async function walk(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(root, p)));
    else out.push(path.relative(root, p).split(path.sep).join('/'));
  }
  return out.sort();
}

function folderRemote(): Remote {
  const root = tmpDir('share');
  return {
    url: root,
    env: {},
    list: () => walk(root),
    corrupt: (sig, rel, bytes) => fsp.writeFile(path.join(root, sig, ...rel.split('/')), bytes),
    damageManifest: (sig) => fsp.writeFile(path.join(root, sig, MANIFEST_FILE), '{"format": "something else"}'),
  };
}

let server: S3TestServer;
let raw: S3Client;
let prefixes = 0;

function s3Remote(): Remote {
  const prefix = `run${++prefixes}/artifacts`;
  const Bucket = server.bucket;
  const tokenOf = async (sig: string) => (await raw.send(new HeadObjectCommand({ Bucket, Key: `${prefix}/${sig}/${MANIFEST_FILE}` }))).Metadata!['loram-upload'];
  return {
    url: server.storeUrl(prefix),
    env: server.env,
    async list() {
      const page = await raw.send(new ListObjectsV2Command({ Bucket, Prefix: `${prefix}/` }));
      return (page.Contents ?? []).map((o) => o.Key!.slice(prefix.length + 1)).sort();
    },
    async corrupt(sig, rel, bytes) {
      await raw.send(new PutObjectCommand({ Bucket, Key: `${prefix}/${sig}/files-${await tokenOf(sig)}/${rel}`, Body: bytes }));
    },
    async damageManifest(sig) {
      await raw.send(new PutObjectCommand({ Bucket, Key: `${prefix}/${sig}/${MANIFEST_FILE}`, Body: '{"format": "something else"}' }));
    },
  };
}

beforeAll(async () => {
  server = await startS3Server();
  raw = new S3Client({
    endpoint: server.url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: server.env.AWS_ACCESS_KEY_ID, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  raw?.destroy();
  await server?.stop();
});

const open: RemoteStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function connect(remote: Remote): Promise<RemoteStore> {
  const s = await openRemoteStore(remote.url, remote.env);
  open.push(s);
  return s;
}

/** Every file of a manifest, read (through links) from `dir`, base64 (jest compares Buffers byte by byte, slowly). */
async function contents(dir: string): Promise<Record<string, string>> {
  const m = parseManifest(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8'), path.basename(dir));
  const out: Record<string, string> = {};
  for (const rel of Object.keys(m.files)) out[rel] = (await fsp.readFile(path.join(dir, ...rel.split('/')))).toString('base64');
  return out;
}

describe.each([
  ['a shared folder', folderRemote],
  ['S3 (s3rver)', s3Remote],
])('remote store in %s', (_kind, makeRemote) => {
  test('publish, then fetchInto another machine: the same manifest and the same bytes, links as regular files', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir, store: a } = await makeArtifact();
    expect(await store.has(sig)).toBe(false);
    expect(await store.readRecord(sig)).toBeNull();
    const uploaded: string[] = [];
    expect(await store.publish(sig, dir, { onFile: (rel) => void uploaded.push(rel) })).toBe('published');
    expect(uploaded).toEqual(Object.keys((await a.manifest(sig))!.files));
    expect(await store.has(sig)).toBe(true);
    expect(await store.readRecord(sig)).toEqual(await a.read(sig));

    const b = await localStore();
    expect(await store.fetchInto(sig, b)).toBe(true);
    expect(await fsp.readFile(path.join(b.pathOf(sig), MANIFEST_FILE), 'utf8')).toBe(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8'));
    expect(await contents(b.pathOf(sig))).toEqual(await contents(dir));
    expect((await fsp.lstat(path.join(b.pathOf(sig), 'link-outside'))).isFile()).toBe(true);
    expect(await fsp.readFile(path.join(b.pathOf(sig), 'link-inside'), 'utf8')).toBe('hello');
    expect((await b.check(sig, 'full')).state).toBe('ok');
    expect(readdirSync(b.dir)).toEqual([sig]);
  });

  test('idempotent: publishing again uploads nothing; a local store that has it intact downloads nothing', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir, store: a } = await makeArtifact();
    await store.publish(sig, dir);
    const before = await remote.list();
    const calls: string[] = [];
    expect(await store.publish(sig, dir, { onFile: (rel) => void calls.push(rel) })).toBe('existed');
    expect(await remote.list()).toEqual(before);
    expect(await store.fetchInto(sig, a, { onFile: (rel) => void calls.push(rel) })).toBe(true);
    expect(calls).toEqual([]);
  });

  test('a publish that dies after its first file: never visible, its staging removed, nothing to fetch', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir } = await makeArtifact();
    const ac = new AbortController();
    const seenWhilePublishing: boolean[] = [];
    const publishing = store.publish(sig, dir, {
      signal: ac.signal,
      onFile: async () => {
        seenWhilePublishing.push(await store.has(sig));
        ac.abort();
      },
    });
    await expect(publishing).rejects.toMatchObject({ name: 'AbortError' });
    expect(seenWhilePublishing).toEqual([false]);
    expect(await store.has(sig)).toBe(false);
    expect(await store.readRecord(sig)).toBeNull();
    const b = await localStore();
    expect(await store.fetchInto(sig, b)).toBe(false);
    expect(readdirSync(b.dir)).toEqual([]);
    expect(await remote.list()).toEqual([]);
  });

  test('a download aborted after its first file leaves nothing in the local store', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir } = await makeArtifact();
    await store.publish(sig, dir);
    const b = await localStore();
    const ac = new AbortController();
    await expect(store.fetchInto(sig, b, { signal: ac.signal, onFile: () => ac.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(readdirSync(b.dir)).toEqual([]);
    expect(await store.fetchInto(sig, b)).toBe(true);
  });

  test('a damaged local copy is quarantined (never deleted silently) and replaced by a verified download', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir, store: a } = await makeArtifact();
    await store.publish(sig, dir);
    await fsp.truncate(path.join(dir, WEIGHTS), 10);
    expect(await store.fetchInto(sig, a)).toBe(true);
    expect((await a.check(sig, 'full')).state).toBe('ok');
    const [moved] = readdirSync(a.damagedDir);
    expect(moved.startsWith(sig)).toBe(true);
    expect(await fsp.readFile(path.join(a.damagedDir, moved, 'DAMAGE.txt'), 'utf8')).toContain(`${WEIGHTS} is 10 bytes`);
  });

  test('a worker SIGKILLed mid-upload: nothing visible; sweepStaging keeps fresh staging and removes old', async () => {
    const remote = makeRemote();
    const { sig, dir } = await makeArtifact();
    const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', CHILD, remote.url, sig, dir], {
      cwd: ROOT,
      env: { ...process.env, ...remote.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('uploaded ')) resolve();
      });
      child.on('exit', () => reject(new Error(`the publisher exited before uploading a file: ${out}${err}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await remote.list()).not.toEqual([]); // what the killed worker left

    const store = await connect(remote);
    expect(await store.has(sig)).toBe(false);
    expect(await store.fetchInto(sig, await localStore())).toBe(false);
    expect(await store.sweepStaging(3600_000)).toBe(0);
    expect(await remote.list()).not.toEqual([]);
    expect(await store.sweepStaging(0)).toBe(1);
    expect(await remote.list()).toEqual([]);

    // Another worker then publishes it; a sweep never touches a published artifact.
    expect(await store.publish(sig, dir)).toBe('published');
    expect(await store.sweepStaging(0)).toBe(0);
    expect(await store.fetchInto(sig, await localStore())).toBe(true);
  });

  test('two workers publishing one signature: the second to finish gets "existed", its files are removed', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const first = await makeArtifact();
    const second = await makeArtifact(first.sig); // the same signature, other bytes (a non-deterministic GPU run)
    let raced = false;
    const slow = store.publish(first.sig, first.dir, {
      onFile: async () => {
        if (raced) return;
        raced = true;
        expect(await store.publish(second.sig, second.dir)).toBe('published');
      },
    });
    expect(await slow).toBe('existed');
    const listed = await remote.list();
    const b = await localStore();
    expect(await store.fetchInto(first.sig, b)).toBe(true);
    expect(await contents(b.pathOf(first.sig))).toEqual(await contents(second.dir));
    expect(await store.sweepStaging(0)).toBe(0);
    expect(await remote.list()).toEqual(listed);
  });

  test('a corrupted object: fetchInto names the file and both hashes, and the local store gets nothing', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir, store: a } = await makeArtifact();
    await store.publish(sig, dir);
    const original = await fsp.readFile(path.join(dir, WEIGHTS));
    const flipped = Buffer.from(original);
    flipped[12345] ^= 1;
    await remote.corrupt(sig, WEIGHTS, flipped);
    const want = (await a.manifest(sig))!.files[WEIGHTS].sha256;
    const got = (await import('node:crypto')).createHash('sha256').update(flipped).digest('hex');

    const b = await localStore();
    const fetching = store.fetchInto(sig, b);
    await expect(fetching).rejects.toThrow(RemoteIntegrityError);
    await expect(fetching).rejects.toThrow(`${WEIGHTS} of artifact ${sig} is not what its manifest says: got SHA-256 ${got} (${original.length} bytes), the manifest says SHA-256 ${want} (${original.length} bytes)`);
    expect(readdirSync(b.dir)).toEqual([]);
    expect(await b.has(sig)).toBe(false);

    await remote.corrupt(sig, WEIGHTS, original.subarray(0, 100)); // truncated
    await expect(store.fetchInto(sig, b)).rejects.toThrow(`(100 bytes), the manifest says SHA-256 ${want} (${original.length} bytes)`);
    await remote.corrupt(sig, 'outputs.json', Buffer.from('{"signature": "forged"}'));
    await expect(store.readRecord(sig)).rejects.toThrow(/outputs.json of artifact .* is not what its manifest says/);
    expect(readdirSync(b.dir)).toEqual([]);
  });

  test('a damaged manifest in the store is an error naming what to delete, not a silent "missing"', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir } = await makeArtifact();
    await store.publish(sig, dir);
    await remote.damageManifest(sig);
    await expect(store.has(sig)).rejects.toThrow(/delete it to let the artifact be recomputed/);
  });

  test('a file changed since its manifest was written is not published', async () => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir } = await makeArtifact();
    await fsp.writeFile(path.join(dir, 'nested', 'deep', 'a.json'), '{"a": 2}');
    await expect(store.publish(sig, dir)).rejects.toThrow(/nested\/deep\/a.json changed since its artifact's manifest was written: SHA-256 [0-9a-f]{64} \(8 bytes\), the manifest says SHA-256 [0-9a-f]{64} \(8 bytes\); not published/);
    expect(await store.has(sig)).toBe(false);
    expect(await remote.list()).toEqual([]);
  });

  test.each([
    ['a folder without a manifest', async (dir: string) => fsp.rm(path.join(dir, MANIFEST_FILE)), /has no manifest.json \(only a complete artifact/],
    ['a file the manifest does not list', async (dir: string) => fsp.writeFile(path.join(dir, 'stray.bin'), 'x'), /stray.bin is not in the manifest/],
    [
      'a link that now points to a folder',
      async (dir: string) => {
        await fsp.rm(path.join(dir, 'link-inside'));
        await fsp.symlink('nested', path.join(dir, 'link-inside'));
      },
      /link-inside \(a symbolic link to nested\) is not a regular file/,
    ],
    [
      'a link whose target is gone',
      async (dir: string) => {
        await fsp.rm(path.join(dir, 'link-inside'));
        await fsp.symlink('gone.txt', path.join(dir, 'link-inside'));
      },
      /link-inside \(a symbolic link to gone.txt\): the link's target is missing/,
    ],
  ])('%s is refused before anything is uploaded', async (_what, damage, message) => {
    const remote = makeRemote();
    const store = await connect(remote);
    const { sig, dir } = await makeArtifact();
    await damage(dir);
    await expect(store.publish(sig, dir)).rejects.toThrow(message);
    expect(await remote.list()).toEqual([]);
  });
});

describe('S3 specifics', () => {
  test('a file over 5 GiB is refused, saying the limit, before anything is uploaded', async () => {
    const remote = s3Remote();
    const store = await connect(remote);
    const { sig, dir } = await makeArtifact();
    const size = 5 * 1024 ** 3 + 1;
    const fh = await fsp.open(path.join(dir, 'huge.bin'), 'w');
    await fh.truncate(size); // sparse: no 5 GiB written
    await fh.close();
    const m = JSON.parse(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8'));
    m.files['huge.bin'] = { size, sha256: '0'.repeat(64) };
    await fsp.writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(m));
    await expect(store.publish(sig, dir)).rejects.toThrow(`huge.bin is ${size} bytes: the S3 store uploads files of up to 5 GiB`);
    expect(await remote.list()).toEqual([]);
  });

  test('an object stored with other bytes than uploaded is caught by reading it back', async () => {
    const { verifyStoredObject } = await import('../../src/engine/remote/s3-backend');
    const sdk = await import('@aws-sdk/client-s3');
    const t = { sdk, client: raw, bucket: server.bucket };
    const body = Buffer.from('the uploaded bytes');
    const { createHash } = await import('node:crypto');
    const expected = { size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
    await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'verify/ok', Body: body }));
    await expect(verifyStoredObject(t, 'verify/ok', expected, 'here')).resolves.toBeUndefined();
    const other = Buffer.from('the uploaded bytez');
    await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'verify/bad', Body: other }));
    await expect(verifyStoredObject(t, 'verify/bad', expected, 'here')).rejects.toThrow(
      `here: the stored object verify/bad is not what was uploaded: SHA-256 ${createHash('sha256').update(other).digest('hex')} (18 bytes), expected SHA-256 ${expected.sha256} (18 bytes)`,
    );
    const got = await raw.send(new GetObjectCommand({ Bucket: server.bucket, Key: 'verify/ok' }));
    expect(await got.Body!.transformToString()).toBe('the uploaded bytes');
  });

  test('wrong credentials and a missing bucket fail at open, naming the store and the endpoint', async () => {
    await expect(openRemoteStore(server.storeUrl('p'), { ...server.env, AWS_ACCESS_KEY_ID: 'WRONG' })).rejects.toThrow(`s3://${server.bucket}/p at ${server.url}: list: InvalidAccessKeyId`);
    await expect(openRemoteStore('s3://no-such-bucket/p', server.env)).rejects.toThrow(`s3://no-such-bucket/p at ${server.url}: list: NoSuchBucket`);
  });
});
