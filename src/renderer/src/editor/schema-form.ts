/**
 * Inspector forms from a node kind's params JSON Schema (as the catalogue sends it): one field per property,
 * with its default, range, choices and help text; plus the local checks that give inline errors while typing
 * (the engine's validation stays the authority and its errors are shown next to the same fields).
 */
import { rangeMessage, type JsonSchema, type ValidationError } from '../../../shared';

export type FieldKind = 'number' | 'integer' | 'string' | 'enum' | 'boolean' | 'enum-list' | 'string-list' | 'json';

export interface FieldSpec {
  key: string;
  kind: FieldKind;
  title: string;
  description?: string;
  /** The schema default; undefined when the field is optional without a default. */
  default?: unknown;
  /** Must be set (no default, not optional). */
  required: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  /** Choices for `enum` and `enum-list` fields. */
  options?: (string | number)[];
  /** Suggestions for free text (e.g. "builtin:large"). */
  examples?: string[];
  minLength?: number;
  minItems?: number;
}

type Schema = Record<string, unknown>;

const ACRONYMS: Record<string, string> = { lr: 'LR', id: 'ID', hf: 'HF' };

/** `calibrationSamples` → `Calibration samples`, `layerEnd` → `Layer end`. */
export function humanize(key: string): string {
  if (ACRONYMS[key]) return ACRONYMS[key];
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .split(/\s+/)
    .map((w, i) => (ACRONYMS[w.toLowerCase()] ?? (i === 0 ? w : w.toLowerCase())));
  const s = words.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Unwrap `anyOf`/`oneOf` with a null branch (an optional value) to the non-null branch. */
function unwrap(s: Schema): Schema {
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts)) {
    const nonNull = alts.filter((a) => a && a.type !== 'null');
    if (nonNull.length === 1) return { ...nonNull[0], ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'anyOf' && k !== 'oneOf')) };
  }
  return s;
}

function kindOf(s: Schema): FieldKind {
  const t = s.type;
  if (Array.isArray(s.enum) && (t === 'string' || t === 'integer' || t === 'number' || t === undefined)) return 'enum';
  if (t === 'boolean') return 'boolean';
  if (t === 'integer') return 'integer';
  if (t === 'number') return 'number';
  if (t === 'string') return 'string';
  if (t === 'array') {
    const items = (s.items ?? {}) as Schema;
    if (Array.isArray(items.enum)) return 'enum-list';
    if (items.type === 'string') return 'string-list';
  }
  return 'json';
}

export function fieldFromSchema(key: string, raw: Schema, required: boolean): FieldSpec {
  const s = unwrap(raw);
  const kind = kindOf(s);
  const f: FieldSpec = { key, kind, title: typeof s.title === 'string' ? s.title : humanize(key), required: required && s.default === undefined };
  if (typeof s.description === 'string') f.description = s.description;
  if (s.default !== undefined) f.default = s.default;
  const mn = num(s.minimum);
  const mx = num(s.maximum);
  const xmn = num(s.exclusiveMinimum);
  const xmx = num(s.exclusiveMaximum);
  if (mn !== undefined) f.minimum = mn;
  if (mx !== undefined) f.maximum = mx;
  if (xmn !== undefined) f.exclusiveMinimum = xmn;
  if (xmx !== undefined) f.exclusiveMaximum = xmx;
  if (kind === 'enum') f.options = (s.enum as (string | number)[]).slice();
  if (kind === 'enum-list') f.options = (((s.items as Schema).enum as (string | number)[]) ?? []).slice();
  if (Array.isArray(s.examples)) f.examples = (s.examples as unknown[]).filter((x): x is string => typeof x === 'string');
  if (typeof s.minLength === 'number') f.minLength = s.minLength;
  if (kind === 'string-list' && typeof (s.items as Schema)?.minLength === 'number') f.minLength = (s.items as Schema).minLength as number;
  if (typeof s.minItems === 'number') f.minItems = s.minItems;
  return f;
}

/** One field per property of an object schema, in declaration order. */
export function fieldsFromSchema(schema: JsonSchema): FieldSpec[] {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const req = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(props).map(([k, s]) => fieldFromSchema(k, s, req.has(k)));
}

function fmt(n: number): string {
  return String(n);
}

/** A short description of the allowed range, e.g. "0 – 0.99", "≥ 1", "> 0". */
export function rangeText(f: FieldSpec): string | null {
  const lo = f.minimum !== undefined ? fmt(f.minimum) : f.exclusiveMinimum !== undefined ? `>${fmt(f.exclusiveMinimum)}` : null;
  const hi = f.maximum !== undefined ? fmt(f.maximum) : f.exclusiveMaximum !== undefined ? `<${fmt(f.exclusiveMaximum)}` : null;
  if (lo !== null && hi !== null) return `${lo} – ${hi}`;
  if (f.minimum !== undefined) return `≥ ${fmt(f.minimum)}`;
  if (f.exclusiveMinimum !== undefined) return `> ${fmt(f.exclusiveMinimum)}`;
  if (f.maximum !== undefined) return `≤ ${fmt(f.maximum)}`;
  if (f.exclusiveMaximum !== undefined) return `< ${fmt(f.exclusiveMaximum)}`;
  return null;
}

