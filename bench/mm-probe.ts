import { initBackend } from '../src/loram/backend/backend';
import { tf } from '../src/loram/backend/tf';
await initBackend();
function bench(name: string, f: () => void, flops: number) { tf.tidy(f); const t0 = performance.now(); let it = 0; while (performance.now() - t0 < 1000) { tf.tidy(f); it++; } const ms = (performance.now() - t0) / it; console.log(name.padEnd(34), ms.toFixed(3), 'ms', (flops / ms / 1e6).toFixed(1), 'GFLOPS'); }
for (const [m, k, n] of [[512, 256, 688], [512, 688, 256], [512, 128, 344], [256, 512, 688]]) {
  const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n]);
  const bs = Array.from({ length: 8 }, () => tf.randomNormal([k, n]));
  let i = 0;
  bench(`const b ${m}x${k}x${n}`, () => { tf.matMul(a, b); }, 2 * m * k * n);
  bench(`rotating 8 b ${m}x${k}x${n}`, () => { tf.matMul(a, bs[i++ % 8]!); }, 2 * m * k * n);
  bench(`fresh a,b ${m}x${k}x${n}`, () => { tf.matMul(tf.add(a, 0), tf.add(b, 0)); }, 2 * m * k * n);
}
