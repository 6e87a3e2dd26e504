/**
 * A local copy of a multiple-choice benchmark, through the path a user takes: a Dataset node reads an ARC-shaped
 * .jsonl (mcShape "arc") and Evaluate scores the built-in model on its test split (acc / acc_norm); a broken line
 * stops the run with the file and line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/loram.mjs', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'loram-mc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function loram(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...process.env, LORAM_HOME: path.join(tmp, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

const WORDS = ['whale', 'ship', 'sea', 'captain', 'harpoon', 'ocean', 'sailor', 'storm'];
function arcLine(i: number): string {
  const text = [0, 1, 2, 3].map((k) => `the ${WORDS[(i + k) % WORDS.length]} of the ${WORDS[(i + 2 * k + 1) % WORDS.length]}`);
  return JSON.stringify({ id: `q${i}`, question: `What did Ishmael see on day ${i}?`, choices: { text, label: ['A', 'B', 'C', 'D'] }, answerKey: 'ABCD'[i % 4] });
}

function recipe(file: string) {
  return {
    format: 'loram-recipe',
    version: 2,
    name: 'arc on the built-in model',
    nodes: [
      { id: 'load', type: 'Load', version: 1, params: { source: 'builtin:large' } },
      { id: 'text', type: 'Dataset', version: 1, params: { source: 'sotu', maxDocuments: 20 } },
      { id: 'arc', type: 'Dataset', version: 1, params: { source: 'file', path: file, format: 'multiple-choice', mcShape: 'arc', valFraction: 0, testFraction: 0.5 } },
      { id: 'eval', type: 'Evaluate', version: 1, params: { runtime: 'onnxruntime', seqLen: 64, maxTokens: 2000, split: 'test' } },
    ],
    edges: [
      { id: 'e1', from: { node: 'load', port: 'model' }, to: { node: 'eval', port: 'model' } },
      { id: 'e2', from: { node: 'text', port: 'dataset' }, to: { node: 'eval', port: 'dataset' } },
      { id: 'e3', from: { node: 'arc', port: 'dataset' }, to: { node: 'eval', port: 'choices' } },
    ],
  };
}

test('an ARC-shaped file is scored on its test split; a broken line names the file and line', async () => {
  const good = path.join(tmp, 'arc.jsonl');
  writeFileSync(good, Array.from({ length: 40 }, (_, i) => arcLine(i)).join('\n') + '\n');
  writeFileSync(path.join(tmp, 'ok.json'), JSON.stringify(recipe(good)));
  const r = await loram(['run', 'ok.json']);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/multiple choice \(arc\) from .*arc\.jsonl: 40 items → train 20, val 0, test 20/);
  // 20 test items scored: the standard error printed is the harness's mean_stderr of acc over n = 20.
  const m = /accuracy (\d\.\d+), accuracyNorm \d\.\d+, accuracyStderr (\d\.\d+)/.exec(r.out);
  expect(m).not.toBeNull();
  const [acc, se] = [Number(m![1]), Number(m![2])];
  const n = 20;
  expect(Math.abs(se - Math.sqrt((acc * (1 - acc) * n) / (n - 1) / n))).toBeLessThan(0.002);

  const bad = path.join(tmp, 'arc-bad.jsonl');
  writeFileSync(bad, [arcLine(0), arcLine(1), '{"question": "no choices", "answerKey": "A"}', arcLine(3)].join('\n'));
  writeFileSync(path.join(tmp, 'bad.json'), JSON.stringify(recipe(bad)));
  const b = await loram(['run', 'bad.json']);
  expect(b.code).not.toBe(0);
  expect(b.out).toContain(`${bad}:3: missing field "choices"`);
}, 180_000);
