/**
 * Multiple-choice benchmarks from local JSONL files, turned into our {context, choices, answer} items the way
 * lm-evaluation-harness's task definitions do it, so a local copy of ARC, HellaSwag or PIQA scores as the harness
 * scores it (acc / acc_norm in eval/multiple-choice.ts):
 * - arc (ai2_arc): "Question: {question}\nAnswer:", choices.text, answer = choices.label.index(answerKey);
 * - hellaswag: query = preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)), choices =
 *   preprocess(ending) each, answer = int(label) — the harness's utils.py, Python's str.capitalize included;
 * - piqa: "Question: {goal}\nAnswer:", [sol1, sol2], answer = label;
 * - fields: any other shape, by naming the context, choices and answer fields (answer: an index, or a letter
 *   A, B, … counted from the first choice).
 * WinoGrande is not offered: the harness scores it by partial evaluation (a different context per choice, one
 * shared continuation), which these items cannot express.
 */
import { promises as fsp } from 'node:fs';
import { parseJsonl, type InvalidLine, type McItem } from '../eval/datasets';

export const MC_SHAPES = ['arc', 'hellaswag', 'piqa', 'fields'] as const;
export type McShape = (typeof MC_SHAPES)[number];

export interface McFieldNames {
  context: string;
  choices: string;
  answer: string;
}

export const DEFAULT_MC_FIELDS: McFieldNames = { context: 'question', choices: 'choices', answer: 'answer' };

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(v === undefined ? `missing field "${key}"` : `field "${key}" must be a string, got ${typeof v}`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((c) => typeof c !== 'string')) throw new Error(`${what} must be an array of strings`);
  if (v.length < 2) throw new Error(`${what} needs at least 2 choices, got ${v.length}`);
  return v as string[];
}

function index(v: unknown, n: number, what: string): number {
  const i = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof i !== 'number' || !Number.isInteger(i)) throw new Error(`${what} must be an integer index, got ${JSON.stringify(v)}`);
  if (i < 0 || i >= n) throw new Error(`${what} ${i} is out of range for ${n} choices`);
  return i;
}

/** Python's str.capitalize: the first character upper case, the rest lower case. */
export function pyCapitalize(s: string): string {
  return s.length ? s[0]!.toUpperCase() + s.slice(1).toLowerCase() : s;
}

/** The harness's hellaswag preprocess: strip, " [title]" → ". ", drop [brackets], double spaces → one. */
export function hellaswagPreprocess(text: string): string {
  return text.trim().replace(/ \[title\]/g, '. ').replace(/\[.*?\]/g, '').replace(/ {2}/g, ' ');
}

const SHAPES: Record<McShape, (o: Record<string, unknown>, f: McFieldNames) => Omit<McItem, 'id' | 'line'>> = {
  arc: (o) => {
    const c = o.choices as { text?: unknown; label?: unknown } | undefined;
    if (!c || typeof c !== 'object') throw new Error('missing field "choices" ({text: [...], label: [...]})');
    const choices = strings(c.text, 'field "choices.text"');
    const labels = strings(c.label, 'field "choices.label"');
    const answer = labels.indexOf(str(o, 'answerKey'));
    if (answer < 0) throw new Error(`answerKey "${String(o.answerKey)}" is not among the labels ${labels.join(', ')}`);
    return { context: `Question: ${str(o, 'question')}\nAnswer:`, choices, answer };
  },
  hellaswag: (o) => {
    const choices = strings(o.endings, 'field "endings"').map(hellaswagPreprocess);
    const query = hellaswagPreprocess(`${str(o, 'activity_label')}: ${str(o, 'ctx_a')} ${pyCapitalize(str(o, 'ctx_b'))}`);
    return { context: query, choices, answer: index(o.label, choices.length, 'field "label"') };
  },
  piqa: (o) => {
    const choices = [str(o, 'sol1'), str(o, 'sol2')];
    return { context: `Question: ${str(o, 'goal')}\nAnswer:`, choices, answer: index(o.label, 2, 'field "label"') };
  },
  fields: (o, f) => {
    const choices = strings(o[f.choices], `field "${f.choices}"`);
    const a = o[f.answer];
    const letter = typeof a === 'string' && /^[A-Za-z]$/.test(a.trim()) ? a.trim().toUpperCase().charCodeAt(0) - 65 : a;
    if (a === undefined) throw new Error(`missing field "${f.answer}"`);
    return { context: str(o, f.context), choices, answer: index(letter, choices.length, `field "${f.answer}"`) };
  },
};

/** One record as an item (throws with the reason a line is bad). */
export function mcItemFrom(shape: McShape, o: Record<string, unknown>, line: number, fields: McFieldNames = DEFAULT_MC_FIELDS): McItem {
  const item = SHAPES[shape](o, fields);
  item.choices.forEach((c, i) => {
    if (c.trim() === '') throw new Error(`choice ${i} is empty`);
  });
  const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : typeof o.ind === 'number' ? String(o.ind) : `line-${line}`;
  return { id, line, ...item };
}

/** A benchmark file's items; bad lines are `file:line: reason` errors, or skipped and counted. */
export async function readMcBenchmark(file: string, shape: McShape, fields: McFieldNames, skipInvalid: boolean): Promise<{ items: McItem[]; skipped: number; invalid: InvalidLine[] }> {
  const text = await fsp.readFile(file, 'utf8');
  const { records, skipped, invalid } = parseJsonl(text, file, (o, line) => mcItemFrom(shape, o, line, fields), { skipInvalid });
  const ids = new Set<string>();
  const items = records.map((it) => {
    // Duplicate ids would merge items in the split; the line number keeps them apart.
    const id = ids.has(it.id) ? `${it.id}@${it.line}` : it.id;
    ids.add(id);
    return { ...it, id };
  });
  return { items, skipped, invalid };
}
