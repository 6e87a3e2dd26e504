/**
 * Each gradient rule of the ONNX differentiator on its own: a one-op graph, loss = Σ out ⊙ R for a fixed random R,
 * the graph's gradients against central finite differences of the same graph's loss (float32, so a loose 2%).
 */
import * as ort from 'onnxruntime-node';
import { DataType, modelProto } from '../../../src/loram/onnx/graph';
import * as op from '../../../src/loram/ort-train/ops';
import { Tape, type Val } from '../../../src/loram/ort-train/tape';
import { Rng } from '../../../src/loram/util/rng';

interface Case {
  name: string;
  inputs: Record<string, number[]>;
  build: (t: Tape, x: Record<string, Val>) => Val;
  /** Extra non-differentiable feeds (int64 ids, bool masks) built into the graph as initializers. */
  consts?: (t: Tape) => void;
}

const rng = new Rng(5);
const rand = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.7);

async function check(c: Case) {
  const t = new Tape('op');
  const vals: Record<string, Val> = {};
  for (const [n, s] of Object.entries(c.inputs)) vals[n] = t.input(n, s, { trainable: true });
  c.consts?.(t);
  const out = c.build(t, vals);
  const r = t.g.floatInitializer('R', [...out.shape], rand([...out.shape]));
  const loss = op.sum(t, op.mul(t, out, t.constant(r, out.shape)));
  t.g.output('loss', loss.name, DataType.FLOAT, []);
  const grads = t.backward(loss, Object.values(vals));
  for (const [n, g] of grads) t.g.output(`g_${n}`, g, DataType.FLOAT, [...c.inputs[n]!]);
  const bytes = await modelProto(t.g.toGraphProto().graph, { irVersion: 8, opset: 17, producerName: 't', producerVersion: '1' }).toBytes();
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const x: Record<string, Float32Array> = Object.fromEntries(Object.entries(c.inputs).map(([n, sh]) => [n, rand(sh)]));
  const run = async () => {
    const feeds = Object.fromEntries(Object.entries(x).map(([n, d]) => [n, new ort.Tensor('float32', d, c.inputs[n]!)]));
    return s.run(feeds);
  };
  const base = await run();
  for (const n of Object.keys(c.inputs)) {
    const analytic = base[`g_${n}`]!.data as Float32Array;
    let worst = 0;
    let scale = 1e-3;
    for (let k = 0; k < x[n]!.length; k += Math.max(1, Math.floor(x[n]!.length / 12))) {
      const keep = x[n]![k]!;
      const h = 1e-2;
      x[n]![k] = keep + h;
      const up = ((await run()).loss!.data as Float32Array)[0]!;
      x[n]![k] = keep - h;
      const down = ((await run()).loss!.data as Float32Array)[0]!;
      x[n]![k] = keep;
      const numeric = (up - down) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - analytic[k]!));
      scale = Math.max(scale, Math.abs(numeric));
    }
    expect({ op: c.name, input: n, relErr: worst / scale < 0.02 ? 'ok' : worst / scale }).toEqual({ op: c.name, input: n, relErr: 'ok' });
  }
  await s.release();
}

const cases: Case[] = [
  { name: 'add (broadcast)', inputs: { a: [3, 4], b: [4] }, build: (t, x) => op.add(t, x.a!, x.b!) },
  { name: 'mul (broadcast)', inputs: { a: [2, 3, 4], b: [3, 1] }, build: (t, x) => op.mul(t, x.a!, x.b!) },
  { name: 'scale', inputs: { a: [5] }, build: (t, x) => op.scale(t, x.a!, -1.5) },
  { name: 'sum', inputs: { a: [2, 3] }, build: (t, x) => op.reshape(t, op.sum(t, x.a!), [1]) },
  { name: 'reshape', inputs: { a: [2, 6] }, build: (t, x) => op.reshape(t, x.a!, [3, 4]) },
  { name: 'transpose', inputs: { a: [2, 3, 4] }, build: (t, x) => op.transpose(t, x.a!, [2, 0, 1]) },
  ...([[false, false], [false, true], [true, false], [true, true]] as const).flatMap(([ta, tb]) => [
    { name: `matmul 2-D ta=${ta} tb=${tb}`, inputs: { a: ta ? [4, 3] : [3, 4], b: tb ? [5, 4] : [4, 5] }, build: (t: Tape, x: Record<string, Val>) => op.matmul(t, x.a!, x.b!, { ta, tb, alpha: 0.5 }) },
    { name: `matmul 4-D ta=${ta} tb=${tb}`, inputs: { a: ta ? [2, 2, 4, 3] : [2, 2, 3, 4], b: tb ? [2, 2, 5, 4] : [2, 2, 4, 5] }, build: (t: Tape, x: Record<string, Val>) => op.matmul(t, x.a!, x.b!, { ta, tb }) },
  ]),
  { name: 'linear with bias', inputs: { x: [3, 4], w: [5, 4], b: [5] }, build: (t, x) => op.linear(t, x.x!, x.w!, x.b!) },
  { name: 'softmax', inputs: { a: [2, 3, 5] }, build: (t, x) => op.softmax(t, x.a!) },
  { name: 'rmsNorm', inputs: { x: [3, 6], w: [6] }, build: (t, x) => op.rmsNorm(t, x.x!, x.w!, 1e-5) },
  { name: 'swiglu', inputs: { g: [3, 4], u: [3, 4] }, build: (t, x) => op.swiglu(t, x.g!, x.u!) },
  {
    name: 'rope',
    inputs: { x: [1, 3, 2, 4] },
    consts: (t) => {
      t.g.floatInitializer('cos', [3, 1, 4], rand([3, 1, 4]));
      t.g.floatInitializer('sin', [3, 1, 4], rand([3, 1, 4]));
    },
    build: (t, x) => op.rope(t, x.x!, 'cos', 'sin'),
  },
  {
    name: 'dropout',
    inputs: { x: [4, 5] },
    consts: (t) => {
      t.g.initializer('keep', DataType.BOOL, [4, 5], Uint8Array.from({ length: 20 }, (_, i) => (i % 3 ? 1 : 0)));
      t.g.floatInitializer('k', [], Float32Array.of(1.25));
    },
    build: (t, x) => op.dropout(t, x.x!, 'keep', 'k'),
  },
  {
    name: 'gatherRows (repeated ids add up)',
    inputs: { table: [6, 3] },
    consts: (t) => void t.g.initializer('ids', DataType.INT64, [5], new Uint8Array(BigInt64Array.of(1n, 4n, 1n, 0n, 5n).buffer)),
    build: (t, x) => op.gatherRows(t, x.table!, 'ids', 5),
  },
  {
    name: 'crossEntropySum (ignored rows)',
    inputs: { logits: [4, 7] },
    consts: (t) => {
      t.g.initializer('labels', DataType.INT64, [4, 1], new Uint8Array(BigInt64Array.of(2n, 6n, 0n, 3n).buffer));
      t.g.floatInitializer('w', [4, 1], Float32Array.of(1, 0, 1, 1));
    },
    build: (t, x) => op.reshape(t, op.crossEntropySum(t, x.logits!, 'labels', 'w'), [1]),
  },
];

test.each(cases)('$name: the gradient rule matches finite differences', async (c) => {
  await check(c);
});
