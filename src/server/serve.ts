/**
 * `loram serve`: the web shell. Builds the editor if needed, starts the engine and the server on 127.0.0.1, and
 * prints the URL (with its per-start token). Used by the CLI, by `npm start` when Electron's binary is missing,
 * and by the e2e tests.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { EngineClient } from '../shared/index';
import { ensureRendererBuilt, REPO_ROOT } from './build-renderer';
import { FileHost } from './host';
import { startServer, type RunningServer } from './server';

export interface ServeOptions {
  port?: number;
  /** A recipe to open in the editor at start (e.g. graphs/quickstart.json). */
  open?: string | null;
  /** LORAM_HOME (store, runs, editor state); default: the engine's default. */
  home?: string;
  /** Folder the file dialog starts in and new recipes go to (default: ./graphs if it exists, else the cwd). */
  defaultDir?: string;
  /** Skip building the editor (serve the API only when it is not built). */
  noBuild?: boolean;
  log?: (line: string) => void;
}

export interface Serving extends RunningServer {
  engine: EngineClient & { close?(): Promise<void> };
  stop(): Promise<void>;
}

async function appVersion(): Promise<string> {
  try {
    return (JSON.parse(await fsp.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function serve(opts: ServeOptions = {}): Promise<Serving> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const staticDir = opts.noBuild ? path.join(REPO_ROOT, 'out/renderer') : await ensureRendererBuilt({ log });
  const { Engine, loramHome } = await import('../engine/index');
  const home = opts.home ? path.resolve(opts.home) : loramHome();
  const engine = new Engine({ home });
  const cwdGraphs = path.resolve('graphs');
  const defaultDir = opts.defaultDir ? path.resolve(opts.defaultDir) : await fsp.stat(cwdGraphs).then((s) => (s.isDirectory() ? cwdGraphs : process.cwd()), () => process.cwd());
  const host = new FileHost({
    stateDir: path.join(home, 'editor'),
    defaultDir,
    initialFile: opts.open ? path.resolve(opts.open) : null,
    shell: 'web',
    appVersion: await appVersion(),
  });
  const server = await startServer({ engine, host, staticDir, ...(opts.port !== undefined ? { port: opts.port } : {}), log });
  let stopped = false;
  return {
    ...server,
    engine,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await engine.close();
    },
  };
}

/** Parse `[--port N] [--open FILE] [--home DIR] [--no-build]`. */
export function parseServeArgs(argv: readonly string[]): ServeOptions & { help?: boolean } {
  const out: ServeOptions & { help?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--port' || a === '-p') {
      const n = Number(val());
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a port number (0-65535), got ${argv[i]}`);
      out.port = n;
    } else if (a.startsWith('--port=')) {
      const n = Number(a.slice(7));
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a port number (0-65535), got ${a.slice(7)}`);
      out.port = n;
    } else if (a === '--open') out.open = val();
    else if (a === '--home') out.home = val();
    else if (a === '--no-build') out.noBuild = true;
    else if (a === '--help' || a === '-h') out.help = true;
    else if (!a.startsWith('-') && out.open === undefined) out.open = a;
    else throw new Error(`unknown option ${a}`);
  }
  return out;
}

export const SERVE_USAGE = `loram serve [--port N] [--open RECIPE] [--home DIR] [--no-build]

Start the web editor on 127.0.0.1 (never another interface) and print its URL. The URL carries a random token
made at each start: requests without it are refused. Ctrl+C stops the server.

  --port N       listen on port N (default: a free port)
  --open RECIPE  open this recipe in the editor
  --home DIR     LORAM_HOME: artifact store, run history and editor state
  --no-build     do not (re)build the editor bundle first`;

/** Run the server until SIGINT/SIGTERM; prints the URL. Returns the process exit code. */
export async function runServeCommand(argv: readonly string[], log: (l: string) => void = (l) => console.log(l), err: (l: string) => void = (l) => console.error(l)): Promise<number> {
  let opts;
  try {
    opts = parseServeArgs(argv);
  } catch (e) {
    err(`loram serve: ${(e as Error).message}\n\n${SERVE_USAGE}`);
    return 2;
  }
  if (opts.help) {
    log(SERVE_USAGE);
    return 0;
  }
  // Listen for Ctrl+C before printing the URL: whoever reads it may stop us right away.
  let stopRequested!: () => void;
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  process.once('SIGINT', stopRequested);
  process.once('SIGTERM', stopRequested);
  const s = await serve({ ...opts, log });
  log(`\nLoRAM Studio (web editor) is running. Open:\n\n  ${s.url}\n\nListening on ${s.origin} only; the token in the URL is needed. Ctrl+C stops it.`);
  await stopped;
  log('Stopping…');
  await s.stop();
  return 0;
}
