/**
 * Port types and the values that travel on them.
 *
 * A port value is a small JSON reference to an artifact, never tensors: the engine passes these between nodes,
 * stores them in `outputs.json` next to each artifact, and sends them to the UI in events.
 */

export const PORT_TYPES = ['model', 'dataset', 'adapter', 'metrics'] as const;
export type PortType = (typeof PORT_TYPES)[number];

export function isPortType(s: unknown): s is PortType {
  return typeof s === 'string' && (PORT_TYPES as readonly string[]).includes(s);
}

/**
 * Where the bytes of a value live.
 * - `store`: inside the artifact store, directory of artifact `artifact` (a node signature), at relative `path`
 *   ('' = the artifact directory itself).
 * - `external`: a file or directory outside the store that the engine only reads (a local Hugging Face model
 *   directory, a built-in model, a user's .jsonl file); `hash` is its content hash when the engine computed one.
 */
export type Location =
  | { kind: 'store'; artifact: string; path: string }
  | { kind: 'external'; path: string; hash?: string };

/** One transformation applied to a model on its way from the original. */
export type ModelTransform =
  | {
      kind: 'prune';
      /**
       * A name from the strategies table (src/loram/prune/strategies.ts). A plain string here: shared cannot import
       * the ML library (shared ← loram), and nothing on this side needs more than the name and `structured`.
       */
      strategy: string;
      ratio: number;
      /** Structured strategies physically remove heads/channels (shapes change); semi/unst zero weights in place. */
      structured: boolean;
      /** Decoder layers pruned, [start, end). */
      layers: [number, number];
      /** The prune plan (kept indices / masks in original coordinates), a JSON file; Recover reads it. */
      plan: Location;
    }
  | { kind: 'align'; steps: number }
  | { kind: 'quantize'; scheme: 'nf4'; blockSize: number; doubleQuant: boolean }
  | { kind: 'merge'; adapter: string };

/**
 * Where a model comes from. `origin.id` is the content hash of the original model (the Load node's directory),
 * so two recipes loading the same files agree on it. `transforms` lists, in order, what was applied since.
 */
export interface ModelLineage {
  origin: { id: string; name: string };
  transforms: ModelTransform[];
}

/** A short description of an architecture, for display (the full config is in the model directory). */
export interface ModelSummary {
  layers: number;
  hiddenSize: number;
  vocabSize: number;
  params: number;
}

export interface ModelValue {
  type: 'model';
  /** A Hugging Face model directory (config.json, *.safetensors, tokenizer.json). */
  location: Location;
  lineage: ModelLineage;
  summary: ModelSummary;
}

export interface AdapterValue {
  type: 'adapter';
  /** A PEFT-format adapter directory (adapter_config.json + adapter_model.safetensors). */
  location: Location;
  rank: number;
  alpha: number;
  targets: string[];
  /** The model whose shapes this adapter fits (after recovery: the original model). */
  base: ModelLineage;
  /** True once Recover has mapped it back to the original shapes. */
  recovered: boolean;
}

export interface DatasetSplitInfo {
  /**
   * Relative to the dataset location: a JSONL file. `documents` format: one `{"id", "text"}` per line;
   * `multiple-choice` format: one `{"id", "context", "choices": string[], "answer": number}` per line;
   * `instruction` format: one `{"id", "kind": "chat", "messages"}` or `{"id", "kind": "completion", "prompt",
   * "completion"}` per line (src/loram/data/instruct-records.ts).
   */
  path: string;
  documents: number;
  chars: number;
}

export interface DatasetValue {
  type: 'dataset';
  location: Location;
  format: 'documents' | 'multiple-choice' | 'instruction';
  /** Human-readable origin, e.g. "corpus sotu" or "file /data/x.jsonl". */
  source: string;
  splits: { train: DatasetSplitInfo; val: DatasetSplitInfo; test: DatasetSplitInfo };
  /** A short digest of the content (the engine may use it for display and checks). */
  contentHash?: string;
  /** Instruction data: train on packed sequences (several examples each; Dataset's `packing`). */
  packing?: boolean;
}

/** A scalar result, or a label. Curves and tables live in the metrics file, not here. */
export type MetricScalar = number | string | boolean | null;

export interface MetricsValue {
  type: 'metrics';
  /** A JSON file with the full metrics (scalars, curves, tables). */
  location: Location;
  /** Display name of the branch these metrics describe (Compare uses it as the row/series name). */
  label: string;
  /** The headline scalars, copied from the file so tables need not open it. */
  summary: Record<string, MetricScalar>;
}

export type PortValue = ModelValue | AdapterValue | DatasetValue | MetricsValue;
export type PortValueOf<T extends PortType> = Extract<PortValue, { type: T }>;

/** A curve in a metrics file: x (e.g. step) and y (e.g. loss) of equal length. */
export interface Curve {
  x: number[];
  y: number[];
  xLabel?: string;
  yLabel?: string;
}

/**
 * The JSON file a `metrics` value points to. `scalars` are what tables show; `curves` what plots overlay
 * (by name, e.g. "loss"); `table` is used by Compare to gather several branches.
 */
export interface MetricsFile {
  label: string;
  scalars: Record<string, MetricScalar>;
  curves?: Record<string, Curve>;
  table?: { columns: string[]; rows: { label: string; values: Record<string, MetricScalar>; curves?: Record<string, Curve> }[] };
}
