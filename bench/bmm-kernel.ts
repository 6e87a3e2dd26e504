import { initBackend } from '../src/loram/backend/backend';
import { tf } from '../src/loram/backend/tf';
await initBackend();
function bench(name: string, f: () => void, flops: number) { tf.tidy(f); const t0 = performance.now(); let it = 0; while (performance.now() - t0 < 1000) { tf.tidy(f); it++; } const ms = (performance.now() - t0) / it; console.log(name.padEnd(40), ms.toFixed(3), 'ms', (flops / ms / 1e6).toFixed(1), 'GFLOPS'); }
for (const [B, M, K, N] of [[16, 256, 32, 64], [16, 256, 64, 32], [16, 32, 256, 64], [32, 64, 32, 64]]) {
  const a = tf.randomNormal([B, M, K]), b = tf.randomNormal([B, K, N]);
  bench(`bmm ${B}x${M}x${K}x${N}`, () => { tf.matMul(a, b); }, 2 * B * M * K * N);
}
