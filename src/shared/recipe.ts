/**
 * The recipe: what the editor saves and the engine runs.
 *
 *   { "format": "loram-recipe", "version": 2, "name": "...",
 *     "nodes": [{ "id", "type", "version", "params", "position": {"x","y"}, "sweep"?: {...}, "group"?: "g1" }],
 *     "edges": [{ "id", "from": {"node","port"}, "to": {"node","port"} }],
 *     "groups"?: [{ "id", "title", "color", "collapsed"? }] }
 *
 * A node's `sweep` turns some of its params into lists of values (axes); the engine expands it into branches
 * (src/shared/sweep.ts). Groups are layout only: the engine ignores them.
 *
 * `recipeSchema` is the strict zod schema (for IPC payloads and the editor). `parseRecipe` is the forgiving
 * reader the engine uses: it migrates old versions and checks every node and edge separately, so it reports
 * every structural problem at once instead of stopping at the first.
 */
import { z } from 'zod';
import type { ValidationError } from './errors';
import { migrateRecipe, RECIPE_MIGRATIONS, type RecipeMigrations } from './migrations';

export const RECIPE_FORMAT = 'loram-recipe';
/** The version this code writes. Older versions are migrated on load (see migrations.ts). */
export const RECIPE_VERSION = 2;

/** Node and edge ids: letters, digits, `_`, `-`, `.`; they appear in file names and on the command line. */
export const idSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'may contain only letters, digits, "_", "-" and "." and must not start with "-" or "."');

export const positionSchema = z.strictObject({ x: z.number().finite(), y: z.number().finite() });

export const recipeNodeSchema = z.strictObject({
  id: idSchema,
  type: z.string().min(1, 'must not be empty'),
  version: z.number().int().min(1),
  /** Validated later against the node kind's own schema. */
  params: z.record(z.string(), z.unknown()).default({}),
  position: positionSchema.default({ x: 0, y: 0 }),
  /** Optional display name shown instead of the id. */
  label: z.string().optional(),
  /** Params that hold a list of values: one branch per value (see sweepSchema). */
  sweep: z.lazy(() => sweepSchema).optional(),
  /** The group the node belongs to (layout only). */
  group: idSchema.optional(),
});

/**
 * A sweep: `values` maps a param name to the list of values it takes (an axis). Two pseudo-params:
 * `$enabled` (booleans: false bypasses the node in that branch: its consumers read its input of the same port
 * type, or nothing) and `$disconnect` (lists of input ports left unconnected in that branch).
 * `mode` "product" (default): each param is its own axis, named `<axis or node id>.<param>`.
 * `mode` "zip": all params step together as one axis named `axis` (or the node id), `labels` naming its points.
 * Axes of the same name on several nodes step together (they must have the same length).
 */
export const sweepSchema = z.strictObject({
  values: z.record(z.string(), z.array(z.unknown()).min(1, 'an axis needs at least one value')),
  mode: z.enum(['product', 'zip']).default('product'),
  axis: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]*$/, 'may contain only letters, digits, "_" and "-"').optional(),
  labels: z.array(z.string()).optional(),
});

/** A group of nodes: a titled, coloured, collapsible frame the editor moves as one. */
export const groupSchema = z.strictObject({
  id: idSchema,
  title: z.string().default('Group'),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #4f8cff').default('#4f8cff'),
  collapsed: z.boolean().optional(),
});

export const endpointSchema = z.strictObject({ node: idSchema, port: z.string().min(1, 'must not be empty') });

export const recipeEdgeSchema = z.strictObject({
  id: idSchema,
  from: endpointSchema,
  to: endpointSchema,
});

/** Everything except nodes and edges. */
const recipeHeadShape = {
  format: z.literal(RECIPE_FORMAT),
  version: z.literal(RECIPE_VERSION),
  name: z.string().default('untitled'),
  description: z.string().optional(),
  /** Free-form data for tools (e.g. the editor's viewport); ignored by the engine. */
  meta: z.record(z.string(), z.unknown()).optional(),
  groups: z.array(groupSchema).optional(),
};

export const recipeSchema = z.strictObject({
  ...recipeHeadShape,
  nodes: z.array(recipeNodeSchema),
  edges: z.array(recipeEdgeSchema).default([]),
});

