/**
 * Reverse-mode differentiation over an ONNX graph with static shapes.
 *
 * Ops (src/loram/ort-train/ops.ts) emit their forward nodes into a GraphBuilder and record a gradient rule on the
 * tape; `backward` walks the records in reverse, sums the contributions each value receives and emits the
 * gradient nodes into the same graph, so one ONNX session computes loss and gradients in one run. Only values
 * that depend on a trainable tensor carry gradients: the frozen base costs no backward work beyond the
 * activation gradients that flow through it.
 */
import { DataType, GraphBuilder } from '../onnx/graph';
import type { DataTypeCode } from '../onnx/graph';

/** A value in the graph: its name, its static shape and whether a trainable tensor feeds it. */
export interface Val {
  readonly name: string;
  readonly shape: readonly number[];
  readonly needsGrad: boolean;
}

/** Given the output's gradient, the gradients of the inputs (null where an input needs none). */
export type GradRule = (dy: string) => readonly (string | null)[];

interface TapeRecord {
  out: Val;
  ins: readonly Val[];
  rule: GradRule;
}

export class Tape {
  readonly g: GraphBuilder;
  private readonly records: TapeRecord[] = [];
  /** Off while a checkpointed segment's first (forward-only) copy is built. */
  private recording = true;

  constructor(nameOrGraph: string | GraphBuilder) {
    this.g = typeof nameOrGraph === 'string' ? new GraphBuilder(nameOrGraph) : nameOrGraph;
  }

  /** A graph input (fed every run); declaring the same input again returns it. */
  input(name: string, shape: readonly number[], opts: { trainable?: boolean; type?: DataTypeCode } = {}): Val {
    if (!this.g.inputs.some((i) => i.name === name)) this.g.input(name, opts.type ?? DataType.FLOAT, [...shape]);
    return { name, shape: [...shape], needsGrad: opts.trainable ?? false };
  }

  /** A value that never needs a gradient (initializers, constants, masks). */
  constant(name: string, shape: readonly number[]): Val {
    return { name, shape: [...shape], needsGrad: false };
  }

  /**
   * Record an op whose forward node(s) already produced `name`. The rule is only called when the output needs a
   * gradient, which is the case when any input does.
   */
  record(name: string, shape: readonly number[], ins: readonly Val[], rule: GradRule): Val {
    const out: Val = { name, shape: [...shape], needsGrad: ins.some((v) => v.needsGrad) };
    if (out.needsGrad && this.recording) this.records.push({ out, ins, rule });
    return out;
  }

  /**
   * Activation checkpointing: `segment` (e.g. a decoder layer) is built twice. The forward copy keeps none of its
   * intermediates; in the backward pass a second copy, gated on the incoming gradient so ONNX Runtime can only
   * schedule it then, recomputes them and is differentiated on its own tape. `trainables` are the tensors the
   * segment reads that need gradients (the segment must declare its inputs idempotently: it is built twice).
   */
  checkpoint(x: Val, trainables: () => readonly Val[], segment: (t: Tape, x: Val) => Val): Val {
    this.recording = false;
    let y: Val;
    try {
      y = segment(this, x);
    } finally {
      this.recording = true;
    }
    const ws = trainables();
    return this.record(y.name, y.shape, [x, ...ws], (dy) => {
      const sub = new Tape(this.g);
      const gated: Val = { name: gateOn(this.g, x.name, dy), shape: x.shape, needsGrad: true };
      const y2 = segment(sub, gated);
      const grads = sub.backwardFrom(y2, dy, [gated, ...ws]);
      const wGrads = ws.map((w) => grads.get(w.name)!);
      // The gradient passed down waits for this segment's weight gradients: ONNX Runtime would otherwise put those
      // off to the end and keep every recomputed segment's activations alive until then.
      const dx = wGrads.reduce((d, gw) => gateOn(this.g, d, gw), grads.get(gated.name)!);
      return [dx, ...wGrads];
    });
  }

  /**
   * Emit the backward pass of a scalar `loss` (d loss = 1) and return, for each of `wrt`, the name of its
   * gradient. A tensor off the loss path gets zeros.
   */
  backward(loss: Val, wrt: readonly Val[]): Map<string, string> {
    if (loss.shape.length !== 0) throw new Error(`backward needs a scalar loss, got shape [${loss.shape.join(', ')}]`);
    // The backward waits for the loss: ONNX Runtime would otherwise finish the loss last and keep what it reads
    // (the log-probabilities, [tokens, vocab]) alive through the whole backward pass.
    return this.backwardFrom(loss, gateOn(this.g, this.g.f32([1], []), loss.name), wrt);
  }

  /** The backward pass from `out` with incoming gradient `dOut`, to each of `wrt` (zeros where none arrives). */
  backwardFrom(out: Val, dOut: string, wrt: readonly Val[]): Map<string, string> {
    const contributions = new Map<string, string[]>([[out.name, [dOut]]]);
    for (let i = this.records.length - 1; i >= 0; i--) {
      const rec = this.records[i]!;
      const dy = this.sum(contributions.get(rec.out.name));
      contributions.delete(rec.out.name);
      if (!dy) continue;
      const dxs = rec.rule(dy);
      rec.ins.forEach((input, k) => {
        const dx = dxs[k];
        if (!input.needsGrad || !dx) return;
        const list = contributions.get(input.name);
        if (list) list.push(dx);
        else contributions.set(input.name, [dx]);
      });
    }
    const grads = new Map<string, string>();
    for (const v of wrt) grads.set(v.name, this.sum(contributions.get(v.name)) ?? this.zeros(v.shape));
    return grads;
  }

  private sum(parts: string[] | undefined): string | null {
    if (!parts || parts.length === 0) return null;
    if (parts.length === 1) return parts[0]!;
    return this.g.op1('Sum', parts);
  }

  private zeros(shape: readonly number[]): string {
    return this.g.op1('Expand', [this.g.f32([0], []), this.g.i64([...shape])]);
  }
}

/**
 * `x`, made to depend on `dy` without changing its value: where(isnan(first element of dy), x, x). ONNX has no
 * control edges; this data edge is what keeps a recomputation in the backward pass.
 */
export function gateOn(g: GraphBuilder, x: string, dy: string): string {
  const first = g.op1('Slice', [g.op1('Reshape', [dy, g.i64([-1])]), g.i64([0]), g.i64([1])]);
  return g.op1('Where', [g.op1('IsNaN', [first]), x, x]);
}
