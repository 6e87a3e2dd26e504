import { memo, useCallback, useEffect, useMemo, useRef, type ReactNode } from 'react';
import type { MetricsFile, Recipe, ValidationError } from '../../../shared';
import type { EditorController, EditorSnapshot } from '../editor/controller';
import { nodeName } from '../editor/document';
import { branchCopies } from '../editor/branches';
import { CompareVerdict, VerdictSummary } from './CompareVerdict';
import { compareView, evaluationRows, locationKey, lossSeries, memoryRows, metricsOutputs, nodeScalars } from '../editor/results';
import { formatDuration, formatMetric, type LogEntry } from '../editor/run-state';
import { runPlace, showsWorkers } from '../editor/run-target';
import { LineOverlay } from './charts/LineOverlay';
import { RankedBars } from './charts/RankedBars';
import { Icon } from './Icon';
import { StoreBar } from './StoreBar';

export type BottomTab = 'problems' | 'log' | 'results' | 'compare' | 'runs';

function Problems({ snap, onSelect }: { snap: EditorSnapshot; onSelect: (node: string) => void }) {
  const all: ValidationError[] = [...snap.fileErrors.filter((f) => !snap.errors.some((e) => e.message === f.message)), ...snap.errors];
  if (!all.length)
    return (
      <div className="empty">
        <Icon name="check" /> No problems{snap.validating ? ' (checking…)' : ''}.
      </div>
    );
  return (
    <table className="grid problems" data-testid="problems">
      <thead>
        <tr>
          <th>Node</th>
          <th>Field</th>
          <th>Problem</th>
          <th>Code</th>
        </tr>
      </thead>
      <tbody>
        {all.map((e, i) => (
          <tr key={i} className={e.node ? 'clickable' : ''} onClick={() => e.node && onSelect(e.node)}>
            <td>{e.node ? nodeName(snap.doc.nodes.find((n) => n.id === e.node) ?? { id: e.node }) : '(recipe)'}</td>
            <td>
              <code>{e.field ?? ''}</code>
            </td>
            <td>{e.message}</td>
            <td className="muted">{e.code}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One line, rendered once: a long log does not re-render every line when one is added. */
const LogLine = memo(function LogLine({ line }: { line: LogEntry }) {
  return (
    <div className={`log-line ${line.level}`}>
      <span className="log-time">{new Date(line.time).toLocaleTimeString()}</span>
      <span className="log-msg">{line.message}</span>
    </div>
  );
});

function Log({ snap }: { snap: EditorSnapshot }) {
  const end = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    if (stick.current) end.current?.scrollIntoView({ block: 'end' });
  }, [snap.log.length]);
  if (!snap.log.length) return <div className="empty">Nothing logged yet. Run the recipe to see what each node does.</div>;
  return (
    <div
      className="log"
      ref={box}
      data-testid="log"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      }}
    >
      {snap.log.map((l) => (
        <LogLine key={l.seq} line={l} />
      ))}
      <div ref={end} />
    </div>
  );
}

/** Past this many branches a chart card takes the whole row, so branch names fit beside their bars. */
const WIDE_AT = 12;

function Card({ title, children, note, wide }: { title: string; children: ReactNode; note?: string; wide?: boolean }) {
  return (
    <section className={`result-card${wide ? ' wide' : ''}`}>
      <header>
        <h4>{title}</h4>
        {note && <span className="muted">{note}</span>}
      </header>
      {children}
    </section>
  );
}

/** Perplexity, then accuracy (multiple choice) and exact match (a generation task) when some node reports them. */
function EvaluationCards({ evals }: { evals: ReturnType<typeof evaluationRows> }) {
  const wide = evals.rows.length > WIDE_AT;
  return (
    <>
      <Card title="Perplexity" wide={wide} note={evals.perplexityKeys.length ? 'held-out, lower is better' : 'no evaluation yet'}>
        {evals.perplexityKeys.length ? <RankedBars rows={evals.rows} keys={evals.perplexityKeys} testId="ppl-chart" /> : <div className="chart-empty">—</div>}
      </Card>
      {evals.accuracyKeys.length > 0 && (
        <Card title="Accuracy" wide={wide} note="multiple choice, higher is better">
          <RankedBars rows={evals.rows} keys={evals.accuracyKeys} testId="acc-chart" />
        </Card>
      )}
      {evals.exactMatchKeys.length > 0 && (
        <Card title="Exact match" wide={wide} note="generation task, higher is better">
          <RankedBars rows={evals.rows} keys={evals.exactMatchKeys} lowerIsBetter={false} testId="em-chart" />
        </Card>
      )}
    </>
  );
}

/**
 * Measured next to planned training memory, for the same runtime: a bar's tooltip says what its figure includes;
 * a node whose two figures are more than 10% apart (or are for different runtimes) gets a warning line.
 */
function MemoryCard({ mem }: { mem: ReturnType<typeof memoryRows> }) {
  const footer = useCallback((key: string, label: string) => mem.includes[label]?.[key as 'planned' | 'measured'], [mem]);
  return (
    <Card title="Memory" wide={mem.rows.length > WIDE_AT} note={mem.keys.length ? 'MiB · measured next to planned, same runtime (hover a bar: what it includes)' : 'no memory figures yet'}>
      {mem.keys.length ? <RankedBars rows={mem.rows} keys={mem.keys} unit=" MiB" testId="mem-chart" footer={footer} /> : <div className="chart-empty">—</div>}
      {mem.notes.length > 0 && (
        <ul className="mem-notes" data-testid="mem-notes">
          {mem.notes.map((n) => (
            <li key={n.node} className={`mem-note ${n.kind}`} title={Object.values(mem.includes[n.label] ?? {}).join('\n')}>
              {n.kind === 'gap' ? '⚠ ' : ''}
              <b>{n.label}</b>: {n.text}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function Results({ snap, controller, onOpenCompare }: { snap: EditorSnapshot; controller: EditorController; onOpenCompare: () => void }) {
  const run = snap.run;
  // The expanded recipe names every branch ("eval · Stru"); without sweeps it is the document itself.
  const doc = useMemo(() => snap.runRecipe ?? branchCopies(snap.doc, snap.specs_).recipe, [snap.runRecipe, snap.doc, snap.specs_]);
  const loss = useMemo(() => lossSeries(doc, run, snap.files), [doc, run, snap.files]);
  const evals = useMemo(() => evaluationRows(doc, run, snap.files), [doc, run, snap.files]);
  const mem = useMemo(() => memoryRows(doc, run, snap.files), [doc, run, snap.files]);
  if (!run.runId) return <div className="empty">No results yet. Press Run (Ctrl+Enter): loss curves, perplexity, accuracy and memory appear here. Past runs are in the Runs tab.</div>;
  const ids = run.plan.length ? run.plan : Object.keys(run.nodes);
  return (
    <div className="results" data-testid="results">
      <div className="results-head">
        <span>
          Run <code>{run.runId}</code> · <span className={`run-status ${run.status}`}>{run.status}</span>
          {run.durationMs !== undefined && ` · ${formatDuration(run.durationMs)}`}
          {run.to && ` · up to ${run.to}`}
          {runPlace(run) && <span data-testid="run-place"> · {runPlace(run)}</span>}
          {snap.historical && ' · from the run history'}
        </span>
        {snap.historical && snap.liveRunId !== null && (
          <button className="btn small" onClick={() => controller.showLiveRun()}>
            Back to the latest run
          </button>
        )}
      </div>
      <VerdictSummary controller={controller} runId={run.runId} status={run.status} onOpenCompare={onOpenCompare} />
      <div className="result-cards">
        <Card title="Training loss" wide={loss.length > WIDE_AT} note={loss.length ? undefined : 'no training node reported a loss'}>
          {loss.length ? <LineOverlay series={loss} yLabel="loss" testId="loss-chart" /> : <div className="chart-empty">—</div>}
        </Card>
        <EvaluationCards evals={evals} />
        <MemoryCard mem={mem} />
      </div>
      <NodeResults snap={snap} doc={doc} ids={ids} />
    </div>
  );
}

/** Per node of the shown run: status, time, the worker that computed it (runs on workers), headline metrics. */
function NodeResults({ snap, doc, ids }: { snap: EditorSnapshot; doc: Recipe; ids: string[] }) {
  const run = snap.run;
  const workers = showsWorkers(run);
  return (
    <table className="grid node-results" data-testid="node-results">
      <thead>
        <tr>
          <th>Node</th>
          <th>Status</th>
          <th>Time</th>
          {workers && <th>Worker</th>}
          <th>Metrics</th>
        </tr>
      </thead>
      <tbody>
        {ids.map((id) => {
          const v = run.nodes[id];
          if (!v) return null;
          const sc = Object.entries(nodeScalars(id, run, snap.files)).slice(0, 8);
          return (
            <tr key={id}>
              <td>{nodeName(doc.nodes.find((n) => n.id === id) ?? { id })}</td>
              <td>
                <span className={`node-status status-${v.status}`}>
                  <span className="dot" />
                  {v.status}
                </span>
              </td>
              <td>{v.durationMs !== undefined ? formatDuration(v.durationMs) : ''}</td>
              {workers && <td data-testid="node-worker">{v.worker ?? ''}</td>}
              <td className="metrics-cell">
                {v.error && v.error.code !== 'cancelled' ? <span className="err">{v.error.message}</span> : sc.map(([k, val]) => <span key={k}>{k} <b>{formatMetric(val)}</b></span>)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Compare({ snap, controller }: { snap: EditorSnapshot; controller: EditorController }) {
  const views = useMemo(() => {
    const out: { node: string; view: NonNullable<ReturnType<typeof compareView>> }[] = [];
    for (const o of metricsOutputs(snap.run)) {
      const f = snap.files[locationKey(o.value.location)] as MetricsFile | undefined;
      const v = f ? compareView(f) : null;
      if (v) out.push({ node: o.node, view: v });
    }
    return out;
  }, [snap.run, snap.files]);
  return (
    <div className="compare" data-testid="compare">
      <CompareVerdict controller={controller} runId={snap.run.runId} status={snap.run.status} />
      {!views.length && <div className="empty">No Compare node in this run. Connect the metrics of several branches (Evaluate, LoRA train) to a Compare node and run it.</div>}
      {views.map(({ node, view }) => (
        <div key={node} className="compare-block">
          <h4>
            {view.title} <span className="muted">({node}, {view.rows.length} branches)</span>
          </h4>
          <div className="compare-layout">
            <div className="table-scroll">
              <table className="grid compare-table">
                <thead>
                  <tr>
                    <th>Branch</th>
                    {view.columns.map((c) => (
                      <th key={c}>{c}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {view.rows.map((r) => (
                    <tr key={r.label}>
                      <td>{r.label}</td>
                      {view.columns.map((c) => (
                        <td key={c} className={`num${view.best[c] === r.label ? ' best' : ''}`}>
                          {formatMetric(r.values[c])}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {Object.keys(view.curves).length > 0 && (
              <div className="result-cards compare-curves">
                {Object.entries(view.curves).map(([name, series]) => (
                  <Card key={name} title={`${name} (overlaid)`} note={`${series.length} branch${series.length > 1 ? 'es' : ''}`}>
                    <LineOverlay series={series} yLabel={name} height={190} />
                  </Card>
                ))}
              </div>
            )}
          </div>
        </div>
      ))}
    </div>
  );
}

function Runs({ snap, controller, onShow }: { snap: EditorSnapshot; controller: EditorController; onShow: () => void }) {
  useEffect(() => {
    void controller.refreshRuns();
  }, [controller]);
  if (!snap.runs.length) return <div className="empty">No runs yet.</div>;
  return (
    <>
      <StoreBar snap={snap} controller={controller} />
      <RunsTable snap={snap} controller={controller} onShow={onShow} />
    </>
  );
}

function RunsTable({ snap, controller, onShow }: { snap: EditorSnapshot; controller: EditorController; onShow: () => void }) {
  return (
    <table className="grid runs" data-testid="runs">
      <thead>
        <tr>
          <th>Run</th>
          <th>Recipe</th>
          <th>Status</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Nodes</th>
        </tr>
      </thead>
      <tbody>
        {snap.runs.map((r) => (
          <tr
            key={r.runId}
            className={`clickable${snap.run.runId === r.runId ? ' current' : ''}`}
            onClick={() => {
              void controller.showRun(r.runId).then(onShow);
            }}
          >
            <td>
              <code>{r.runId}</code>
            </td>
            <td>{r.recipeName}</td>
            <td>
              <span className={`run-status ${r.status}`}>{r.status}</span>
              {r.workers && (
                <span className="worker-tag" title={`computed on workers ${r.workers}`}>
                  workers
                </span>
              )}
            </td>
            <td>{new Date(r.startedAt).toLocaleString()}</td>
            <td>{r.endedAt ? formatDuration(r.endedAt - r.startedAt) : ''}</td>
            <td className="muted">
              {Object.entries(r.counts)
                .map(([k, v]) => `${v} ${k}`)
                .join(', ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function BottomPanel({
  snap,
  controller,
  tab,
  setTab,
  onSelectNode,
  height,
}: {
  snap: EditorSnapshot;
  controller: EditorController;
  tab: BottomTab;
  setTab: (t: BottomTab) => void;
  onSelectNode: (id: string) => void;
  height: number;
}) {
  const problems = snap.errors.length;
  const tabs: [BottomTab, string, number | null][] = [
    ['problems', 'Problems', problems || null],
    ['log', 'Log', null],
    ['results', 'Results', null],
    ['compare', 'Compare', null],
    ['runs', 'Runs', null],
  ];
  return (
    <section className="bottom panel" style={{ height }}>
      <nav className="tabs" role="tablist">
        {tabs.map(([t, label, badge]) => (
          <button key={t} role="tab" aria-selected={tab === t} className={`tab${tab === t ? ' active' : ''}`} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
            {label}
            {badge !== null && <span className={`badge${t === 'problems' ? ' danger' : ''}`}>{badge}</span>}
          </button>
        ))}
      </nav>
      <div className="tab-body" key={tab}>
        {tab === 'problems' && <Problems snap={snap} onSelect={onSelectNode} />}
        {tab === 'log' && <Log snap={snap} />}
        {tab === 'results' && <Results snap={snap} controller={controller} onOpenCompare={() => setTab('compare')} />}
        {tab === 'compare' && <Compare snap={snap} controller={controller} />}
        {tab === 'runs' && <Runs snap={snap} controller={controller} onShow={() => setTab('results')} />}
      </div>
    </section>
  );
}