export type Recipe = z.output<typeof recipeSchema>;
export type RecipeInput = z.input<typeof recipeSchema>;
export type RecipeNode = z.output<typeof recipeNodeSchema>;
export type RecipeEdge = z.output<typeof recipeEdgeSchema>;
export type Endpoint = z.output<typeof endpointSchema>;
export type Sweep = z.output<typeof sweepSchema>;
export type RecipeGroup = z.output<typeof groupSchema>;

export interface ParsedRecipe {
  /** The recipe with only the nodes and edges that passed their schema; null when unreadable as a whole. */
  recipe: Recipe | null;
  errors: ValidationError[];
  /** Ids of nodes present in the input but structurally invalid (edges to them are not reported as dangling). */
  brokenNodes: Set<string>;
  /** The version the input had before migration. */
  fromVersion: number | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Turn a zod issue path into `a.b[2].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  const rest = formatPath(path);
  if (!rest) return prefix;
  if (!prefix) return rest;
  return rest.startsWith('[') ? prefix + rest : `${prefix}.${rest}`;
}

/**
 * The words for a number out of range or of the wrong type, shared by the engine's validation (zod's default
 * messages are rewritten with it) and the inspector's own check, so both say the same thing.
 */
export function rangeMessage(kind: 'max' | 'min', bound: number, inclusive: boolean): string {
  if (kind === 'max') return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
  return inclusive ? `must be at least ${bound}` : `must be greater than ${bound}`;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  const i = issue as { code: string; message: string; origin?: string; maximum?: unknown; minimum?: unknown; inclusive?: boolean; expected?: string };
  const numeric = i.origin === 'number' || i.origin === 'int';
  if (i.code === 'too_big' && numeric && i.message.startsWith('Too big') && typeof i.maximum === 'number') return rangeMessage('max', i.maximum, i.inclusive !== false);
  if (i.code === 'too_small' && numeric && i.message.startsWith('Too small') && typeof i.minimum === 'number') return rangeMessage('min', i.minimum, i.inclusive !== false);
  if (i.code === 'invalid_type' && (i.expected === 'number' || i.expected === 'int') && i.message.startsWith('Invalid input')) return i.expected === 'int' ? 'must be a whole number' : 'must be a number';
  return i.message;
}

/** zod issues → one message each; unknown keys are split into one issue per key. */
export function zodIssues(error: z.ZodError): { path: PropertyKey[]; message: string }[] {
  const out: { path: PropertyKey[]; message: string }[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ path: [...issue.path, k], message: `unknown field "${k}"` });
    } else {
      out.push({ path: [...issue.path], message: issueMessage(issue) });
    }
  }
  return out;
}

/** A JSON.parse message with its character offset ("at position 14") turned into "line 3, column 3". */
export function jsonErrorAt(text: string, message: string): string {
  const m = /\s*(?:in JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
  if (!m) return message;
  const pos = Math.min(Number(m[1]), text.length);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${message.slice(0, m.index)} at line ${line}, column ${column}`;
}

/** Parse recipe text: JSON errors become an `invalid-json` error. */
export function parseRecipeText(text: string, migrations: RecipeMigrations = RECIPE_MIGRATIONS): ParsedRecipe {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return {
      recipe: null,
      errors: [{ code: 'invalid-json', node: null, field: null, message: `not valid JSON: ${jsonErrorAt(text, (e as Error).message)}` }],
      brokenNodes: new Set(),
      fromVersion: null,
    };
  }
  return parseRecipe(json, migrations);
}

const recipeError = (field: string | null, message: string, code: ValidationError['code'] = 'invalid-recipe'): ValidationError => ({ code, node: null, field, message });

/** The recipe's version when its format and version are ones this build reads, else why not. */
function readableVersion(json: Record<string, unknown>): number | ValidationError {
  if (json.format !== RECIPE_FORMAT) {
    return recipeError('format', `"format" must be "${RECIPE_FORMAT}"${json.format === undefined ? ' (missing)' : `, got ${JSON.stringify(json.format)}`}`);
  }
  const version = json.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return recipeError('version', `"version" must be a positive integer, got ${JSON.stringify(version)}`, 'unsupported-version');
  }
  if (version > RECIPE_VERSION) {
    return recipeError('version', `recipe version ${version} is newer than this LoRAM Studio reads (${RECIPE_VERSION}); update LoRAM Studio`, 'unsupported-version');
  }
  return version;
}

