/**
 * Live run display. On a terminal: one line per planned node with status, a progress bar and live metrics
 * (loss), redrawn in place; logs scroll above. Elsewhere: plain lines (progress at most every 10% per node).
 */
import type { EngineEvent, NodeMetrics } from '../shared';
import { bar, fmtDuration, fmtMetrics } from './format';

interface Row {
  id: string;
  status: string;
  step: number;
  total: number;
  metrics?: NodeMetrics;
  note?: string;
}

export interface Out {
  write(s: string): void;
}

export class TtyProgress {
  private rows: Row[] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly out: Out) {}

  private row(id: string): Row {
    let r = this.rows.find((x) => x.id === id);
    if (!r) {
      r = { id, status: 'waiting', step: 0, total: 0 };
      this.rows.push(r);
    }
    return r;
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    for (let i = 0; i < this.drawn; i++) this.out.write('\x1b[2K\n');
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    this.drawn = 0;
  }

  private draw(): void {
    this.clear();
    const w = Math.max(...this.rows.map((r) => r.id.length), 4);
    const cols = process.stdout.columns ?? 120;
    for (const r of this.rows) {
      const prog = r.status === 'running' && r.total > 0 ? `${bar(r.step, r.total)} ${r.step}/${r.total}` : '';
      const line = `${r.id.padEnd(w)}  ${r.status.padEnd(9)} ${prog} ${r.note ?? fmtMetrics(r.metrics, 4)}`.slice(0, cols - 1);
      this.out.write(`\x1b[2K${line}\n`);
    }
    this.drawn = this.rows.length;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draw();
    }, 80);
  }

  handle(e: EngineEvent): void {
    switch (e.type) {
      case 'run-started':
        for (const id of e.plan) this.row(id);
        this.draw();
        return;
      case 'node-cached':
        Object.assign(this.row(e.node), { status: 'cached', metrics: e.metrics });
        break;
      case 'node-started':
        Object.assign(this.row(e.node), { status: 'running' });
        break;
      case 'node-progress':
        Object.assign(this.row(e.node), { step: e.step, total: e.total, metrics: e.metrics ?? this.row(e.node).metrics });
        break;
      case 'node-finished':
        Object.assign(this.row(e.node), { status: 'done', metrics: e.metrics, note: `${fmtDuration(e.durationMs)}  ${fmtMetrics(e.metrics, 4)}` });
        break;
      case 'node-failed':
        Object.assign(this.row(e.node), { status: 'FAILED', note: e.error.message.split('\n')[0] });
        break;
      case 'node-log':
        this.clear();
        this.out.write(`${e.node ? `${e.node}: ` : ''}${e.level !== 'info' ? `${e.level}: ` : ''}${e.message}\n`);
        this.draw();
        return;
      case 'run-finished':
      case 'run-cancelled':
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        if (e.type === 'run-cancelled' && e.node) Object.assign(this.row(e.node), { status: 'cancelled', note: '' });
        for (const [id, n] of Object.entries(e.nodes)) if (n.status === 'skipped' || n.status === 'pending') Object.assign(this.row(id), { status: n.status });
        this.draw();
        return;
    }
    this.schedule();
  }
}

export class PlainProgress {
  private lastTenth = new Map<string, number>();
  constructor(private readonly out: Out) {}

  handle(e: EngineEvent): void {
    const w = (s: string) => this.out.write(s + '\n');
    switch (e.type) {
      case 'run-started':
        w(`run ${e.runId}: ${e.plan.length} node(s)${e.to ? ` up to ${e.to}` : ''}${e.noCache ? ', cache off' : ''}`);
        break;
      case 'node-cached':
        w(`${e.node}: cached${e.metrics && Object.keys(e.metrics).length ? ` (${fmtMetrics(e.metrics)})` : ''}`);
        break;
      case 'node-started':
        w(`${e.node}: started (${e.nodeType})`);
        break;
      case 'node-progress': {
        const tenth = e.total > 0 ? Math.floor((10 * e.step) / e.total) : 0;
        if (tenth === this.lastTenth.get(e.node) && e.step !== e.total) return;
        this.lastTenth.set(e.node, tenth);
        w(`${e.node}: ${e.step}/${e.total}${e.metrics ? ` ${fmtMetrics(e.metrics, 4)}` : ''}`);
        break;
      }
      case 'node-log':
        w(`${e.node ? `${e.node}: ` : ''}${e.level !== 'info' ? `${e.level}: ` : ''}${e.message}`);
        break;
      case 'node-finished':
        w(`${e.node}: done in ${fmtDuration(e.durationMs)}${Object.keys(e.metrics).length ? ` (${fmtMetrics(e.metrics)})` : ''}`);
        break;
      case 'node-failed':
        w(`${e.node}: FAILED: ${e.error.message}`);
        break;
      case 'run-cancelled':
        w(`cancelled${e.node ? ` during ${e.node}` : ''}`);
        break;
      case 'run-finished':
        break;
    }
  }
}
