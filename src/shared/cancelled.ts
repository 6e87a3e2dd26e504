/**
 * Thrown at a cancellation point (a node's progress tick, a training or pruning step) once the run is cancelled.
 * One class for the ML library and the nodes: the library throws it from inside a node's run, the worker from its
 * progress tick, and both mean the same thing.
 */
export class CancelledError extends Error {
  readonly code = 'cancelled';
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}
