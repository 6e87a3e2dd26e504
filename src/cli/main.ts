/**
 * `loram` — the command line: everything the editor can do, headless (the commands: USAGE below).
 *
 * Start-up matters (`loram --help` and a fully cached run should feel instant): this module imports only node:*
 * and formatting at load; the engine (and with it zod and the node registry) and the ML library are imported by
 * the commands that use them.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Engine } from '../engine/engine';
import type { WorkersTarget } from '../engine/remote/submitter';
import type { EngineEvent } from '../shared';
import { isRunEnd } from '../shared/events';
import { PRUNE_STRATEGY_NAMES } from '../loram/prune/strategy-rules';
import { fmtDuration, fmtError, fmtMetrics, fmtNumber, productLines } from './format';
import { PlainProgress, TtyProgress, type Out } from './progress';

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

export interface Io {
  out: Out;
  err: Out;
  isTTY: boolean;
}

const defaultIo = (): Io => ({
  out: { write: (s) => void process.stdout.write(s) },
  err: { write: (s) => void process.stderr.write(s) },
  isTTY: !!process.stdout.isTTY,
});

const USAGE = `loram — LoRAM Studio on the command line

usage:
  loram nodes [--json]                      the node catalogue
  loram validate <recipe.json> [--json]     check a recipe (exit 0 valid, 2 invalid)
  loram run <recipe.json> [--to NODE] [--no-cache] [--json] [--queue redis://… --store s3://…|DIR]
                                            run a recipe (exit 0 ok, 1 a node failed, 2 invalid, 130 cancelled);
                                            with --queue, its nodes compute on \`loram worker\`s (docs/remote.md)
  loram worker --queue redis://… --store s3://…|DIR [--concurrency N] [--name NAME]
                                            take node jobs from a queue and run them on this machine
  loram plan --model <preset|config.json> --strategy <none|${PRUNE_STRATEGY_NAMES.join('|')}> --ratio <p>
             [--quant nf4] [--batch N] [--seq N] [--rank N] [--targets all|q_proj,…] [--checkpointing]
             [--runtime ort|pytorch-gpu|paper] [--gpu-gib N] [--json]
                                            training memory; runtime ort = LoRAM Studio's trainer,
                                            pytorch-gpu = estimate, paper = Tables 4-6
  loram serve [options]                     the web shell (loram serve --help lists its options)
  loram report <runId|runDir|latest> [--out DIR] [--json]
                                            Markdown + self-contained HTML report of a run
  loram cache ls | verify [--repair] | gc [--max-gib N] [--keep-runs K]
                                            the artifact store: list, verify, trim (loram cache help)

LORAM_HOME sets where the artifact store and run history live (default ~/.cache/loram).
`;

/** The usage lines of one command (its line and the indented lines that continue it), or null. */
function commandUsage(cmd: string): string | null {
  const out: string[] = [];
  for (const l of USAGE.split('\n')) {
    if (l.startsWith(`  loram ${cmd} `) || l === `  loram ${cmd}`) out.push(l);
    else if (out.length && /^ {5,}\S/.test(l)) out.push(l);
    else if (out.length) break;
  }
  return out.length ? `usage:\n${out.join('\n')}\n` : null;
}

class UsageError extends Error {}

async function newEngine(workers?: WorkersTarget): Promise<Engine> {
  const { Engine } = await import('../engine/engine');
  return new Engine(workers ? { workers } : {});
}

/** `run --queue URL --store URL`: both, or neither (LORAM_STORE may stand in for --store). */
function workersOf(values: Values): WorkersTarget | undefined {
  if (values.queue === undefined && values.store === undefined) return undefined;
  const store = values.store ?? process.env.LORAM_STORE;
  if (values.queue === undefined) throw new UsageError('--store needs --queue redis://host:port (the queue the workers take jobs from)');
  if (store === undefined) throw new UsageError('--queue needs --store s3://bucket/prefix or a shared folder (where workers publish results)');
  return { queue: values.queue, store };
}