/** Local check of a value against its field; null when fine. `undefined` means "not set" (default applies). */
export function checkField(f: FieldSpec, value: unknown): string | null {
  if (value === undefined) return f.required ? 'required' : null;
  switch (f.kind) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (f.kind === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
      if (f.minimum !== undefined && value < f.minimum) return rangeMessage('min', f.minimum, true);
      if (f.maximum !== undefined && value > f.maximum) return rangeMessage('max', f.maximum, true);
      if (f.exclusiveMinimum !== undefined && value <= f.exclusiveMinimum) return rangeMessage('min', f.exclusiveMinimum, false);
      if (f.exclusiveMaximum !== undefined && value >= f.exclusiveMaximum) return rangeMessage('max', f.exclusiveMaximum, false);
      return null;
    }
    case 'string':
      if (typeof value !== 'string') return 'must be text';
      if (f.minLength !== undefined && value.length < f.minLength) return f.minLength === 1 ? 'must not be empty' : `must be at least ${f.minLength} characters`;
      return null;
    case 'enum':
      return f.options?.includes(value as string | number) ? null : `must be one of ${(f.options ?? []).join(', ')}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be on or off';
    case 'enum-list':
    case 'string-list': {
      if (!Array.isArray(value)) return 'must be a list';
      if (f.minItems !== undefined && value.length < f.minItems) return f.minItems === 1 ? 'choose at least one' : `needs at least ${f.minItems} items`;
      if (f.kind === 'enum-list' && value.some((v) => !f.options?.includes(v))) return `items must be among ${(f.options ?? []).join(', ')}`;
      if (f.kind === 'string-list' && value.some((v) => typeof v !== 'string' || (f.minLength !== undefined && v.length < f.minLength))) return 'items must be non-empty text';
      if (new Set(value).size !== value.length) return 'lists an item twice';
      return null;
    }
    default:
      return null;
  }
}

export type ParsedInput = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Text typed into a field → the value to store. Empty text clears an optional number (the default applies).
 * Number parsing accepts `1e-4`, `0.5`, `.5`.
 */
export function parseFieldText(f: FieldSpec, text: string): ParsedInput {
  const t = text.trim();
  switch (f.kind) {
    case 'number':
    case 'integer': {
      if (t === '') return { ok: true, value: undefined };
      const n = Number(t);
      if (!Number.isFinite(n)) return { ok: false, error: 'must be a number' };
      return { ok: true, value: n };
    }
    case 'string-list': {
      if (t === '') return { ok: true, value: undefined };
      return { ok: true, value: t.split(',').map((s) => s.trim()).filter(Boolean) };
    }
    case 'json': {
      if (t === '') return { ok: true, value: undefined };
      try {
        return { ok: true, value: JSON.parse(t) };
      } catch (e) {
        return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
      }
    }
    default:
      return { ok: true, value: text };
  }
}

/**
 * What the inspector says under a field whose text is not a value: the field, what was typed, what it takes
 * ("Ratio: "abc" is not a number; expected a number 0 – 1").
 */
export function typedTextError(f: FieldSpec, text: string, error: string): string {
  const numeric = f.kind === 'number' || f.kind === 'integer';
  if (!numeric) return `${f.title}: ${error}`;
  const range = rangeText(f);
  return `${f.title}: "${text.trim()}" is not a number; expected ${f.kind === 'integer' ? 'a whole number' : 'a number'}${range ? ` ${range}` : ''}`;
}

/** How a stored value is shown in a text input. */
export function fieldText(f: FieldSpec, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (f.kind === 'string-list' && Array.isArray(value)) return value.join(', ');
  if (f.kind === 'json') return JSON.stringify(value);
  return String(value);
}

/** Engine validation errors of one node, by param key (`params.ratio` → `ratio`); other fields under their name. */
/** The parameter an error's field path points into ("params.targets[2]" → "targets"); null when it is not a parameter. */
export function paramKeyOf(fieldPath: string | null | undefined): string | null {
  return fieldPath?.startsWith('params.') ? fieldPath.slice('params.'.length).split(/[.[]/)[0]! : null;
}

export function errorsByField(errors: readonly ValidationError[], nodeId: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of errors) {
    if (e.node !== nodeId) continue;
    const key = paramKeyOf(e.field) ?? e.field ?? '';
    const list = out.get(key);
    if (list) list.push(e.message);
    else out.set(key, [e.message]);
  }
  return out;
}

/** A node's errors that no parameter field shows (cross-port rules, unknown keys), for the inspector's top. */
export function errorsOutsideFields(errors: readonly ValidationError[], nodeId: string, fields: readonly FieldSpec[]): ValidationError[] {
  const keys = new Set(fields.map((f) => f.key));
  return errors.filter((e) => {
    if (e.node !== nodeId) return false;
    const key = paramKeyOf(e.field);
    return key === null || !keys.has(key);
  });
}

/** The errors shown under a field: the local check words range/type errors best, the engine's cover the rest. */
export function fieldErrors(f: FieldSpec, value: unknown, engineErrors: readonly string[]): string[] {
  const local = checkField(f, value);
  return local ? [local] : [...new Set(engineErrors)];
}

/** Is the field at its default (unset counts as the default)? */
export function isDefaultValue(f: FieldSpec, value: unknown): boolean {
  return value === undefined || JSON.stringify(value) === JSON.stringify(f.default);
}

/** An enum-list after toggling one choice; kept in the order of the choices, not the order of clicks. */
export function toggleChoice(options: readonly (string | number)[], current: readonly (string | number)[], choice: string | number): (string | number)[] {
  return current.includes(choice) ? current.filter((x) => x !== choice) : options.filter((x) => current.includes(x) || x === choice);
}
