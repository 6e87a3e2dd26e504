/**
 * The App's actions as a table: one entry per command, each a small function of what it needs (the controller, the
 * selection, the file and clipboard actions, the view toggles). The toolbar, the keyboard and the shell's menu all
 * go through `runCommand`, so an action behaves the same wherever it is asked for.
 */
import type { Selection } from '../components/Canvas';
import type { EditorController } from '../editor/controller';
import type { AppCommand } from './commands';

export const EMPTY_SELECTION: Selection = { nodes: [], edges: [] };

export interface ActionContext {
  controller: EditorController;
  selection(): Selection;
  setSelection(s: Selection): void;
  /** Run `proceed` now, or after asking about unsaved changes. */
  guardDirty(action: string, proceed: () => void): void;
  openFile(): Promise<void>;
  save(): Promise<void>;
  saveAs(): Promise<void>;
  copy(): unknown;
  paste(): Promise<void>;
  openQuickAdd(): void;
  fitView(): void;
  toggleMinimap(): void;
  toggleTheme(): void;
  showHelp(): void;
}

type Handler = (ctx: ActionContext) => void;

const selectPasted = (ctx: ActionContext, r: { nodeIds: string[]; edgeIds: string[] } | null) => r && ctx.setSelection({ nodes: r.nodeIds, edges: r.edgeIds });

function deleteSelection(ctx: ActionContext): void {
  const sel = ctx.selection();
  if (sel.nodes.length || sel.edges.length) ctx.controller.deleteElements(sel.nodes, sel.edges);
  ctx.setSelection(EMPTY_SELECTION);
}

function groupSelection(ctx: ActionContext): void {
  const nodes = ctx.selection().nodes;
  if (nodes.length) ctx.controller.groupNodes(nodes);
  else ctx.controller.notify('info', 'Select the nodes to group first');
}

function ungroupSelection(ctx: ActionContext): void {
  const nodes = ctx.selection().nodes;
  const groups = new Set(ctx.controller.doc.nodes.filter((n) => nodes.includes(n.id) && n.group).map((n) => n.group!));
  for (const g of groups) ctx.controller.ungroup(g);
}

function selectAll(ctx: ActionContext): void {
  const doc = ctx.controller.doc;
  ctx.setSelection({ nodes: doc.nodes.map((n) => n.id), edges: doc.edges.map((e) => e.id) });
}

function runToSelected(ctx: ActionContext): void {
  const nodes = ctx.selection().nodes;
  if (nodes.length === 1) void ctx.controller.run(nodes[0]);
  else ctx.controller.notify('info', 'Select one node to run up to it');
}

const ACTIONS: Record<Exclude<AppCommand['name'], 'openRecent'>, Handler> = {
  undo: (ctx) => ctx.controller.undo(),
  redo: (ctx) => ctx.controller.redo(),
  copy: (ctx) => void ctx.copy(),
  cut: (ctx) => {
    const sel = ctx.selection();
    if (ctx.copy()) ctx.controller.deleteElements(sel.nodes, sel.edges);
  },
  paste: (ctx) => void ctx.paste(),
  duplicate: (ctx) => void selectPasted(ctx, ctx.controller.duplicate(ctx.selection().nodes)),
  delete: deleteSelection,
  group: groupSelection,
  ungroup: ungroupSelection,
  selectAll,
  new: (ctx) =>
    ctx.guardDirty('start a new recipe', () => {
      ctx.controller.newDocument();
      ctx.setSelection(EMPTY_SELECTION);
    }),
  open: (ctx) => ctx.guardDirty('open another recipe', () => void ctx.openFile()),
  save: (ctx) => void ctx.save(),
  saveAs: (ctx) => void ctx.saveAs(),
  run: (ctx) => void ctx.controller.run(),
  runToHere: runToSelected,
  cancel: (ctx) => void ctx.controller.cancel(),
  quickAdd: (ctx) => ctx.openQuickAdd(),
  fitView: (ctx) => ctx.fitView(),
  toggleMinimap: (ctx) => ctx.toggleMinimap(),
  toggleTheme: (ctx) => ctx.toggleTheme(),
  help: (ctx) => ctx.showHelp(),
  requestClose: (ctx) => ctx.guardDirty('close the window', () => void ctx.controller.host.closeWindow()),
};

export function runCommand(ctx: ActionContext, command: AppCommand): void {
  if (command.name === 'openRecent') {
    const path = command.path;
    ctx.guardDirty('open another recipe', () => void ctx.controller.open(path));
    return;
  }
  ACTIONS[command.name](ctx);
}
