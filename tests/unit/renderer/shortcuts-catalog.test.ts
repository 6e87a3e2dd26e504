import { groupByCategory, portColor, searchSpecs } from '../../../src/renderer/src/editor/catalog';
import { displayKeys, matchShortcut } from '../../../src/renderer/src/editor/shortcuts';
import { SPECS } from '../server/fake-engine';

const key = (k: string, mods: Partial<{ ctrl: boolean; meta: boolean; shift: boolean; alt: boolean }> = {}, code?: string) => ({
  key: k,
  code,
  ctrlKey: !!mods.ctrl,
  metaKey: !!mods.meta,
  shiftKey: !!mods.shift,
  altKey: !!mods.alt,
});

describe('shortcuts', () => {
  const pc = { isMac: false, inTextField: false };
  test('Mod is Ctrl on Linux/Windows and Cmd on macOS', () => {
    expect(matchShortcut(key('z', { ctrl: true }, 'KeyZ'), pc)).toBe('undo');
    expect(matchShortcut(key('Z', { ctrl: true, shift: true }, 'KeyZ'), pc)).toBe('redo');
    expect(matchShortcut(key('y', { ctrl: true }, 'KeyY'), pc)).toBe('redo');
    expect(matchShortcut(key('z', { meta: true }, 'KeyZ'), { isMac: true, inTextField: false })).toBe('undo');
    expect(matchShortcut(key('z', { meta: true }, 'KeyZ'), pc)).toBeNull();
  });
  test('plain keys and shifted characters', () => {
    expect(matchShortcut(key('Delete'), pc)).toBe('delete');
    expect(matchShortcut(key('/', {}, 'Slash'), pc)).toBe('quickAdd');
    expect(matchShortcut(key('?', { shift: true }, 'Slash'), pc)).toBe('help');
    expect(matchShortcut(key('!', { shift: true }, 'Digit1'), pc)).toBe('fitView');
    expect(matchShortcut(key('Enter', { ctrl: true }), pc)).toBe('run');
    expect(matchShortcut(key('Enter', { ctrl: true, shift: true }), pc)).toBe('runToHere');
  });
  test('in a text field only the global ones fire', () => {
    const tf = { isMac: false, inTextField: true };
    expect(matchShortcut(key('z', { ctrl: true }, 'KeyZ'), tf)).toBeNull();
    expect(matchShortcut(key('Delete'), tf)).toBeNull();
    expect(matchShortcut(key('s', { ctrl: true }, 'KeyS'), tf)).toBe('save');
  });
  test('display', () => {
    expect(displayKeys('Shift+Mod+Z', false)).toBe('Shift+Ctrl+Z');
    expect(displayKeys('Shift+Mod+Z', true)).toBe('⇧⌘Z');
  });
});

describe('catalogue', () => {
  test('groups in category order', () => {
    expect(groupByCategory(SPECS).map((g) => [g.category, g.specs.map((s) => s.type)])).toEqual([
      ['model', ['Load']],
      ['data', ['Dataset']],
      ['loram', ['Prune', 'Align', 'Quantize', 'LoRA-Train', 'Recover']],
      ['evaluate', ['Evaluate', 'Compare']],
      ['output', ['Export']],
    ]);
  });
  test('search: title and type prefixes first, then docs', () => {
    expect(searchSpecs(SPECS, 'pru')[0]!.type).toBe('Prune');
    expect(searchSpecs(SPECS, 'lora')[0]!.type).toBe('LoRA-Train');
    expect(searchSpecs(SPECS, 'loratrain')[0]!.type).toBe('LoRA-Train');
    expect(searchSpecs(SPECS, 'eval').map((s) => s.type)[0]).toBe('Evaluate');
    expect(searchSpecs(SPECS, 'nf4').map((s) => s.type)).toContain('Quantize');
    expect(searchSpecs(SPECS, 'zzzz')).toEqual([]);
    expect(searchSpecs(SPECS, '')).toHaveLength(SPECS.length);
  });
  test('port colours', () => {
    expect(portColor('model')).not.toBe(portColor('dataset'));
    expect(portColor('whatever')).toBe('#8a93a3');
  });
});
