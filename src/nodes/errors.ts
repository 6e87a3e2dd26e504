/** Errors a node throws that the engine reports with a code. */
export { CancelledError } from '../shared/cancelled';

/** A rule about the node's inputs broken at run time (e.g. lineage checked on real content hashes). */
export class NodeInputError extends Error {
  constructor(
    message: string,
    readonly code = 'invalid-input',
  ) {
    super(message);
    this.name = 'NodeInputError';
  }
}
