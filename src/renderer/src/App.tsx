/**
 * The editor's window: a composition of hooks (selection, file actions, commands, splitter, window events) around the
 * toolbar, palette, canvas, bottom panel and inspector. Every command goes through app/action-table.ts.
 */
import { ReactFlowProvider } from '@xyflow/react';
import { useCallback, useRef } from 'react';
import { EMPTY_SELECTION } from './app/action-table';
import { AppModals, type ModalState } from './app/AppModals';
import { useAppCommands } from './app/use-app-commands';
import { useFileActions } from './app/use-file-actions';
import { useSelection } from './app/use-selection';
import { useSplitter } from './app/use-splitter';
import { useTabFollowsRun } from './app/use-tab-follows-run';
import { useMenuCommands, useRecoveryOnUnload, useShortcuts } from './app/use-window-events';
import { BottomPanel, type BottomTab } from './components/BottomPanel';
import { Canvas, type CanvasApi } from './components/Canvas';
import { Inspector } from './components/Inspector';
import { Palette } from './components/Palette';
import { RecoveryBanner } from './components/RecoveryBanner';
import { ServerDownBanner } from './components/ServerDownBanner';
import { Toasts } from './components/Toasts';
import { Toolbar } from './components/Toolbar';
import type { EditorController } from './editor/controller';
import type { Action } from './editor/shortcuts';
import { useEditor, usePersistentState, useTheme } from './hooks';

type Point = { x: number; y: number };

function FatalError({ message }: { message: string | null }) {
  return (
    <div className="fatal">
      <h1>LoRAM Studio could not start</h1>
      <p>{message}</p>
      <p className="muted">If you use the web shell, open the exact URL `loram serve` printed (it carries the access token).</p>
    </div>
  );
}

export function App({ controller }: { controller: EditorController }) {
  const snap = useEditor(controller);
  const snapRef = useRef(snap);
  snapRef.current = snap;
  const snapshot = useRef(() => snapRef.current).current;
  const [theme, setTheme] = useTheme();
  const [tab, setTab] = usePersistentState<BottomTab>('loram-tab', 'problems');
  const [minimap, setMinimap] = usePersistentState('loram-minimap', true);
  const [paletteCollapsed, setPaletteCollapsed] = usePersistentState('loram-palette-collapsed', false);
  const splitter = useSplitter();
  const sel = useSelection(snap.doc);
  const files = useFileActions(controller, snapshot);
  const canvas = useRef<CanvasApi | null>(null);
  const pointer = useRef<Point | null>(null);
  const commands = useAppCommands(controller, sel, files, { minimap, setMinimap, theme, setTheme }, { pointer, canvas });
  const modalOpen = !!(files.pending || files.fileDialog || commands.help || commands.quickAdd);
  useShortcuts(commands.run, modalOpen);
  useMenuCommands(controller, commands.run);
  useRecoveryOnUnload(controller, snapshot);
  useTabFollowsRun(snap, setTab);

  const { setSelection } = sel;
  const addNodeAt = useCallback(
    (type: string, at: Point) => {
      const id = controller.addNode(type, at);
      if (id) setSelection({ nodes: [id], edges: [] });
    },
    [controller, setSelection],
  );
  // Palette clicks add at the canvas centre, fanned out so repeated adds do not stack.
  const onAdd = useCallback(
    (type: string) => {
      const p = canvas.current?.flowPoint() ?? { x: 0, y: 0 };
      const n = snapRef.current.doc.nodes.length;
      addNodeAt(type, { x: p.x - 110 + (n % 5) * 24, y: p.y - 40 + (n % 5) * 24 });
    },
    [addNodeAt],
  );
  const onReady = useCallback((api: CanvasApi) => void (canvas.current = api), []);
  const selectNode = useCallback((id: string) => setSelection({ nodes: [id], edges: [] }), [setSelection]);
  const onAction = useCallback((a: Action) => commands.run({ name: a }), [commands.run]);

  if (snap.phase === 'error') return <FatalError message={snap.loadError} />;

  const modal: ModalState = {
    quickAdd: commands.quickAdd,
    closeQuickAdd: () => commands.setQuickAdd(null),
    addAt: (type, at) => {
      const p = canvas.current?.flowPoint(at) ?? { x: 0, y: 0 };
      addNodeAt(type, { x: p.x - 20, y: p.y - 20 });
      commands.setQuickAdd(null);
    },
    help: commands.help,
    closeHelp: () => commands.setHelp(false),
    onOpened: () => setSelection(EMPTY_SELECTION),
  };
  const selectedOne = sel.selection.nodes.length === 1 ? sel.selection.nodes[0]! : null;
  return (
    <div className="app" onMouseMove={(e) => (pointer.current = { x: e.clientX, y: e.clientY })}>
      <Toolbar snap={snap} onAction={onAction} onRunTarget={(t) => controller.setRunTarget(t)} theme={theme} selectedOne={selectedOne} />
      {snap.serverDown && <ServerDownBanner snap={snap} />}
      {snap.recovery && <RecoveryBanner recovery={snap.recovery} onRestore={() => files.guardDirty('restore the recovered work', () => controller.restoreRecovery())} onDiscard={() => controller.discardRecovery()} />}
      <div className={`workspace${paletteCollapsed ? ' palette-collapsed' : ''}`}>
        <Palette specs={snap.specs} onAdd={onAdd} collapsed={paletteCollapsed} setCollapsed={setPaletteCollapsed} />
        <main className="center" style={{ ['--bottom-h' as string]: `${splitter.height}px` }}>
          <ReactFlowProvider>
            <Canvas controller={controller} snap={snap} selection={sel.selection} setSelection={setSelection} minimap={minimap} theme={theme} onReady={onReady} onQuickAdd={commands.setQuickAdd} />
          </ReactFlowProvider>
          <Toasts notice={snap.notice} />
          <div className="splitter" onMouseDown={splitter.startResize} title="Drag to resize" />
          <BottomPanel snap={snap} controller={controller} tab={tab} setTab={setTab} onSelectNode={selectNode} height={splitter.height} />
        </main>
        <Inspector controller={controller} snap={snap} selected={sel.selection.nodes} />
      </div>
      <AppModals snap={snap} controller={controller} files={files} modal={modal} />
    </div>
  );
}
