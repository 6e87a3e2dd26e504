import { runCommand, type ActionContext } from '../../../src/renderer/src/app/action-table';
import { parseMenuCommand } from '../../../src/renderer/src/app/commands';
import type { Selection } from '../../../src/renderer/src/components/Canvas';
import { EditorController } from '../../../src/renderer/src/editor/controller';
import { FakeEngine } from '../server/fake-engine';
import { FakeHost } from './fake-host';

async function setup() {
  const c = new EditorController(new FakeEngine(), new FakeHost(), { validateDelayMs: 0, autosaveDelayMs: 0 });
  await c.init();
  let selection: Selection = { nodes: [], edges: [] };
  const calls: string[] = [];
  const ctx: ActionContext = {
    controller: c,
    selection: () => selection,
    setSelection: (s) => void (selection = s),
    guardDirty: (action, proceed) => {
      calls.push(`guard:${action}`);
      proceed();
    },
    openFile: async () => void calls.push('openFile'),
    save: async () => void calls.push('save'),
    saveAs: async () => void calls.push('saveAs'),
    copy: () => c.copy(selection.nodes),
    paste: async () => void calls.push('paste'),
    openQuickAdd: () => void calls.push('quickAdd'),
    fitView: () => void calls.push('fitView'),
    toggleMinimap: () => void calls.push('minimap'),
    toggleTheme: () => void calls.push('theme'),
    showHelp: () => void calls.push('help'),
  };
  return { c, ctx, calls, selected: () => selection };
}

describe('menu commands', () => {
  test('keymap actions, close and open-recent parse into typed commands; anything else is ignored', () => {
    expect(parseMenuCommand('save')).toEqual({ name: 'save' });
    expect(parseMenuCommand('requestClose')).toEqual({ name: 'requestClose' });
    expect(parseMenuCommand('openRecent:/a/b:c.json')).toEqual({ name: 'openRecent', path: '/a/b:c.json' });
    expect(parseMenuCommand('rm -rf')).toBeNull();
  });
});

describe('the action table', () => {
  test('select all, duplicate (selects the copies), cut, delete (clears the selection)', async () => {
    const { c, ctx, selected } = await setup();
    c.addNode('Load', { x: 0, y: 0 });
    c.addNode('Prune', { x: 300, y: 0 });
    runCommand(ctx, { name: 'selectAll' });
    expect(selected().nodes).toEqual(['load1', 'prune1']);
    runCommand(ctx, { name: 'duplicate' });
    expect(selected().nodes).toHaveLength(2);
    expect(selected().nodes).not.toContain('load1');
    runCommand(ctx, { name: 'cut' });
    expect(c.doc.nodes.map((n) => n.id)).toEqual(['load1', 'prune1']);
    expect(c.clipboardData?.nodes).toHaveLength(2);
    ctx.setSelection({ nodes: ['load1'], edges: [] });
    runCommand(ctx, { name: 'delete' });
    expect(c.doc.nodes.map((n) => n.id)).toEqual(['prune1']);
    expect(selected()).toEqual({ nodes: [], edges: [] });
  });

  test('group needs a selection (says so), ungroup takes the selected nodes\' groups', async () => {
    const { c, ctx } = await setup();
    c.addNode('Load', { x: 0, y: 0 });
    runCommand(ctx, { name: 'group' });
    expect(c.getSnapshot().notice?.text).toBe('Select the nodes to group first');
    ctx.setSelection({ nodes: ['load1'], edges: [] });
    runCommand(ctx, { name: 'group' });
    expect(c.doc.nodes[0]!.group).toBe('group1');
    runCommand(ctx, { name: 'ungroup' });
    expect(c.doc.nodes[0]!.group).toBeUndefined();
  });

  test('file commands go through the unsaved-changes guard; view commands reach their toggles', async () => {
    const { ctx, calls } = await setup();
    for (const name of ['new', 'open', 'fitView', 'toggleTheme', 'toggleMinimap', 'help', 'quickAdd', 'save'] as const) runCommand(ctx, { name });
    runCommand(ctx, { name: 'openRecent', path: '/r.json' });
    expect(calls).toEqual(['guard:start a new recipe', 'guard:open another recipe', 'openFile', 'fitView', 'theme', 'minimap', 'help', 'quickAdd', 'save', 'guard:open another recipe']);
  });

  test('run to here needs exactly one selected node', async () => {
    const { c, ctx } = await setup();
    runCommand(ctx, { name: 'runToHere' });
    expect(c.getSnapshot().notice?.text).toBe('Select one node to run up to it');
  });
});
