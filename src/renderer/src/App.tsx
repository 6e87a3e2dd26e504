import { ReactFlowProvider } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import { BottomPanel, type BottomTab } from './components/BottomPanel';
import { Canvas, type CanvasApi, type Selection } from './components/Canvas';
import { ConfirmDiscard, FileDialog, ShortcutsHelp } from './components/Dialogs';
import { Icon } from './components/Icon';
import { Inspector } from './components/Inspector';
import { Palette } from './components/Palette';
import { QuickAdd } from './components/QuickAdd';
import { Toolbar } from './components/Toolbar';
import { clipboardFromText, clipboardToText } from './editor/clipboard';
import { basename, type EditorController, type Notice } from './editor/controller';
import { matchShortcut, type Action } from './editor/shortcuts';
import { isMac, useEditor, usePersistentState, useTheme } from './hooks';

type Pending = { action: string; proceed: () => void } | null;
type FileDialogState = { mode: 'open' | 'save' } | null;

const EMPTY_SELECTION: Selection = { nodes: [], edges: [] };

function isTextTarget(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT';
}

/** Errors, refusals and successes as toasts at the top of the canvas; plain info (undo, copy…) on a status line. */
function Toasts({ notice }: { notice: Notice | null }) {
  const [list, setList] = useState<Notice[]>([]);
  const [status, setStatus] = useState<Notice | null>(null);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  useEffect(() => {
    if (!notice) return;
    const later = (ms: number, f: () => void) => {
      const t = setTimeout(() => {
        timers.current.delete(t);
        f();
      }, ms);
      timers.current.add(t);
    };
    if (notice.kind === 'info') {
      setStatus(notice);
      later(2500, () => setStatus((s) => (s?.seq === notice.seq ? null : s)));
      return;
    }
    setList((l) => [...l.filter((n) => n.text !== notice.text), notice].slice(-3));
    later(notice.kind === 'success' ? 3000 : 7000, () => setList((l) => l.filter((n) => n.seq !== notice.seq)));
  }, [notice]);
  return (
    <>
      <div className="toasts" aria-live="polite">
        {list.map((n) => (
          <div key={n.seq} className={`toast ${n.kind}`} data-testid={`toast-${n.kind}`}>
            {n.kind === 'success' ? <Icon name="check" size={14} /> : <Icon name="warn" size={14} />}
            <span>{n.text}</span>
          </div>
        ))}
      </div>
      {status && (
        <div className="status-line" aria-live="polite" data-testid="status-line">
          {status.text}
        </div>
      )}
    </>
  );
}

