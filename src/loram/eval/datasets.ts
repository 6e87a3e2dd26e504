/**
 * Evaluation datasets: plain text and JSONL.
 *
 * Schemas (one JSON object per line; blank lines are ignored, and so are keys not listed here):
 * - Language-model data (perplexity):   {"text": "…"}                       text: a non-empty string
 * - Multiple choice (accuracy):         {"context": "…", "choices": ["…", "…"], "answer": 1}
 *                                       or {"question": "…", …}           context/question: a string (may be
 *                                       empty); choices: ≥ 2 non-empty strings; answer: the integer index of
 *                                       the correct choice, 0 ≤ answer < choices.length. An optional "id"
 *                                       (string or number) is carried into per-item results.
 * - A plain text file (any other extension, or format "text") is one document.
 *
 * A malformed line (invalid JSON, not an object, missing or mistyped field, empty text, answer out of range)
 * is an error naming the file and the 1-based line number — or, with `skipInvalid: true`, the line is
 * skipped and counted (`skipped`, with the first reasons in `invalid`).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export type DatasetFormat = 'text' | 'jsonl';

export interface LoadDatasetOptions {
  /** Skip malformed lines instead of failing (they are counted in the result). Default false. */
  skipInvalid?: boolean;
  /** Force a format; default: .jsonl/.ndjson/.jsonlines → jsonl, anything else → text (LM data only). */
  format?: DatasetFormat;
  /** Use at most this many valid records (after skipping). */
  limit?: number;
}

export interface InvalidLine {
  line: number;
  reason: string;
}

interface DatasetBase {
  /** Absolute path of the file. */
  source: string;
  format: DatasetFormat;
  /** Lines skipped as malformed (0 unless skipInvalid). */
  skipped: number;
  /** The first (up to 20) skipped lines and why. */
  invalid: InvalidLine[];
}

export interface LmDataset extends DatasetBase {
  kind: 'lm';
  documents: string[];
}

export interface McItem {
  id: string;
  /** 1-based line in the source file. */
  line: number;
  context: string;
  choices: string[];
  answer: number;
}

export interface McDataset extends DatasetBase {
  kind: 'multiple-choice';
  items: McItem[];
}

const MAX_LISTED_INVALID = 20;

export function detectFormat(file: string): DatasetFormat {
  const ext = path.extname(file).toLowerCase();
  return ext === '.jsonl' || ext === '.ndjson' || ext === '.jsonlines' ? 'jsonl' : 'text';
}

