/** Validation errors: every problem of a recipe, each pinned to a node and a field so the editor can show it. */

export const VALIDATION_CODES = [
  /** The text is not JSON. */
  'invalid-json',
  /** Not a recipe, or a structural problem (missing/ill-typed field) outside node params. */
  'invalid-recipe',
  /** `version` is newer than this engine reads, or not a version at all. */
  'unsupported-version',
  'duplicate-node-id',
  'duplicate-edge-id',
  'unknown-node-type',
  /** The node's `version` is newer than its implementation, or no migration leads from it. */
  'unknown-node-version',
  /** A parameter fails its schema; `field` is `params.<path>`. */
  'invalid-param',
  /** A required input has no edge; `field` is `inputs.<port>`. */
  'missing-input',
  /** An edge names a node that does not exist. */
  'dangling-edge',
  /** An edge names a port the node does not have. */
  'unknown-port',
  /** An edge joins ports of different types. */
  'type-mismatch',
  /** Two edges into one single-valued input. */
  'input-already-connected',
  /** The same connection twice. */
  'duplicate-edge',
  /** A directed cycle (including an edge from a node to itself); `nodes` lists the cycle. */
  'cycle',
  /** A model/adapter lineage rule is broken (e.g. Recover onto a model that is not the adapter's origin). */
  'lineage',
  /** A file or directory the node reads does not exist. */
  'missing-file',
  /** A sweep's axes do not line up (zipped params of different lengths, labels of the wrong count). */
  'invalid-sweep',
  /** `run --to NODE` names no node of the recipe. */
  'unknown-target',
  /** A run on workers, but the queue or the shared store cannot be reached (or none was configured). */
  'workers-unavailable',
] as const;

export type ValidationCode = (typeof VALIDATION_CODES)[number];

export interface ValidationError {
  code: ValidationCode;
  /** Node id the error is pinned to, or null for recipe-level errors. */
  node: string | null;
  /**
   * What is wrong on that node: `params.<path>` (e.g. `params.ratio`), `inputs.<port>`, `outputs.<port>`,
   * `type`, `version`, `id`; for recipe-level errors a JSON path (`version`, `edges[3].from.node`); or null.
   */
  field: string | null;
  message: string;
  /** The edge concerned, for edge errors. */
  edge?: string;
  /** Every node of a cycle, in order. */
  nodes?: string[];
}

export interface ValidationResult {
  ok: boolean;
  errors: ValidationError[];
  /** How many branches the recipe's sweeps expand to (what its widest Compare gathers); absent when unknown. */
  branches?: number;
}

/** The error a failed node reports (an Error flattened for events and IPC). */
export interface NodeErrorInfo {
  message: string;
  name?: string;
  stack?: string;
  /** Machine-readable kind: 'cancelled', 'not-available' (its library has not landed), 'lineage', … */
  code?: string;
}
