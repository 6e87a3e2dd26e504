/**
 * `loram plan` through the entry users run (bin/loram.mjs): the acceptance command of issue 12, the three runtimes,
 * the smallest change that fits, and usage errors.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/loram.mjs', import.meta.url));

function loram(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const PAPER = ['plan', '--model', 'llama-3.1-70b', '--strategy', 'stru', '--ratio', '0.85', '--quant', 'nf4', '--gpu-gib', '20', '--batch', '1', '--seq', '512', '--checkpointing'];

describe('loram plan', () => {
  test("the paper's headline setting answers fits with a breakdown, the paper's accounting exact", async () => {
    const r = await loram(PAPER);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reduction\s+15\.81×/);
    expect(r.stdout).toMatch(/HBM\s+8\.31 GiB/);
    expect(r.stdout).toMatch(/LoRAM Studio trainer \(ONNX Runtime\)/);
    expect(r.stdout).toMatch(/frozen weights \(as stored\)\s+11\.\d\d GiB/);
    expect(r.stdout).toMatch(/activations \+ gradients \(peak\)/);
    expect(r.stdout).toMatch(/fits in 20 GiB/);
  }, 60_000);

  test('JSON, per runtime; without checkpointing it does not fit and names the smallest change', async () => {
    const noCkpt = PAPER.filter((a) => a !== '--checkpointing');
    const r = await loram([...noCkpt, '--json']);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout) as { fits: boolean; totalBytes: number; suggestion: { change: string; totalBytes: number } | null; breakdown: Record<string, number> };
    expect(p.fits).toBe(false);
    expect(p.suggestion?.change).toBe('--checkpointing');
    expect(p.suggestion!.totalBytes).toBeLessThanOrEqual(20 * 2 ** 30);
    expect(Object.values(p.breakdown).reduce((a, b) => a + b, 0)).toBeCloseTo(p.totalBytes, -3);
    const gpu = JSON.parse((await loram([...PAPER, '--runtime', 'pytorch-gpu', '--json'])).stdout) as { fits: boolean; totalBytes: number };
    expect(gpu.fits).toBe(true);
    const paper = JSON.parse((await loram([...PAPER, '--runtime', 'paper', '--json'])).stdout) as { totalBytes: number };
    expect(paper.totalBytes / 2 ** 30).toBeCloseTo(8.312, 2);
  }, 90_000);

  test('usage errors exit 2', async () => {
    expect((await loram([...PAPER, '--runtime', 'tpu'])).code).toBe(2);
    expect((await loram([...PAPER, '--batch', '0'])).code).toBe(2);
    expect((await loram([...PAPER, '--targets', 'q_proj,nope'])).code).toBe(2);
  }, 60_000);
});
