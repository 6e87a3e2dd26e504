/**
 * How the frozen tensors of a training graph are stored in the session: dense f32 initializers read in place
 * by Gemm, or (QLoRAM) 4-bit NF4 codes with their double-quantized absmax, multiplied by the
 * `com.microsoft.MatMulBnb4` contrib op in the forward pass and dequantized inside the graph for the backward
 * pass, one layer at a time.
 */
import type { GraphBuilder } from '../onnx/graph';
import type { HostTensor } from '../util/tensor';
import * as op from './ops';
import type { Tape, Val } from './tape';

export interface BaseLinears {
  /** Put a frozen tensor in the session as a float initializer named `name`. */
  dense(g: GraphBuilder, name: string, w: HostTensor): void;
  /** y = x·Wᵀ for the frozen decoder linear `name` ([N, in] → [N, out]); the gradient flows to x only. */
  apply(t: Tape, name: string, x: Val, w: HostTensor | undefined): Val;
  /** Extra fed inputs this storage needs (name → value), if any. */
  readonly feeds: ReadonlyMap<string, { type: 'float32' | 'bool'; data: Float32Array | Uint8Array; dims: number[] }>;
  /** ONNX operator sets beyond the default one. */
  readonly domains: Readonly<Record<string, number>>;
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Every frozen tensor as a float32 initializer (what LoRA on a dense or pruned model uses). */
export class DenseBases implements BaseLinears {
  readonly feeds = new Map();
  readonly domains = {};

  dense(g: GraphBuilder, name: string, w: HostTensor): void {
    g.floatInitializer(name, w.shape, { length: w.data.byteLength, produce: () => f32Bytes(w.data) });
  }

  apply(t: Tape, name: string, x: Val, w: HostTensor | undefined): Val {
    if (!w) throw new Error(`missing tensor ${name}`);
    if (!t.g.initializers.some((i) => i.name === name)) this.dense(t.g, name, w);
    return op.linear(t, x, t.constant(name, w.shape));
  }
}
