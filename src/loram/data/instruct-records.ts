/**
 * Instruction data: JSONL records in the shapes people bring, read into one form.
 *
 * - prompt/completion  {"prompt": "…", "completion": "…"}                       → kind "completion"
 * - Alpaca             {"instruction": "…", "input": "…", "output": "…"}        → kind "chat" (user, assistant)
 * - chat               {"messages": [{"role": "user", "content": "…"}, …]}      → kind "chat"
 *                      ShareGPT: {"conversations": [{"from": "human", "value": "…"}, …]}
 *
 * `format: "auto"` decides from the first JSON object of the file. `fields` renames the fields a format reads
 * (e.g. {"prompt": "question", "completion": "answer"}). A malformed line is an error naming the file and the
 * 1-based line — or, with `skipInvalid`, skipped and counted — through the same JSONL reader as the text loader.
 */
import { parseJsonl, type InvalidLine } from '../eval/datasets';

export const INSTRUCT_FORMATS = ['prompt-completion', 'alpaca', 'chat'] as const;
export type InstructFormat = (typeof INSTRUCT_FORMATS)[number];
export const FIELD_KEYS = ['prompt', 'completion', 'instruction', 'input', 'output', 'system', 'messages', 'role', 'content'] as const;
export type FieldKey = (typeof FIELD_KEYS)[number];
export type FieldMap = Partial<Record<FieldKey, string>>;

export type ChatRole = 'system' | 'user' | 'assistant';
export interface ChatMessage {
  role: ChatRole;
  content: string;
}
export type InstructRecord = { id: string; kind: 'completion'; prompt: string; completion: string } | { id: string; kind: 'chat'; messages: ChatMessage[] };

const ROLE_ALIASES: Record<string, ChatRole> = { system: 'system', user: 'user', human: 'user', assistant: 'assistant', gpt: 'assistant', model: 'assistant', bot: 'assistant' };

function field(o: Record<string, unknown>, fields: FieldMap, key: FieldKey, fallbacks: readonly string[] = []): { name: string; value: unknown } {
  const names = fields[key] ? [fields[key]] : [key, ...fallbacks];
  for (const name of names) if (name in o) return { name, value: o[name] };
  return { name: names[0]!, value: undefined };
}

function str(o: Record<string, unknown>, fields: FieldMap, key: FieldKey, opts: { optional?: boolean; fallbacks?: string[] } = {}): string {
  const { name, value } = field(o, fields, key, opts.fallbacks);
  if (value === undefined && opts.optional) return '';
  if (value === undefined) throw new Error(`missing field "${name}"`);
  if (typeof value !== 'string') throw new Error(`field "${name}" must be a string, got ${typeof value}`);
  if (!opts.optional && value.trim() === '') throw new Error(`field "${name}" is empty`);
  return value;
}

/** The format a record has, from its fields (null when it has none of the known shapes). */
export function detectInstructFormat(o: Record<string, unknown>, fields: FieldMap = {}): InstructFormat | null {
  if (field(o, fields, 'messages', ['conversations']).value !== undefined) return 'chat';
  if (field(o, fields, 'instruction').value !== undefined && field(o, fields, 'output').value !== undefined) return 'alpaca';
  if (field(o, fields, 'prompt').value !== undefined && field(o, fields, 'completion').value !== undefined) return 'prompt-completion';
  return null;
}

function chatMessage(m: unknown, i: number, fields: FieldMap): ChatMessage {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new Error(`message ${i} must be an object`);
  const o = m as Record<string, unknown>;
  const role = str(o, fields, 'role', { fallbacks: ['from'] });
  const mapped = ROLE_ALIASES[role.toLowerCase()];
  if (!mapped) throw new Error(`message ${i}: unknown role "${role}" (expected system, user/human or assistant/gpt)`);
  const content = field(o, fields, 'content', ['value']);
  if (typeof content.value !== 'string') throw new Error(`message ${i}: field "${content.name}" must be a string, got ${typeof content.value}`);
  return { role: mapped, content: content.value };
}

function chatRecord(o: Record<string, unknown>, fields: FieldMap): ChatMessage[] {
  const { name, value } = field(o, fields, 'messages', ['conversations']);
  if (!Array.isArray(value)) throw new Error(`field "${name}" must be an array of messages`);
  const messages = value.map((m, i) => chatMessage(m, i, fields));
  if (!messages.some((m) => m.role === 'assistant')) throw new Error(`field "${name}" has no assistant message to learn from`);
  return messages;
}

/** One record of a known format, validated (throws with the reason). */
export function instructRecord(o: Record<string, unknown>, format: InstructFormat, fields: FieldMap, id: string): InstructRecord {
  if (format === 'prompt-completion') return { id, kind: 'completion', prompt: str(o, fields, 'prompt'), completion: str(o, fields, 'completion') };
  if (format === 'chat') return { id, kind: 'chat', messages: chatRecord(o, fields) };
  const instruction = str(o, fields, 'instruction');
  const input = str(o, fields, 'input', { optional: true });
  const system = str(o, fields, 'system', { optional: true });
  const user = input.trim() ? `${instruction}\n\n${input}` : instruction;
  const messages: ChatMessage[] = [...(system.trim() ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: user }, { role: 'assistant', content: str(o, fields, 'output') }];
  return { id, kind: 'chat', messages };
}

export interface InstructFile {
  format: InstructFormat;
  records: InstructRecord[];
  skipped: number;
  invalid: InvalidLine[];
}

/** Parse a JSONL file's text; `format` "auto" detects it from the first JSON object. */
export function parseInstructJsonl(text: string, file: string, opts: { format: InstructFormat | 'auto'; fields?: FieldMap; skipInvalid?: boolean; idPrefix?: string }): InstructFile {
  const fields = opts.fields ?? {};
  const format = opts.format === 'auto' ? detectFileFormat(text, file, fields) : opts.format;
  const { records, skipped, invalid } = parseJsonl(
    text,
    file,
    (o, line) => {
      const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : String(line);
      return instructRecord(o, format, fields, `${opts.idPrefix ?? ''}${id}`);
    },
    { skipInvalid: opts.skipInvalid },
  );
  return { format, records, skipped, invalid };
}

function detectFileFormat(text: string, file: string, fields: FieldMap): InstructFormat {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let o: unknown;
    try {
      o = JSON.parse(lines[i]!);
    } catch {
      continue;
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) continue;
    const f = detectInstructFormat(o as Record<string, unknown>, fields);
    if (f) return f;
    throw new Error(`${file}:${i + 1}: cannot tell the format: expected "messages"/"conversations" (chat), "instruction" + "output" (Alpaca) or "prompt" + "completion"; found ${Object.keys(o).map((k) => `"${k}"`).join(', ') || 'no fields'}`);
  }
  throw new Error(`${file}: no JSON object to detect the format from`);
}