async function readText(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read dataset ${file}: ${(e as Error).message}`);
  }
}

/** Parse JSONL, validating each record; `validate` returns the record or throws with the reason. */
export function parseJsonl<T>(text: string, file: string, validate: (o: Record<string, unknown>, line: number) => T, opts: LoadDatasetOptions = {}): { records: T[]; skipped: number; invalid: InvalidLine[] } {
  const records: T[] = [];
  const invalid: InvalidLine[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (opts.limit !== undefined && records.length >= opts.limit) break;
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const lineNo = i + 1;
    let reason: string | null = null;
    let rec: T | undefined;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      reason = `invalid JSON (${(e as Error).message})`;
    }
    if (reason === null) {
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) reason = `expected a JSON object, got ${Array.isArray(obj) ? 'an array' : obj === null ? 'null' : typeof obj}`;
      else {
        try {
          rec = validate(obj as Record<string, unknown>, lineNo);
        } catch (e) {
          reason = (e as Error).message;
        }
      }
    }
    if (reason !== null) {
      if (!opts.skipInvalid) throw new Error(`${file}:${lineNo}: ${reason}`);
      skipped++;
      if (invalid.length < MAX_LISTED_INVALID) invalid.push({ line: lineNo, reason });
      continue;
    }
    records.push(rec!);
  }
  return { records, skipped, invalid };
}

function validateText(o: Record<string, unknown>): string {
  if (!('text' in o)) throw new Error('missing field "text"');
  if (typeof o.text !== 'string') throw new Error(`field "text" must be a string, got ${typeof o.text}`);
  if (o.text.trim() === '') throw new Error('field "text" is empty');
  return o.text;
}

/** Text or JSONL `{"text"}` documents for perplexity. */
export async function loadLmDataset(file: string, opts: LoadDatasetOptions = {}): Promise<LmDataset> {
  const source = path.resolve(file);
  const format = opts.format ?? detectFormat(file);
  const text = await readText(source);
  if (format === 'text') {
    if (text.trim() === '') throw new Error(`${source}: the text file is empty`);
    return { kind: 'lm', source, format, documents: [text], skipped: 0, invalid: [] };
  }
  const { records, skipped, invalid } = parseJsonl(text, source, validateText, opts);
  if (records.length === 0) throw new Error(`${source}: no valid {"text"} records${skipped ? ` (${skipped} malformed lines skipped)` : ''}`);
  return { kind: 'lm', source, format, documents: records, skipped, invalid };
}

function validateMc(o: Record<string, unknown>, line: number): McItem {
  const ctxKey = 'context' in o ? 'context' : 'question' in o ? 'question' : null;
  if (!ctxKey) throw new Error('missing field "context" (or "question")');
  const context = o[ctxKey];
  if (typeof context !== 'string') throw new Error(`field "${ctxKey}" must be a string, got ${typeof context}`);
  if (!('choices' in o)) throw new Error('missing field "choices"');
  const choices = o.choices;
  if (!Array.isArray(choices)) throw new Error('field "choices" must be an array of strings');
  if (choices.length < 2) throw new Error(`field "choices" needs at least 2 choices, got ${choices.length}`);
  choices.forEach((c, i) => {
    if (typeof c !== 'string') throw new Error(`choices[${i}] must be a string, got ${typeof c}`);
    if (c.length === 0) throw new Error(`choices[${i}] is empty`);
  });
  if (!('answer' in o)) throw new Error('missing field "answer"');
  const answer = o.answer;
  if (typeof answer !== 'number' || !Number.isInteger(answer)) throw new Error(`field "answer" must be an integer index, got ${JSON.stringify(answer)}`);
  if (answer < 0 || answer >= choices.length) throw new Error(`answer index ${answer} is out of range for ${choices.length} choices`);
  const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : `line-${line}`;
  return { id, line, context, choices: choices as string[], answer };
}

/** JSONL multiple-choice items. */
export async function loadMcDataset(file: string, opts: LoadDatasetOptions = {}): Promise<McDataset> {
  const source = path.resolve(file);
  const format = opts.format ?? detectFormat(file);
  if (format !== 'jsonl') throw new Error(`${source}: multiple-choice data must be JSONL ({"context", "choices", "answer"} per line)`);
  const { records, skipped, invalid } = parseJsonl(await readText(source), source, validateMc, opts);
  if (records.length === 0) throw new Error(`${source}: no valid multiple-choice records${skipped ? ` (${skipped} malformed lines skipped)` : ''}`);
  return { kind: 'multiple-choice', source, format, items: records, skipped, invalid };
}

/** A JSONL list of prompts for generation samples: {"prompt": "…"} (or {"text"}), or a text file, one per line. */
export async function loadPrompts(file: string, opts: LoadDatasetOptions = {}): Promise<{ prompts: string[]; skipped: number; invalid: InvalidLine[] }> {
  const source = path.resolve(file);
  const text = await readText(source);
  if ((opts.format ?? detectFormat(file)) === 'text') {
    const prompts = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
    return { prompts: opts.limit !== undefined ? prompts.slice(0, opts.limit) : prompts, skipped: 0, invalid: [] };
  }
  const { records, skipped, invalid } = parseJsonl(
    text,
    source,
    (o) => {
      const key = 'prompt' in o ? 'prompt' : 'text' in o ? 'text' : null;
      if (!key) throw new Error('missing field "prompt"');
      const v = o[key];
      if (typeof v !== 'string') throw new Error(`field "${key}" must be a string, got ${typeof v}`);
      if (v.trim() === '') throw new Error(`field "${key}" is empty`);
      return v;
    },
    opts,
  );
  return { prompts: records, skipped, invalid };
}
