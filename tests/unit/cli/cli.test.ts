import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinyModel } from '../../integration/tiny-model';

const BIN = fileURLToPath(new URL('../../../bin/loram.mjs', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'loram-cli-'));
const home = path.join(tmp, 'home');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function loram(args: string[], opts: { onLine?: (line: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...process.env, LORAM_HOME: home, LORAM_CANCEL_GRACE_MS: '5000' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) opts.onLine?.(l, child);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function write(name: string, value: unknown): string {
  const f = path.join(tmp, name);
  writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
  return f;
}

const datasetRecipe = {
  format: 'loram-recipe',
  version: 1,
  name: 'data only',
  nodes: [{ id: 'data', type: 'Dataset', version: 1, params: { source: 'moby-dick', maxDocuments: 12 } }],
  edges: [],
};

describe('loram CLI', () => {
  test('usage errors exit 2, help exits 0', async () => {
    expect((await loram([])).code).toBe(2);
    const bad = await loram(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
    expect((await loram(['help'])).code).toBe(0);
    expect((await loram(['validate'])).code).toBe(2);
    expect((await loram(['validate', 'no-such-file.json'])).code).toBe(2);
    expect((await loram(['run', 'x.json', '--bogus'])).code).toBe(2);
  });

  test('nodes lists the catalogue', async () => {
    const r = await loram(['nodes', '--json']);
    expect(r.code).toBe(0);
    const specs = JSON.parse(r.stdout) as { type: string; params: { type: string } }[];
    expect(specs.map((s) => s.type)).toEqual(['Load', 'Dataset', 'Prune', 'Align', 'Quantize', 'LoRA-Train', 'Recover', 'Evaluate', 'Compare', 'Export']);
    for (const s of specs) expect(s.params.type).toBe('object');
    const text = await loram(['nodes']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Prune \(loram, v1\)/);
  });

  test('validate: exit 0 when valid, 2 with every error when not', async () => {
    const ok = await loram(['validate', write('ok.json', datasetRecipe), '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ ok: true, branches: 1, errors: [] });
    const bad = {
      ...datasetRecipe,
      nodes: [...datasetRecipe.nodes, { id: 'p', type: 'Prune', version: 1, params: { ratio: 3 } }, { id: 'q', type: 'Nope', version: 1 }],
    };
    const r = await loram(['validate', write('bad.json', bad), '--json']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { ok: boolean; errors: { code: string; node: string; field: string; message: string }[] };
    expect(out.ok).toBe(false);
    expect(out.errors.map((e) => [e.code, e.node, e.field])).toEqual([
      ['invalid-param', 'p', 'params.ratio'],
      ['unknown-node-type', 'q', 'type'],
      ['missing-input', 'p', 'inputs.model'],
    ]);
    const text = await loram(['validate', write('bad.json', bad)]);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/3 error\(s\)/);
    const json = await loram(['validate', write('broken.json', '{"format": "loram-recipe",'), '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).errors[0].code).toBe('invalid-json');
  });

  test('run: exit 0, one JSON event per line, the last with every node\'s metrics; cached the second time', async () => {
    const file = write('data.json', datasetRecipe);
    const r = await loram(['run', file, '--json']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; nodes?: Record<string, { status: string; metrics: Record<string, number> }> });
    expect(events[0]!.type).toBe('run-started');
    const last = events[events.length - 1]!;
    expect(last.type).toBe('run-finished');
    expect(last.nodes!.data!.status).toBe('done');
    expect(last.nodes!.data!.metrics.documents).toBe(12);
    const again = await loram(['run', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/data: cached/);
    expect(again.stdout).toMatch(/history: /);
    expect((await loram(['run', file, '--to', 'nope'])).code).toBe(2);
  });

  test('run: exit 1 when a node fails, 2 when the recipe is invalid', async () => {
    const broken = path.join(tmp, 'broken-model');
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, 'config.json'), '{"hidden_size": 8}');
    writeFileSync(path.join(broken, 'tokenizer.json'), '{}');
    const file = write('fail.json', { ...datasetRecipe, nodes: [...datasetRecipe.nodes, { id: 'load', type: 'Load', version: 1, params: { source: 'broken-model' } }] });
    const r = await loram(['run', file, '--json']);
    expect(r.code).toBe(1);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as { type: string; ok: boolean; nodes: Record<string, { status: string; error?: { message: string } }> };
    expect(last).toMatchObject({ type: 'run-finished', ok: false });
    expect(last.nodes.load!.status).toBe('failed');
    expect(last.nodes.load!.error!.message).toMatch(/invalid LLaMA config/);
    expect(last.nodes.data!.status).toMatch(/done|cached/);
    expect((await loram(['run', write('inv.json', { ...datasetRecipe, version: 9 })])).code).toBe(2);
  });

  test('run: Ctrl-C during LoRA training cancels cleanly and exits 130', async () => {
    await makeTinyModel(path.join(tmp, 'tiny'));
    const file = write('train.json', {
      format: 'loram-recipe',
      version: 1,
      name: 'train',
      nodes: [
        { id: 'load', type: 'Load', version: 1, params: { source: 'tiny' } },
        { id: 'data', type: 'Dataset', version: 1, params: { source: 'sotu', maxDocuments: 6 } },
        { id: 'train', type: 'LoRA-Train', version: 1, params: { steps: 100000, rank: 2, seqLen: 16, batchSize: 1, warmupSteps: 1 } },
      ],
      edges: [
        { id: 'e1', from: { node: 'load', port: 'model' }, to: { node: 'train', port: 'model' } },
        { id: 'e2', from: { node: 'data', port: 'dataset' }, to: { node: 'train', port: 'dataset' } },
      ],
    });
    let sig = '';
    let sent = false;
    const r = await loram(['run', file, '--json'], {
      onLine: (line, child) => {
        const e = JSON.parse(line) as { type: string; node?: string; signature?: string; step?: number };
        if (e.type === 'node-started' && e.node === 'train') sig = e.signature!;
        if (e.type === 'node-progress' && e.node === 'train' && e.step === 2 && !sent) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as { type: string; node: string };
    expect(last).toMatchObject({ type: 'run-cancelled', node: 'train' });
    expect(sig).not.toBe('');
    expect(existsSync(path.join(home, 'artifacts', sig))).toBe(false);
  }, 120_000);

  test('plan: the memory planner, as text and JSON', async () => {
    const r = await loram(['plan', '--model', 'llama-3.1-70b', '--strategy', 'stru', '--ratio', '0.85', '--quant', 'nf4', '--gpu-gib', '20', '--json']);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout) as { paper: Record<string, number>; totalBytes: number; fits: unknown };
    expect(p.paper.originalParams).toBe(70553706496);
    expect(p.paper.prunedParams).toBe(17849982976);
    expect(p.paper.reduction.toFixed(2)).toBe('15.81');
    expect(p.paper.hbmGiB.toFixed(2)).toBe('8.31');
    expect(p.totalBytes).toBeGreaterThan(0);
    expect(typeof p.fits).toBe('boolean');
    const text = await loram(['plan', '--model', 'llama-2-13b', '--strategy', 'stru', '--ratio', '0.65']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/reduction\s+2\.17×/);
    const cfg = write('config.json', { vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 8, num_attention_heads: 4 });
    expect((await loram(['plan', '--model', cfg, '--strategy', 'unst', '--ratio', '0.5', '--json'])).code).toBe(0);
    expect((await loram(['plan', '--model', 'llama-2-13b', '--strategy', 'diagonal', '--ratio', '0.5'])).code).toBe(2);
    expect((await loram(['plan', '--strategy', 'stru', '--ratio', '0.5'])).code).toBe(2);
    expect((await loram(['plan', '--model', 'llama-2-13b', '--strategy', 'stru', '--ratio', '1.5'])).code).toBe(2);
  });

  test('bench memory: one row measured in a child process next to its plan, as JSON; argument errors exit 2', async () => {
    const r = await loram(['bench', 'memory', '--shape', 'smollm2-135m', '--only', 'qloram-stru-0.85+ckpt', '--seq', '16', '--steps', '1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const b = JSON.parse(r.stdout) as { shape: string; rows: { variant: string; ratio: number; quant: string; checkpointing: boolean; plannedBytes: number; measuredPeakBytes: number; stepMs: number }[] };
    expect(b.shape).toBe('smollm2-135m');
    expect(b.rows).toHaveLength(1);
    const [row] = b.rows;
    expect(row).toMatchObject({ variant: 'QLoRAM-Stru', ratio: 0.85, quant: 'nf4', checkpointing: true });
    expect(row!.plannedBytes).toBeGreaterThan(0);
    expect(row!.measuredPeakBytes).toBeGreaterThan(0);
    expect(row!.stepMs).toBeGreaterThan(0);
    expect((await loram(['bench', 'memory'])).code).toBe(2);
    const shape = await loram(['bench', 'memory', '--shape', 'gpt-5']);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toMatch(/unknown shape "gpt-5"/);
    const only = await loram(['bench', 'memory', '--shape', 'smollm2-135m', '--only', 'lora,stru-0.9']);
    expect(only.code).toBe(2);
    expect(only.stderr).toMatch(/unknown row "stru-0.9"/);
    expect((await loram(['bench', 'memory', '--help'])).code).toBe(0);
  });

  test('serve starts the web shell on 127.0.0.1, prints the URL with its token, stops on SIGINT', async () => {
    const r = await loram(['serve', '--port', '0', '--no-build'], {
      onLine: (line, child) => {
        if (/http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}/.test(line)) child.kill('SIGINT');
      },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}/);
    expect((await loram(['serve', '--port', 'abc'])).code).toBe(2);
  });
});
