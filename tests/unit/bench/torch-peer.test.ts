/** The PyTorch peer's command line (bench/train/torch_peer.py); skipped where no Python here imports torch. */
import { spawnSync } from 'node:child_process';
import { findTorchPython, TORCH_PEER } from '../../../bench/train/torch';
import { SHAPES } from '../../../bench/train/types';

const { found } = findTorchPython();
const withTorch = found ? describe : describe.skip;
if (!found) console.log('torch_peer.py tests skipped: no Python here imports torch');

function peer(args: string[]) {
  return spawnSync(found!.python, [TORCH_PEER, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
}

withTorch('torch_peer.py arguments', () => {
  test('a bad shape exits 2 naming --shape and the allowed values', () => {
    const r = peer(['--shape', 'huge']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--shape: invalid choice: 'huge' \(choose from 'tiny', 'smollm2-135m'\)/);
    expect(r.stdout).toBe('');
  });

  test('bad counts and a missing shape exit 2 naming the flag', () => {
    expect(peer(['--shape', 'tiny', '--steps', '0']).stderr).toMatch(/--steps: must be an integer >= 1/);
    expect(peer(['--shape', 'tiny', '--threads', 'two']).stderr).toMatch(/--threads: must be an integer >= 1/);
    const r = peer([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--shape/);
  });

  test('one step on the tiny shape prints one JSON row with the shape of bench/train/types.ts', () => {
    const r = peer(['--shape', 'tiny', '--threads', '1', '--steps', '1', '--warmup', '0']);
    expect(r.status).toBe(0);
    const row = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(row).toMatchObject({ shape: 'tiny', backend: 'torch', threads: 1, tokens: 512, steps: 1, warmup: 0 });
    for (const k of ['loraStepMs', 'fullStepMs', 'forwardMs', 'peakRssBytes']) expect(row[k]).toBeGreaterThan(0);
    const s = SHAPES.tiny;
    expect(row.config).toEqual({ layers: s.layers, hidden: s.hidden, heads: s.heads, kv_heads: s.kvHeads, intermediate: s.intermediate, vocab: s.vocab, tied: s.tied, batch: s.batch, seq: s.seq });
    // r 8 on q,k,v,o (128→128) and gate, up (128→344), down (344→128), 4 layers
    expect(row.loraParams).toBe(4 * (4 * 8 * (128 + 128) + 3 * 8 * (128 + 344)));
  });
});