type Values = { [k: string]: string | undefined } & { json?: boolean; 'no-cache'?: boolean };

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as unknown as Values, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd && (rest.includes('--help') || rest.includes('-h'))) {
    io.out.write(commandUsage(cmd) ?? USAGE);
    return EXIT.ok;
  }
  try {
    switch (cmd) {
      case 'nodes':
        return await cmdNodes(rest, io);
      case 'validate':
        return await cmdValidate(rest, io);
      case 'run':
        return await cmdRun(rest, io);
      case 'worker':
        return await (await import('./worker')).cmdWorker(rest, io);
      case 'plan':
        return await (await import('./plan')).cmdPlan(rest, io);
      case 'serve':
        return await cmdServe(rest, io);
      case 'report':
        return await (await import('./report')).cmdReport(rest, io);
      case 'cache':
        return await (await import('./cache')).cmdCache(rest, io);
      case 'bench':
        return await (await import('./bench')).cmdBench(rest, io);
      case 'help':
      case '--help':
      case '-h':
        io.out.write(USAGE);
        return EXIT.ok;
      default:
        io.err.write(cmd ? `loram: unknown command "${cmd}"\n\n${USAGE}` : USAGE);
        return EXIT.usage;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err.write(`loram ${cmd}: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

async function cmdNodes(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const engine = await newEngine();
  const specs = await engine.listNodes();
  if (values.json) {
    io.out.write(JSON.stringify(specs, null, 2) + '\n');
    return EXIT.ok;
  }
  for (const s of specs) {
    io.out.write(`${s.type} (${s.category}, v${s.version}) — ${s.doc}\n`);
    const ports = (ps: typeof s.inputs) => ps.map((p) => `${p.name}: ${p.type}${p.optional ? '?' : ''}${p.multiple ? '[]' : ''}`).join(', ') || '—';
    io.out.write(`  in:  ${ports(s.inputs)}\n  out: ${ports(s.outputs)}\n`);
    const props = (s.params.properties ?? {}) as Record<string, { default?: unknown }>;
    const params = Object.entries(props).map(([k, v]) => (v.default !== undefined ? `${k}=${JSON.stringify(v.default)}` : k));
    if (params.length) io.out.write(`  params: ${params.join(' ')}\n`);
  }
  return EXIT.ok;
}

async function readRecipeFile(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

async function cmdValidate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('expects exactly one recipe file');
  const file = path.resolve(positionals[0]!);
  const text = await readRecipeFile(file);
  const engine = await newEngine();
  const r = await engine.validate(text, { baseDir: path.dirname(file) });
  const branches = r.branches ?? 1;
  if (values.json) io.out.write(JSON.stringify({ ok: r.ok, branches, errors: r.errors.map(({ code, node, field, message, ...extra }) => ({ code, node, field, message, ...extra })) }) + '\n');
  else if (r.ok) io.out.write(`${positionals[0]}: valid${branches > 1 ? ` (${branches} branches)` : ''}\n`);
  else io.out.write(`${positionals[0]}: ${r.errors.length} error(s)\n${r.errors.map(fmtError).join('\n')}\n`);
  return r.ok ? EXIT.ok : EXIT.usage;
}

async function cmdRun(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, to: { type: 'string' }, 'no-cache': { type: 'boolean' }, queue: { type: 'string' }, store: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('expects exactly one recipe file');
  const workers = workersOf(values);
  const file = path.resolve(positionals[0]!);
  const text = await readRecipeFile(file);
  const engine = await newEngine(workers);
  const json = !!values.json;
  const display = json ? null : io.isTTY ? new TtyProgress(io.out) : new PlainProgress(io.out);
  let runId: string | null = null;
  const early: EngineEvent[] = [];
  let resolveEnd!: (e: EngineEvent) => void;
  const ended = new Promise<EngineEvent>((r) => (resolveEnd = r));
  const onEvent = (e: EngineEvent) => {
    if (json) io.out.write(JSON.stringify(e) + '\n');
    else display!.handle(e);
    if (isRunEnd(e)) resolveEnd(e);
  };
  const unsub = engine.subscribe((e) => {
    if (runId === null) early.push(e);
    else if (e.runId === runId) onEvent(e);
  });
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      io.err.write('\nloram: interrupted again, exiting without waiting\n');
      process.exit(EXIT.cancelled);
    }
    io.err.write('\nloram: cancelling (Ctrl-C again to exit at once)…\n');
    if (runId) void engine.cancel(runId);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const start = await engine.run(text, { baseDir: path.dirname(file), ...(values.to ? { to: values.to } : {}), noCache: !!values['no-cache'], ...(workers ? { target: 'workers' as const } : {}) });
    if (!start.ok) {
      if (json) io.out.write(JSON.stringify({ ok: false, errors: start.errors }) + '\n');
      else io.err.write(`${positionals[0]}: cannot run, ${start.errors.length} error(s)\n${start.errors.map(fmtError).join('\n')}\n`);
      return EXIT.usage;
    }
    runId = start.runId;
    for (const e of early) if (e.runId === runId) onEvent(e);
    if (interrupts > 0) void engine.cancel(runId);
    const end = await ended;
    if (!json) summary(end, engine, io);
    if (end.type === 'run-cancelled') return EXIT.cancelled;
    return end.type === 'run-finished' && end.ok ? EXIT.ok : EXIT.failed;
  } finally {
    unsub();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await engine.close();
  }
}

function summary(end: EngineEvent, engine: Engine, io: Io): void {
  if (end.type !== 'run-finished' && end.type !== 'run-cancelled') return;
  const counts: Record<string, number> = {};
  for (const n of Object.values(end.nodes)) counts[n.status] = (counts[n.status] ?? 0) + 1;
  const what = end.type === 'run-cancelled' ? 'cancelled' : end.ok ? 'finished' : 'failed';
  io.out.write(`\nrun ${end.runId} ${what} in ${fmtDuration(end.durationMs)}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}\n`);
  for (const [id, n] of Object.entries(end.nodes)) {
    if (n.status === 'failed') io.out.write(`  ${id}: ${n.error?.message.split('\n')[0]}\n`);
    else if ((n.type === 'Evaluate' || n.type === 'Compare') && n.metrics) io.out.write(`  ${id}: ${fmtMetrics(n.metrics)}\n`);
  }
  const byWorker: Record<string, number> = {};
  for (const n of Object.values(end.nodes)) if (n.worker) byWorker[n.worker] = (byWorker[n.worker] ?? 0) + 1;
  if (Object.keys(byWorker).length) io.out.write(`  computed on workers: ${Object.entries(byWorker).map(([w, k]) => `${w} (${k} node${k > 1 ? 's' : ''})`).join(', ')}\n`);
  for (const line of productLines(end.nodes, (loc) => engine.store.resolve(loc))) io.out.write(line + '\n');
  io.out.write(`history: ${path.join(engine.runs.dir, end.runId)}\n`);
}

async function cmdServe(argv: string[], io: Io): Promise<number> {
  const { runServeCommand } = await import('../server/serve');
  return runServeCommand(argv, (line) => io.out.write(`${line}\n`), (line) => io.err.write(`${line}\n`));
}
