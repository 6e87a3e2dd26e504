/**
 * Activation checkpointing for TensorFlow.js: run a block without keeping its intermediates, and recompute them
 * in the backward pass (as torch.utils.checkpoint does). The forward runs inside tf.customGrad, which neither
 * records the block's ops on the tape nor keeps their outputs; the gradient function re-runs the block under its
 * own tape and returns the vector-Jacobian product for the input and the block's trainable variables.
 */
import { tf } from '../backend/tf';

interface EngineState {
  activeTape: unknown[] | null;
  gradientDepth: number;
}

/** A block: the input, constants it reads (RoPE tables, attention bias; no gradient), output. */
export type Block = (x: tf.Tensor2D, consts: readonly tf.Tensor[]) => tf.Tensor2D;

/**
 * `f(x, consts)` with gradients for `x` and `vars`, storing only `x` and `consts` for the backward pass (the
 * caller's copies of them may be gone by then). `f` must be deterministic (seed its dropout) and may read `vars`
 * from its closure.
 */
export function checkpointed(f: Block, x: tf.Tensor2D, consts: readonly tf.Tensor[], vars: readonly tf.Variable[]): tf.Tensor2D {
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor2D;
    save([input, ...consts]);
    return {
      value: f(input, consts), // customGrad's forward runs in a tidy with the tape off: only the output survives
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => vjp((xx) => f(xx, saved.slice(1)), saved[0] as tf.Tensor2D, vars, dy),
    };
  });
  return op(x, ...vars) as tf.Tensor2D;
}

/**
 * Gradients of sum(f(x) · dy) for x and vars, computed while the engine is in the middle of another backward pass.
 * tfjs keeps one active tape; a nested tf.grads would replace it and then clear it, so the outer tape is set
 * aside and restored around the inner computation.
 */
function vjp(f: (x: tf.Tensor2D) => tf.Tensor2D, x: tf.Tensor2D, vars: readonly tf.Variable[], dy: tf.Tensor): tf.Tensor[] {
  const state = (tf.engine() as unknown as { state: EngineState }).state;
  const outerTape = state.activeTape;
  const outerDepth = state.gradientDepth;
  state.activeTape = null;
  state.gradientDepth = 0;
  try {
    const xs = [x, ...vars];
    const { value, grads } = tf.engine().gradients(() => f(x), xs, dy, true);
    value.dispose();
    return xs.map((t, i) => grads[i] ?? tf.zerosLike(t));
  } finally {
    state.activeTape = outerTape;
    state.gradientDepth = outerDepth;
  }
}
