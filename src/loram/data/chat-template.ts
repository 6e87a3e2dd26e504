/**
 * Chat templates: a model's `chat_template` from tokenizer_config.json rendered with @huggingface/jinja (the
 * renderer transformers.js uses), or a plain default for a model without one, and the split of a rendered
 * conversation into the text the loss ignores and the text it trains on (each assistant reply and its
 * end-of-turn token), as TRL's completion-only / assistant-only SFT does.
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage, InstructRecord } from './instruct-records';

/** The default for models without a template: "Question: …\nAnswer: …<eos>\n", system text first. */
export const DEFAULT_CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}{{ m.content + '\\n\\n' }}" +
  "{% elif m.role == 'user' %}{{ 'Question: ' + m.content + '\\n' }}{% else %}{{ 'Answer: ' + m.content + eos_token + '\\n' }}{% endif %}" +
  "{% endfor %}{% if add_generation_prompt %}{{ 'Answer:' }}{% endif %}";

export interface ChatTemplate {
  /** "tokenizer_config.json" or "default". */
  readonly source: string;
  render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string;
}

export interface TemplateTokens {
  bosToken: string | null;
  eosToken: string | null;
}

/** tokenizer_config.json's chat_template: a string, or a list of {name, template} (the "default" one is used). */
export function templateFromConfig(config: Record<string, unknown>): string | null {
  const t = config.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x) => x && typeof x === 'object' && (x as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
    if (named && typeof named.template === 'string') return named.template;
  }
  return null;
}

export function chatTemplate(template: string | null, tokens: TemplateTokens): ChatTemplate {
  const source = template === null ? 'default' : 'tokenizer_config.json';
  let compiled: Template;
  try {
    compiled = new Template(template ?? DEFAULT_CHAT_TEMPLATE);
  } catch (e) {
    throw new Error(`the chat template of ${source} does not parse: ${(e as Error).message}`);
  }
  return {
    source,
    render(messages, addGenerationPrompt) {
      // raise_exception is the library's own (it throws with the template's message).
      return compiled.render({
        messages,
        add_generation_prompt: addGenerationPrompt,
        bos_token: tokens.bosToken ?? '',
        eos_token: tokens.eosToken ?? '',
      });
    },
  };
}

/** A piece of rendered text; `train`: the loss covers its tokens. */
export interface Segment {
  text: string;
  train: boolean;
}

const SENTINEL = '\u0000LORAM\u0000';

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Where the reply `msgs[i]` ends in `full`: its content, then the template's text up to the first special token. */
function replyEnd(t: ChatTemplate, msgs: readonly ChatMessage[], i: number, full: string, specials: readonly string[]): number {
  // The content is marked by a sentinel after it; a template that trims the content is matched by the trimmed form.
  for (const content of [msgs[i]!.content, msgs[i]!.content.trimEnd()]) {
    const marked = t.render([...msgs.slice(0, i), { ...msgs[i]!, content: content + SENTINEL }], false);
    const k = marked.indexOf(SENTINEL);
    if (k < 0) throw new Error(`the chat template (${t.source}) does not print the assistant's content`);
    const post = marked.slice(0, k) + marked.slice(k + SENTINEL.length);
    const common = commonPrefix(post, full);
    if (common < k) continue;
    const tail = full.slice(k, common);
    let cut = tail.length;
    for (const s of specials) {
      const j = s ? tail.indexOf(s) : -1;
      if (j >= 0) cut = Math.min(cut, j + s.length);
    }
    return k + cut;
  }
  throw new Error(`the chat template (${t.source}) renders turn ${i} differently inside the whole conversation`);
}

/** The conversation as masked / trained segments whose texts concatenate to its full rendering. */
export function chatSegments(t: ChatTemplate, msgs: readonly ChatMessage[], specials: readonly string[]): Segment[] {
  const full = t.render(msgs, false);
  const out: Segment[] = [];
  let pos = 0;
  msgs.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const pre = t.render(msgs.slice(0, i), true);
    if (!full.startsWith(pre) || pre.length < pos) throw new Error(`the chat template (${t.source}): the generation prompt before turn ${i} is not how the conversation continues`);
    const end = replyEnd(t, msgs, i, full, specials);
    out.push({ text: full.slice(pos, pre.length), train: false }, { text: full.slice(pre.length, end), train: true });
    pos = end;
  });
  out.push({ text: full.slice(pos), train: false });
  return out.filter((s) => s.text.length > 0);
}

/** Segments of any instruction record: prompt/completion records are plain text (BOS, prompt, completion + EOS). */
export function recordSegments(t: ChatTemplate, r: InstructRecord, tokens: TemplateTokens, specials: readonly string[]): Segment[] {
  if (r.kind === 'chat') return chatSegments(t, r.messages, specials);
  return [
    { text: (tokens.bosToken ?? '') + r.prompt, train: false },
    { text: r.completion + (tokens.eosToken ?? ''), train: true },
  ];
}

/** What a model is asked and the gold answer, for generation: everything before the last assistant reply. */
export function promptAndAnswer(t: ChatTemplate, r: InstructRecord, tokens: TemplateTokens, shots: readonly InstructRecord[] = []): { prompt: string; answer: string } {
  if (r.kind === 'completion') {
    const prefix = shots.map((s) => (s.kind === 'completion' ? `${s.prompt}${s.completion}\n\n` : '')).join('');
    return { prompt: (tokens.bosToken ?? '') + prefix + r.prompt, answer: r.completion };
  }
  const last = r.messages.map((m) => m.role).lastIndexOf('assistant');
  const shotTurns = shots.flatMap((s) => (s.kind === 'chat' ? s.messages.filter((m) => m.role !== 'system') : []));
  const system = r.messages.filter((m, i) => m.role === 'system' && i < last);
  const rest = r.messages.slice(0, last).filter((m) => m.role !== 'system');
  return { prompt: t.render([...system, ...shotTurns, ...rest], true), answer: r.messages[last]!.content };
}
