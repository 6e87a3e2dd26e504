/** Instruction JSONL: formats detected or chosen, fields mapped, ShareGPT shapes, broken lines → file:line or skipped and counted. */
import { parseInstructJsonl, detectInstructFormat } from '../../../src/loram/data/instruct-records';

const F = '/data/x.jsonl';
const j = (o: unknown) => JSON.stringify(o);

describe('formats', () => {
  test('prompt/completion, Alpaca, OpenAI chat and ShareGPT are detected and read into one form', () => {
    expect(parseInstructJsonl(j({ prompt: 'P', completion: ' C' }), F, { format: 'auto' })).toMatchObject({ format: 'prompt-completion', records: [{ id: '1', kind: 'completion', prompt: 'P', completion: ' C' }] });
    expect(parseInstructJsonl(j({ instruction: 'Sum', input: '2 2', output: '4' }), F, { format: 'auto' }).records[0]).toEqual({
      id: '1',
      kind: 'chat',
      messages: [
        { role: 'user', content: 'Sum\n\n2 2' },
        { role: 'assistant', content: '4' },
      ],
    });
    const chat = [{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }];
    expect(parseInstructJsonl(j({ id: 'c1', messages: chat }), F, { format: 'auto' })).toMatchObject({ format: 'chat', records: [{ id: 'c1', messages: chat }] });
    const sharegpt = { conversations: [{ from: 'human', value: 'U' }, { from: 'gpt', value: 'A' }] };
    expect(parseInstructJsonl(j(sharegpt), F, { format: 'auto' }).records[0]).toMatchObject({ messages: [{ role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }] });
  });

  test('field mapping renames what a format reads', () => {
    const r = parseInstructJsonl(j({ question: 'Q', answer: 'A' }), F, { format: 'prompt-completion', fields: { prompt: 'question', completion: 'answer' } });
    expect(r.records[0]).toMatchObject({ prompt: 'Q', completion: 'A' });
    expect(detectInstructFormat({ turns: [] }, { messages: 'turns' })).toBe('chat');
    const c = parseInstructJsonl(j({ turns: [{ speaker: 'user', text: 'U' }, { speaker: 'assistant', text: 'A' }] }), F, { format: 'auto', fields: { messages: 'turns', role: 'speaker', content: 'text' } });
    expect(c.records[0]).toMatchObject({ messages: [{ role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }] });
  });

  test('an unknown shape says which fields it looked for, with file:line', () => {
    expect(() => parseInstructJsonl(['', j({ text: 'plain' })].join('\n'), F, { format: 'auto' })).toThrow('/data/x.jsonl:2: cannot tell the format: expected "messages"/"conversations" (chat), "instruction" + "output" (Alpaca) or "prompt" + "completion"; found "text"');
  });
});

describe('broken lines in every format', () => {
  const cases: [string, string[], RegExp][] = [
    ['prompt-completion', [j({ prompt: 'P', completion: 'C' }), '{"prompt": "P", "completion"', j({ prompt: 'P' })], /^\/data\/x\.jsonl:2: invalid JSON/],
    ['prompt-completion', [j({ prompt: 'P', completion: 'C' }), j({ prompt: 'P' })], /^\/data\/x\.jsonl:2: missing field "completion"$/],
    ['alpaca', [j({ instruction: 'I', output: 'O' }), j({ instruction: 'I', output: 3 })], /^\/data\/x\.jsonl:2: field "output" must be a string, got number$/],
    ['chat', [j({ messages: [{ role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }] }), j({ messages: [{ role: 'wizard', content: 'U' }] })], /^\/data\/x\.jsonl:2: message 0: unknown role "wizard"/],
    ['chat', [j({ messages: [{ role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }] }), j({ messages: [{ role: 'user', content: 'U' }] })], /^\/data\/x\.jsonl:2: field "messages" has no assistant message to learn from$/],
  ];
  test.each(cases)('%s: %s', (format, lines, error) => {
    expect(() => parseInstructJsonl(lines.join('\n'), F, { format: 'auto' })).toThrow(error);
    expect(parseInstructJsonl(lines.join('\n'), F, { format: format as 'chat', skipInvalid: true })).toMatchObject({ skipped: lines.length - 1, records: [{ id: '1' }] });
  });
});
