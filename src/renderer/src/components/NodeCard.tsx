import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { categoryColor, portColor } from '../editor/catalog';
import { nodeName } from '../editor/document';
import type { FlowNode } from '../editor/flow';
import { formatMetric } from '../editor/run-state';
import { describeSweep } from '../../../shared';
import { fieldsFromSchema } from '../editor/schema-form';

const STATUS_LABEL: Record<string, string> = {
  idle: 'idle',
  cached: 'cached',
  stale: 'stale',
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

function paramSummary(data: FlowNode['data']): string[] {
  const { spec, node } = data;
  if (!spec) return [];
  const fields = fieldsFromSchema(spec.params);
  const changed: string[] = [];
  const first: string[] = [];
  for (const f of fields) {
    const v = node.params[f.key];
    if (v === undefined || v === '' || (Array.isArray(v) && v.length > 3)) continue;
    const text = `${f.key} ${Array.isArray(v) ? v.join(',') : typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v)}`;
    if (JSON.stringify(v) !== JSON.stringify(f.default)) changed.push(text);
    else if (first.length < 3) first.push(text);
  }
  return [...changed, ...first.filter((t) => !changed.includes(t))].slice(0, 4);
}

function Sparkline({ values }: { values: number[] }) {
  if (values.length < 2) return null;
  const w = 84;
  const h = 22;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - 2 - ((v - lo) / span) * (h - 4)).toFixed(1)}`).join(' ');
  return (
    <svg className="sparkline" width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-hidden="true">
      <polyline points={pts} fill="none" stroke="currentColor" strokeWidth={1.5} />
    </svg>
  );
}

function NodeCardView({ data, selected }: NodeProps<FlowNode>) {
  const { node, spec, deco } = data;
  const status = deco.status;
  const color = categoryColor(spec?.category ?? '');
  const inputs = spec?.inputs ?? [];
  const outputs = spec?.outputs ?? [];
  const rows = Math.max(inputs.length, outputs.length);
  const progress = deco.progress && deco.progress.total > 0 ? Math.min(1, deco.progress.step / deco.progress.total) : null;
  const loss = deco.metrics?.loss;
  const summary = paramSummary(data);
  const errorCount = deco.errors.length;
  const sweep = describeSweep(node.sweep);
  const headline = status === 'running' ? null : Object.entries(deco.metrics ?? {}).filter(([, v]) => typeof v === 'number').slice(0, 3);

  return (
    <div
      className={`node-card status-${status}${selected ? ' selected' : ''}${errorCount ? ' has-errors' : ''}${spec ? '' : ' unknown'}${deco.target ? ' run-target' : ''}`}
      style={{ ['--cat' as string]: color }}
      data-node-id={node.id}
      data-status={status}
      data-testid={`node-${node.id}`}
    >
      <div className="node-head">
        <span className="node-title">{spec?.title ?? node.type}</span>
        <span className={`node-status status-${status}`} title={`Status: ${STATUS_LABEL[status]}`}>
          <span className="dot" />
          {STATUS_LABEL[status]}
        </span>
      </div>
      <div className="node-sub">
        <span className="node-name" title={node.id}>
          {nodeName(node)}
        </span>
        {sweep && (
          <span className="node-sweep" data-testid={`sweep-${node.id}`} title="This node is swept: one branch per value">
            {sweep}
          </span>
        )}
        {errorCount > 0 && (
          <span className="node-error-count" title={deco.errors.map((e) => e.message).join('\n')}>
            {errorCount} problem{errorCount > 1 ? 's' : ''}
          </span>
        )}
      </div>
      {progress !== null && status === 'running' && (
        <div className="node-progress" title={`${deco.progress!.step} / ${deco.progress!.total}`}>
          <div className="bar" style={{ transform: `scaleX(${progress.toFixed(3)})` }} />
        </div>
      )}
      <div className="node-ports">
        {Array.from({ length: rows }, (_, i) => {
          const inp = inputs[i];
          const out = outputs[i];
          return (
            <div className="port-row" key={i}>
              <div className="port port-in">
                {inp && (
                  <>
                    <Handle
                      type="target"
                      position={Position.Left}
                      id={inp.name}
                      className={`handle handle-${inp.type}${data.connectedInputs.includes(inp.name) ? ' connected' : ''}`}
                      style={{ ['--port' as string]: portColor(inp.type) }}
                      title={`${inp.title} (${inp.type}${inp.optional ? ', optional' : ''}${inp.multiple ? ', many' : ''})`}
                    />
                    <span className={`port-label${inp.optional ? ' optional' : ''}`}>
                      {inp.title}
                      {inp.multiple ? ' ⋯' : ''}
                    </span>
                  </>
                )}
              </div>
              <div className="port port-out">
                {out && (
                  <>
                    <span className="port-label">{out.title}</span>
                    <Handle
                      type="source"
                      position={Position.Right}
                      id={out.name}
                      className={`handle handle-${out.type}`}
                      style={{ ['--port' as string]: portColor(out.type) }}
                      title={`${out.title} (${out.type})`}
                    />
                  </>
                )}
              </div>
            </div>
          );
        })}
      </div>
      {summary.length > 0 && (
        <div className="node-params">
          <span>{summary.join(' · ')}</span>
        </div>
      )}
      {status === 'running' && (
        <div className="node-live">
          {!deco.progress && deco.phase && (
            <span className="node-phase" title={deco.phase} data-testid={`phase-${node.id}`}>
              {deco.phase}…
            </span>
          )}
          {deco.progress && (
            <span>
              step {deco.progress.step}/{deco.progress.total}
            </span>
          )}
          {typeof loss === 'number' && <span className="loss">loss {formatMetric(loss)}</span>}
          {deco.loss && <Sparkline values={deco.loss} />}
        </div>
      )}
      {headline && headline.length > 0 && (status === 'done' || status === 'cached') && (
        <div className="node-metrics">
          {headline.map(([k, v]) => (
            <span key={k}>
              <em>{k}</em> {formatMetric(v)}
            </span>
          ))}
        </div>
      )}
      {errorCount > 0 && (
        <div className="node-errors">
          <span>{deco.errors[0]!.message}</span>
        </div>
      )}
    </div>
  );
}

export const NodeCard = memo(NodeCardView);
