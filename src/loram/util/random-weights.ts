/**
 * Random weights for benchmarks: uniform with std 0.02 from a xorshift stream (fast for 10⁸ values), norms at 1.
 * Speed and memory do not depend on the values; a seed keeps runs comparable.
 */
import type { WeightMap } from './tensor';

export function uniformBenchWeights(shapes: Iterable<readonly [string, number[]]>, seed: number): WeightMap {
  const w: WeightMap = new Map();
  let s = (seed * 2654435761) >>> 0 || 1;
  const a = 0.02 * Math.sqrt(3);
  for (const [name, shape] of shapes) {
    const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else
      for (let i = 0; i < data.length; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        data[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * a;
      }
    w.set(name, { shape, data });
  }
  return w;
}
