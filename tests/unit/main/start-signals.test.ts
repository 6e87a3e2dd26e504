/**
 * `npm start` stops as a whole (issue 11): a stop signal to bin/start.mjs (forced onto the web shell, with an empty
 * LORAM_HOME and a free port), or the death of the `sh -c` that npm runs it in, leaves no server listening and no
 * process of its tree behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const START = path.resolve('bin/start.mjs');
const d = process.platform === 'win32' ? describe.skip : describe;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Every process below `root`, from one `ps` snapshot. */
function descendants(root: number): number[] {
  const rows = spawnSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout.trim().split('\n');
  const children = new Map<number, number[]>();
  for (const row of rows) {
    const [pid, ppid] = row.trim().split(/\s+/).map(Number) as [number, number];
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  for (let todo = [root]; todo.length; ) {
    const next = children.get(todo.pop()!) ?? [];
    out.push(...next);
    todo.push(...next);
  }
  return out;
}

/** Still running: present and not a zombie waiting for a reaper. */
function running(pid: number): boolean {
  const stat = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
}

function healthStatus(port: number, token: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/health', headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('error', () => resolve(null));
  });
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Launch {
  /** The process the signal goes to: bin/start.mjs itself, or the shell around it. */
  target: ChildProcess;
  output: () => string;
  port: number;
  /** The processes below `target` once the server answers. */
  tree: number[];
}

async function launch(home: string, viaShell: boolean): Promise<Launch> {
  const port = await freePort();
  const args = [START, '--web', '--no-browser', '--port', String(port)];
  const env = { ...process.env, LORAM_HOME: home };
  // Like npm: `sh -c "node bin/start.mjs …"`, with the node command not the shell's last word so sh cannot exec it.
  const target = viaShell
    ? spawn('sh', ['-c', `"${process.execPath}" ${args.map((a) => `'${a}'`).join(' ')}; exit $?`], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  target.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  target.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { target, output: () => out, port, tree: [] };
}

d('npm start: a stop signal stops the whole process tree', () => {
  let home: string;
  let started: Launch | null = null;
  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'loram-start-home-'));
  });
  afterEach(() => {
    // A failed test must not leave a server behind either (nor its pipes open, which would keep jest waiting).
    if (started) {
      const pids = [...started.tree, ...(started.target.pid ? descendants(started.target.pid) : [])];
      for (const pid of pids) if (running(pid)) process.kill(pid, 'SIGKILL');
      started.target.stdout!.destroy();
      started.target.stderr!.destroy();
    }
    started = null;
    rmSync(home, { recursive: true, force: true });
  });

  test.each([
    ['SIGTERM to bin/start.mjs', 'SIGTERM', false],
    ['SIGINT to bin/start.mjs', 'SIGINT', false],
    ['SIGHUP to bin/start.mjs', 'SIGHUP', false],
    ['SIGTERM to the shell npm runs it in', 'SIGTERM', true],
  ] as const)('%s', async (_name, signal, viaShell) => {
    started = await launch(home, viaShell);
    const { target, port } = started;
    const exited = new Promise<void>((resolve) => target.once('exit', () => resolve()));
    const token = await until('the server URL', () => /token=([0-9a-f]+)/.exec(started!.output())?.[1], 110_000);
    await until('the server to answer', async () => (await healthStatus(port, token)) === 200, 10_000);
    const tree = (started.tree = descendants(target.pid!));
    expect(tree.length).toBeGreaterThanOrEqual(viaShell ? 2 : 1); // (sh →) start.mjs → the server
    target.kill(signal);
    await exited;
    await until('every process of the tree to end', () => tree.every((pid) => !running(pid)), 10_000).catch(() => undefined);
    expect(tree.filter(running)).toEqual([]);
    expect(await portRefuses(port)).toBe(true);
  });
});