/** The items that match `schema`; each other one is passed to `onInvalid`. */
function parseEach<T>(raws: unknown[], schema: z.ZodType<T>, onInvalid: (raw: unknown, index: number, error: z.ZodError) => void): T[] {
  const valid: T[] = [];
  raws.forEach((raw, i) => {
    const r = schema.safeParse(raw);
    if (r.success) valid.push(r.data);
    else onInvalid(raw, i, r.error);
  });
  return valid;
}

/** Valid nodes; each broken one adds its errors (and its id, if it has one, to brokenNodes). */
function parseNodes(raws: unknown[], errors: ValidationError[], brokenNodes: Set<string>): RecipeNode[] {
  return parseEach(raws, recipeNodeSchema, (raw, i, error) => {
    const id = isObject(raw) && typeof raw.id === 'string' && raw.id ? raw.id : null;
    if (id) brokenNodes.add(id);
    for (const is of zodIssues(error)) {
      errors.push({ code: 'invalid-recipe', node: id, field: id ? formatPath(is.path) || null : joinPath(`nodes[${i}]`, is.path), message: is.message });
    }
  });
}

/** Valid edges; each broken one adds its errors. */
function parseEdges(raws: unknown[], errors: ValidationError[]): RecipeEdge[] {
  return parseEach(raws, recipeEdgeSchema, (raw, i, error) => {
    const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : undefined;
    for (const is of zodIssues(error)) {
      errors.push({ code: 'invalid-recipe', node: null, field: joinPath(`edges[${i}]`, is.path), message: is.message, ...(id ? { edge: id } : {}) });
    }
  });
}

/** The recipe's fields other than nodes and edges: errors for bad ones, groups only when all of them are valid. */
function parseHead(migrated: Record<string, unknown>, errors: ValidationError[]): Omit<Recipe, 'nodes' | 'edges'> {
  const head = z.strictObject({ ...recipeHeadShape, nodes: z.unknown(), edges: z.unknown().optional() }).safeParse(migrated);
  if (!head.success) {
    for (const i of zodIssues(head.error)) errors.push(recipeError(formatPath(i.path), i.message));
  }
  return {
    format: RECIPE_FORMAT,
    version: RECIPE_VERSION,
    name: typeof migrated.name === 'string' ? migrated.name : 'untitled',
    ...(typeof migrated.description === 'string' ? { description: migrated.description } : {}),
    ...(isObject(migrated.meta) ? { meta: migrated.meta } : {}),
    ...(head.success && head.data.groups ? { groups: head.data.groups } : {}),
  };
}

/**
 * Check the structure of a recipe (not its node params or graph rules: that is the engine's validate).
 * Migrates older versions first. Never throws.
 */
export function parseRecipe(json: unknown, migrations: RecipeMigrations = RECIPE_MIGRATIONS): ParsedRecipe {
  const fail = (e: ValidationError): ParsedRecipe => ({ recipe: null, errors: [e], brokenNodes: new Set(), fromVersion: null });
  if (!isObject(json)) return fail(recipeError(null, 'a recipe must be a JSON object'));
  const version = readableVersion(json);
  if (typeof version !== 'number') return fail(version);
  let migrated: Record<string, unknown>;
  try {
    migrated = migrateRecipe(json, RECIPE_VERSION, migrations);
  } catch (e) {
    return fail(recipeError('version', (e as Error).message, 'unsupported-version'));
  }
  const errors: ValidationError[] = [];
  const brokenNodes = new Set<string>();
  const head = parseHead(migrated, errors);
  if (!Array.isArray(migrated.nodes)) {
    errors.push(recipeError('nodes', '"nodes" must be an array'));
    return { recipe: null, errors, brokenNodes, fromVersion: version };
  }
  const edgesIn = migrated.edges === undefined ? [] : migrated.edges;
  if (!Array.isArray(edgesIn)) {
    errors.push(recipeError('edges', '"edges" must be an array'));
    return { recipe: null, errors, brokenNodes, fromVersion: version };
  }
  const nodes = parseNodes(migrated.nodes, errors, brokenNodes);
  const edges = parseEdges(edgesIn, errors);
  return { recipe: { ...head, nodes, edges }, errors, brokenNodes, fromVersion: version };
}

/** A new empty recipe. */
export function emptyRecipe(name = 'untitled'): Recipe {
  return { format: RECIPE_FORMAT, version: RECIPE_VERSION, name, nodes: [], edges: [] };
}
