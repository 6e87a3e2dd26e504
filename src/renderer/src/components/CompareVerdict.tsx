/**
 * The Compare view's verdict: what `loram report` says about the shown run, from the same model (the engine builds
 * it with src/report): per metric the winner and the ties within noise, the gain over each baseline, the paper's
 * claims; then every branch with its role (baselines marked, never "best"), perplexity, accuracy, task exact
 * match (when measured), memory measured and planned, and training time; and a button that opens the full report.
 */
import { useEffect, useState } from 'react';
import { compareMemory, MEMORY_INCLUDES, type Branch, type ReportModel } from '../../../shared';
import type { EditorController } from '../editor/controller';

const ROLE: Record<Branch['role'], string> = {
  loram: 'LoRAM',
  'no-alignment': 'ablation: w/o alignment',
  'no-recovery': 'ablation: w/o recovery',
  'untuned-large': 'baseline',
  'untuned-small': 'baseline',
  'lora-large': 'baseline',
  'lora-small': 'baseline',
  other: '',
};
const fmt = (x: number | null | undefined, f: (v: number) => string) => (x === null || x === undefined ? '—' : f(x));
const ppl = (x: number) => (x >= 100 ? x.toFixed(1) : x.toFixed(2));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const mib = (x: number) => (x / 2 ** 20).toFixed(1);
const sec = (x: number) => `${x.toFixed(1)} s`;

/** The run's report model, fetched when the run (or its end) changes; null while loading or when there is none. */
function useReportModel(controller: EditorController, runId: string | null, status: string | null): ReportModel | null {
  const [model, setModel] = useState<ReportModel | null>(null);
  useEffect(() => {
    let live = true;
    setModel(null);
    if (runId && status !== 'running') void controller.engine.reportModel(runId).then((m) => live && setModel(m), () => undefined);
    return () => {
      live = false;
    };
  }, [controller, runId, status]);
  return model;
}

/** The planned figure, marked when it is more than 10% from the measured one or for another runtime (shared/memory.ts). */
function PlannedMemory({ b }: { b: Branch }) {
  const t = b.train;
  const c = t ? compareMemory({ measured: t.memoryMeasured, measuredRuntime: t.memoryMeasuredRuntime, planned: t.memoryPlanned, plannedRuntime: t.memoryPlannedRuntime }) : null;
  return (
    <td className={`num${c?.warn ? ' mem-gap' : ''}`} title={c?.note ?? undefined}>
      {fmt(t?.memoryPlanned, mib)}
      {c?.warn ? ' ⚠' : c?.note ? ' *' : ''}
    </td>
  );
}

function BranchTable({ m }: { m: ReportModel }) {
  const st = Object.fromEntries(m.verdict.standings.map((s) => [s.metric, s]));
  // The downstream task's column only when some branch measured it (its standard error beside the value).
  const task = m.branches.some((b) => b.exactMatch !== null);
  const em = (b: Branch) => (b.exactMatch === null ? '—' : `${pct(b.exactMatch)}${b.exactMatchStderr !== null ? ` ± ${(b.exactMatchStderr * 100).toFixed(1)}` : ''}`);
  const mark = (metric: string, b: Branch) => (st[metric]?.winner === b.label ? ' best' : st[metric]?.tied.includes(b.label) ? ' tie' : '');
  return (
    <div className="table-scroll">
      <table className="grid compare-table verdict-table" data-testid="verdict-table">
        <thead>
          <tr>
            <th>Branch</th>
            <th>Role</th>
            <th>perplexity ↓</th>
            <th>accuracy ↑</th>
            {task && <th title={m.downstream ? `exact match on ${m.downstream.items ?? '?'} items of ${m.downstream.source}` : undefined}>task exact match ↑</th>}
            <th title={MEMORY_INCLUDES.measured['onnxruntime-cpu']}>memory measured (MiB) ↓</th>
            <th title={MEMORY_INCLUDES.planned}>memory planned (MiB)</th>
            <th>training time ↓</th>
          </tr>
        </thead>
        <tbody>
          {m.branches.map((b) => (
            <tr key={b.node} className={ROLE[b.role] === 'baseline' ? 'baseline' : ''}>
              <td>{b.label}</td>
              <td>{ROLE[b.role] && <span className={`role-tag role-${ROLE[b.role] === 'baseline' ? 'baseline' : b.role}`}>{ROLE[b.role]}</span>}</td>
              <td className={`num${mark('perplexity', b)}`}>{fmt(b.perplexity, ppl)}</td>
              <td className={`num${mark('accuracy', b)}`}>{fmt(b.accuracy, pct)}</td>
              {task && <td className={`num${mark('exactMatch', b)}`}>{em(b)}</td>}
              <td className={`num${mark('memory', b)}`}>{fmt(b.train?.memoryMeasured, mib)}</td>
              <PlannedMemory b={b} />
              <td className={`num${mark('time', b)}`}>{fmt(b.train?.seconds, sec)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The verdict's first lines, for the top of Results: who won and the gain over the baselines. */
export function VerdictSummary({ controller, runId, status, onOpenCompare }: { controller: EditorController; runId: string | null; status: string | null; onOpenCompare: () => void }) {
  const m = useReportModel(controller, runId, status);
  if (!m || m.branches.length < 2) return null;
  return (
    <div className="verdict verdict-summary" data-testid="verdict-summary">
      <p className="verdict-headline">{m.verdict.gains[0] ?? m.verdict.headline}</p>
      {m.verdict.gains.length > 0 && <p className="muted">{m.verdict.headline}</p>}
      <button className="btn small" onClick={onOpenCompare}>
        Compare the {m.branches.length} branches
      </button>
    </div>
  );
}

export function CompareVerdict({ controller, runId, status }: { controller: EditorController; runId: string | null; status: string | null }) {
  const m = useReportModel(controller, runId, status);
  if (!m || m.branches.length === 0) return null;
  return (
    <section className="verdict" data-testid="verdict">
      <header className="verdict-head">
        <h4>Verdict</h4>
        <button className="btn small" data-testid="open-report" onClick={() => void controller.openReport(m.runId)}>
          Open the full report
        </button>
      </header>
      <p className="verdict-headline" data-testid="verdict-headline">
        {m.verdict.headline}
      </p>
      <ul className="verdict-lines">
        {[...m.verdict.standings.slice(1).map((s) => s.text), ...m.verdict.gains].map((t) => (
          <li key={t}>{t}</li>
        ))}
      </ul>
      <ul className="verdict-claims" data-testid="verdict-claims">
        {m.claims.map((c) => (
          <li key={c.id} className={`claim claim-${c.verdict.replace(/ /g, '-')}`}>
            <b>{c.verdict}</b> — {c.title}: {c.statement}
          </li>
        ))}
      </ul>
      <BranchTable m={m} />
    </section>
  );
}