export function App({ controller }: { controller: EditorController }) {
  const snap = useEditor(controller);
  const [theme, setTheme] = useTheme();
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [tab, setTab] = usePersistentState<BottomTab>('loram-tab', 'problems');
  const [bottomHeight, setBottomHeight] = usePersistentState('loram-bottom-height', 290);
  const [minimap, setMinimap] = usePersistentState('loram-minimap', true);
  const [paletteCollapsed, setPaletteCollapsed] = usePersistentState('loram-palette-collapsed', false);
  const [quickAdd, setQuickAdd] = useState<{ x: number; y: number } | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [fileDialog, setFileDialog] = useState<FileDialogState>(null);
  const [help, setHelp] = useState(false);
  const canvasApi = useRef<CanvasApi | null>(null);
  const pointer = useRef<{ x: number; y: number } | null>(null);
  const afterSave = useRef<(() => void) | null>(null);
  const snapRef = useRef(snap);
  snapRef.current = snap;
  const selectionRef = useRef(selection);
  selectionRef.current = selection;

  // Keep the selection to nodes/edges that exist (after undo, delete, open).
  useEffect(() => {
    const ids = new Set(snap.doc.nodes.map((n) => n.id));
    const eids = new Set(snap.doc.edges.map((e) => e.id));
    const s = selectionRef.current;
    if (s.nodes.some((n) => !ids.has(n)) || s.edges.some((e) => !eids.has(e))) setSelection({ nodes: s.nodes.filter((n) => ids.has(n)), edges: s.edges.filter((e) => eids.has(e)) });
  }, [snap.doc]);

  // Show the log while a run goes on and the results when it ends.
  const prevRunStatus = useRef(snap.run.status);
  useEffect(() => {
    const prev = prevRunStatus.current;
    prevRunStatus.current = snap.run.status;
    if (snap.historical) return;
    if (snap.run.status === 'running' && prev !== 'running') setTab('log');
    if (prev === 'running' && snap.run.status === 'finished') setTab('results');
  }, [snap.run.status, snap.historical, setTab]);

  // Refused runs: show the problems.
  useEffect(() => {
    if (snap.notice?.kind === 'error' && snap.notice.text.startsWith('Not run:')) setTab('problems');
  }, [snap.notice, setTab]);

  const selectedOne = selection.nodes.length === 1 ? selection.nodes[0]! : null;

  const guardDirty = useCallback((action: string, proceed: () => void) => {
    if (!snapRef.current.dirty) proceed();
    else setPending({ action, proceed });
  }, []);

  const saveAs = useCallback(
    async (then?: () => void) => {
      const s = snapRef.current;
      if (s.host?.shell === 'electron') {
        const p = await controller.host.saveDialog({ defaultPath: s.filePath ?? `${s.host.defaultDir}${s.host.sep}${(s.doc.name || 'recipe').replace(/[^\w.-]+/g, '-')}.json` });
        if (p && (await controller.saveAs(p))) then?.();
        return;
      }
      afterSave.current = then ?? null;
      setFileDialog({ mode: 'save' });
    },
    [controller],
  );

  const save = useCallback(
    async (then?: () => void) => {
      if (snapRef.current.filePath) {
        if (await controller.save()) then?.();
      } else await saveAs(then);
    },
    [controller, saveAs],
  );

  const openFile = useCallback(async () => {
    const s = snapRef.current;
    if (s.host?.shell === 'electron') {
      const p = await controller.host.openDialog({ defaultPath: s.filePath ?? s.host.defaultDir });
      if (p) await controller.open(p);
      return;
    }
    setFileDialog({ mode: 'open' });
  }, [controller]);

  const copy = useCallback(() => {
    const data = controller.copy(selectionRef.current.nodes);
    if (data) {
      void navigator.clipboard?.writeText(clipboardToText(data)).catch(() => undefined);
      controller.notify('info', `Copied ${data.nodes.length} node${data.nodes.length > 1 ? 's' : ''}`);
    }
    return data;
  }, [controller]);

  const paste = useCallback(async () => {
    let data = controller.clipboardData;
    if (!data) {
      const text = await navigator.clipboard?.readText().catch(() => '');
      data = text ? clipboardFromText(text) : null;
    }
    if (!data) return;
    // Paste where the pointer is when it is over the canvas, else next to the originals.
    const p = pointer.current;
    const api = canvasApi.current;
    const at = p && api?.contains(p) ? api.flowPoint(p) : undefined;
    const r = controller.paste(data, at);
    if (r) setSelection({ nodes: r.nodeIds, edges: r.edgeIds });
  }, [controller]);

  const dispatch = useCallback(
    (a: Action | string) => {
      const sel = selectionRef.current;
      switch (a) {
        case 'undo':
          return controller.undo();
        case 'redo':
          return controller.redo();
        case 'copy':
          return void copy();
        case 'cut':
          if (copy()) controller.deleteElements(sel.nodes, sel.edges);
          return;
        case 'paste':
          return void paste();
        case 'duplicate': {
          const r = controller.duplicate(sel.nodes);
          if (r) setSelection({ nodes: r.nodeIds, edges: r.edgeIds });
          return;
        }
        case 'delete':
          if (sel.nodes.length || sel.edges.length) controller.deleteElements(sel.nodes, sel.edges);
          setSelection(EMPTY_SELECTION);
          return;
        case 'group':
          if (sel.nodes.length) controller.groupNodes(sel.nodes);
          else controller.notify('info', 'Select the nodes to group first');
          return;
        case 'ungroup':
          for (const g of new Set(snapRef.current.doc.nodes.filter((n) => sel.nodes.includes(n.id) && n.group).map((n) => n.group!))) controller.ungroup(g);
          return;
        case 'selectAll':
          return setSelection({ nodes: snapRef.current.doc.nodes.map((n) => n.id), edges: snapRef.current.doc.edges.map((e) => e.id) });
        case 'new':
          return guardDirty('start a new recipe', () => {
            controller.newDocument();
            setSelection(EMPTY_SELECTION);
          });
        case 'open':
          return guardDirty('open another recipe', () => void openFile());
        case 'save':
          return void save();
        case 'saveAs':
          return void saveAs();
        case 'run':
          return void controller.run();
        case 'runToHere':
          if (sel.nodes.length === 1) void controller.run(sel.nodes[0]);
          else controller.notify('info', 'Select one node to run up to it');
          return;
        case 'cancel':
          return void controller.cancel();
        case 'quickAdd':
          return setQuickAdd(pointer.current ?? { x: window.innerWidth / 2 - 160, y: window.innerHeight / 3 });
        case 'fitView':
          return canvasApi.current?.fitView();
        case 'toggleMinimap':
          return setMinimap(!minimap);
        case 'toggleTheme':
          return setTheme(theme === 'dark' ? 'light' : 'dark');
        case 'help':
          return setHelp(true);
        case 'requestClose':
          return guardDirty('close the window', () => void controller.host.closeWindow());
        default:
          if (typeof a === 'string' && a.startsWith('openRecent:')) {
            const p = a.slice('openRecent:'.length);
            return guardDirty('open another recipe', () => void controller.open(p));
          }
      }
    },
    [controller, copy, paste, guardDirty, openFile, save, saveAs, minimap, setMinimap, theme, setTheme],
  );

  const modalOpen = !!(pending || fileDialog || help || quickAdd);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (modalOpen) return;
      const a = matchShortcut(e, { isMac, inTextField: isTextTarget(e.target) });
      if (!a) return;
      e.preventDefault();
      dispatch(a);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [dispatch, modalOpen]);

  useEffect(() => controller.host.onCommand((c) => dispatch(c)), [controller, dispatch]);

  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!snapRef.current.dirty || snapRef.current.host?.shell === 'electron') return;
      void controller.autosave();
      e.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [controller]);

  const onAdd = useCallback(
    (type: string) => {
      const p = canvasApi.current?.flowPoint() ?? { x: 0, y: 0 };
      const n = snapRef.current.doc.nodes.length;
      const id = controller.addNode(type, { x: p.x - 110 + (n % 5) * 24, y: p.y - 40 + (n % 5) * 24 });
      if (id) setSelection({ nodes: [id], edges: [] });
    },
    [controller],
  );

  const onReady = useCallback((api: CanvasApi) => {
    canvasApi.current = api;
  }, []);

  const selectNode = useCallback((id: string) => setSelection({ nodes: [id], edges: [] }), []);

  const startResize = (e: ReactMouseEvent) => {
    const y0 = e.clientY;
    const h0 = bottomHeight;
    const move = (m: MouseEvent) => setBottomHeight(Math.max(120, Math.min(window.innerHeight - 200, h0 + (y0 - m.clientY))));
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };

  const docName = useMemo(() => (snap.filePath ? basename(snap.filePath) : snap.doc.name || 'untitled'), [snap.filePath, snap.doc.name]);

  if (snap.phase === 'error') {
    return (
      <div className="fatal">
        <h1>LoRAM Studio could not start</h1>
        <p>{snap.loadError}</p>
        <p className="muted">If you use the web shell, open the exact URL `loram serve` printed (it carries the access token).</p>
      </div>
    );
  }

  return (
    <div className="app" onMouseMove={(e) => (pointer.current = { x: e.clientX, y: e.clientY })}>
      <Toolbar snap={snap} onAction={dispatch} theme={theme} selectedOne={selectedOne} />
      {snap.recovery && (
        <div className="banner" data-testid="recovery-banner">
          <Icon name="history" size={16} />
          <span>
            Unsaved work from {new Date(snap.recovery.savedAt).toLocaleString()}
            {snap.recovery.path ? ` (${basename(snap.recovery.path)})` : ''} was kept in the recovery file.
          </span>
          <button className="btn small primary" onClick={() => guardDirty('restore the recovered work', () => controller.restoreRecovery())}>
            Restore
          </button>
          <button className="btn small" onClick={() => controller.discardRecovery()}>
            Discard
          </button>
        </div>
      )}
      <div className={`workspace${paletteCollapsed ? ' palette-collapsed' : ''}`}>
        <Palette specs={snap.specs} onAdd={onAdd} collapsed={paletteCollapsed} setCollapsed={setPaletteCollapsed} />
        <main className="center" style={{ ['--bottom-h' as string]: `${bottomHeight}px` }}>
          <ReactFlowProvider>
            <Canvas controller={controller} snap={snap} selection={selection} setSelection={setSelection} minimap={minimap} theme={theme} onReady={onReady} onQuickAdd={(p) => setQuickAdd(p)} />
          </ReactFlowProvider>
          <Toasts notice={snap.notice} />
          <div className="splitter" onMouseDown={startResize} title="Drag to resize" />
          <BottomPanel snap={snap} controller={controller} tab={tab} setTab={setTab} onSelectNode={selectNode} height={bottomHeight} />
        </main>
        <Inspector controller={controller} snap={snap} selected={selection.nodes} />
      </div>
      {quickAdd && (
        <QuickAdd
          specs={snap.specs}
          at={quickAdd}
          onClose={() => setQuickAdd(null)}
          onPick={(type) => {
            const p = canvasApi.current?.flowPoint(quickAdd) ?? { x: 0, y: 0 };
            const id = controller.addNode(type, { x: p.x - 20, y: p.y - 20 });
            if (id) setSelection({ nodes: [id], edges: [] });
            setQuickAdd(null);
          }}
        />
      )}
      {pending && (
        <ConfirmDiscard
          name={docName}
          action={pending.action}
          onCancel={() => setPending(null)}
          onDiscard={() => {
            const p = pending;
            setPending(null);
            p.proceed();
          }}
          onSave={() => {
            const p = pending;
            setPending(null);
            void save(p.proceed);
          }}
        />
      )}
      {fileDialog && snap.host && (
        <FileDialog
          host={controller.host}
          mode={fileDialog.mode}
          startDir={snap.filePath ? snap.filePath.replace(/[\\/][^\\/]*$/, '') : snap.host.defaultDir}
          suggestedName={fileDialog.mode === 'save' ? (snap.filePath ? basename(snap.filePath) : `${(snap.doc.name || 'recipe').replace(/[^\w.-]+/g, '-')}.json`) : ''}
          recent={snap.recent}
          onClose={() => {
            afterSave.current = null;
            setFileDialog(null);
          }}
          onPick={(path) => {
            const mode = fileDialog.mode;
            setFileDialog(null);
            if (mode === 'open') void controller.open(path).then((ok) => ok && setSelection(EMPTY_SELECTION));
            else {
              const then = afterSave.current;
              afterSave.current = null;
              void controller.saveAs(path).then((ok) => ok && then?.());
            }
          }}
        />
      )}
      {help && <ShortcutsHelp onClose={() => setHelp(false)} />}
    </div>
  );
}
