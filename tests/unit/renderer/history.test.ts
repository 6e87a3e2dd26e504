import { History } from '../../../src/renderer/src/editor/history';

describe('History', () => {
  test('one commit is one undo step; undo/redo walk back and forth', () => {
    const h = new History({ v: 0 });
    const a = { v: 1 };
    const b = { v: 2 };
    h.commit(a, { label: 'A' });
    h.commit(b, { label: 'B' });
    expect(h.undoLabel).toBe('B');
    expect(h.undo()).toBe('B');
    expect(h.present).toBe(a);
    expect(h.undo()).toBe('A');
    expect(h.present).toEqual({ v: 0 });
    expect(h.undo()).toBeNull();
    expect(h.redo()).toBe('A');
    expect(h.redo()).toBe('B');
    expect(h.present).toBe(b);
    expect(h.canRedo).toBe(false);
  });

  test('committing the present records nothing', () => {
    const s = { v: 0 };
    const h = new History(s);
    expect(h.commit(s)).toBe(false);
    expect(h.canUndo).toBe(false);
  });

  test('a stream of edits with the same coalesce key is one step until sealed', () => {
    const h = new History('');
    for (const t of ['0', '0.', '0.2', '0.25']) h.commit(t, { label: 'Edit ratio', coalesce: 'p:ratio' });
    expect(h.depth.past).toBe(1);
    h.seal();
    h.commit('0.3', { label: 'Edit ratio', coalesce: 'p:ratio' });
    expect(h.depth.past).toBe(2);
    h.undo();
    expect(h.present).toBe('0.25');
    h.undo();
    expect(h.present).toBe('');
  });

  test('a different key, or an undo, ends the stream', () => {
    const h = new History(0);
    h.commit(1, { coalesce: 'a' });
    h.commit(2, { coalesce: 'b' });
    h.commit(3, { coalesce: 'b' });
    expect(h.depth.past).toBe(2);
    h.undo();
    expect(h.present).toBe(1);
    h.commit(5, { coalesce: 'a' });
    expect(h.depth.past).toBe(2);
    expect(h.canRedo).toBe(false);
  });

  test('a new commit drops the redo stack; the limit bounds the past', () => {
    const h = new History(0, 3);
    for (let i = 1; i <= 5; i++) h.commit(i);
    expect(h.depth.past).toBe(3);
    h.undo();
    h.commit(9);
    expect(h.canRedo).toBe(false);
    h.reset(42);
    expect(h.canUndo).toBe(false);
    expect(h.present).toBe(42);
  });
});
