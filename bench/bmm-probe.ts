import { initBackend } from '../src/loram/backend/backend';
import { tf } from '../src/loram/backend/tf';
await initBackend();
function bench(name: string, f: () => void) { f(); const t0 = performance.now(); let it = 0; while (performance.now() - t0 < 700) { tf.tidy(f); it++; } console.log(name.padEnd(30), ((performance.now() - t0) / it).toFixed(3), 'ms'); }
const BH = 32, T = 64, D = 32;
const q = tf.randomNormal([BH, T, D]), kT = tf.randomNormal([BH, D, T]), p = tf.randomNormal([BH, T, T]), v = tf.randomNormal([BH, T, D]);
bench('batched q·kT', () => { tf.matMul(q, kT); });
bench('loop q·kT', () => { const qs = tf.unstack(q), ks = tf.unstack(kT); tf.stack(qs.map((x, i) => tf.matMul(x, ks[i]!))); });
bench('batched p·v', () => { tf.matMul(p, v); });
bench('loop p·v', () => { const ps = tf.unstack(p), vs = tf.unstack(v); tf.stack(ps.map((x, i) => tf.matMul(x, vs[i]!))); });
bench('unstack only', () => { tf.unstack(p); });
bench('single 64x32x64', () => { tf.matMul(tf.zeros([64, 32]), tf.zeros([32, 64])); });
// block-diagonal via broadcasting multiply+sum
bench('bcast q·kT', () => { tf.sum(tf.mul(tf.reshape(q, [BH, T, 1, D]), tf.reshape(tf.transpose(kT, [0, 2, 1]), [BH, 1, T, D])), -1); });
bench('softmax', () => { tf.softmax(p); });
bench('slice one', () => { tf.slice(p, [5, 0, 0], [1, T, T]); });
bench('split 32', () => { tf.split(p, BH, 0); });
bench('reshape', () => { tf.reshape(p, [BH * T, T]); });
const idx = tf.tensor1d([5], 'int32');
bench('gather one', () => { tf.gather(p, idx); });
const p2 = tf.reshape(p, [BH * T, T]);
bench('slice2d rows', () => { tf.slice(p2, [5 * T, 0], [T, T]); });
bench('concat 32', () => { tf.concat(Array.from({ length: BH }, () => tf.zeros([T, T])), 0); });
bench('zeros 64x64 x32', () => { Array.from({ length: BH }, () => tf.zeros([T, T])); });
