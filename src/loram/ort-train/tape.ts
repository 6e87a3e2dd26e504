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

  constructor(name: string) {
    this.g = new GraphBuilder(name);
  }

  /** A graph input (fed every run). */
  input(name: string, shape: readonly number[], opts: { trainable?: boolean; type?: DataTypeCode } = {}): Val {
    this.g.input(name, opts.type ?? DataType.FLOAT, [...shape]);
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
    if (out.needsGrad) this.records.push({ out, ins, rule });
    return out;
  }

  /**
   * Emit the backward pass of a scalar `loss` (d loss = 1) and return, for each of `wrt`, the name of its
   * gradient. A tensor off the loss path gets zeros.
   */
  backward(loss: Val, wrt: readonly Val[]): Map<string, string> {
    if (loss.shape.length !== 0) throw new Error(`backward needs a scalar loss, got shape [${loss.shape.join(', ')}]`);
    const contributions = new Map<string, string[]>([[loss.name, [this.g.f32([1], [])]]]);
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
