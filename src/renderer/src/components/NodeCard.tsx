import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { describeSweep, type PortSpec } from '../../../shared';
import { categoryColor, portColor } from '../editor/catalog';
import { nodeName } from '../editor/document';
import type { FlowNode, NodeCardData, NodeDecoration } from '../editor/flow';
import { cardClassName, headlineMetrics, inputPortTitle, paramSummary, progressFraction, sparklinePoints } from '../editor/node-card';
import { formatMetric } from '../editor/run-state';

type CardProps = { data: NodeCardData };

function Sparkline({ values }: { values: number[] }) {
  if (values.length < 2) return null;
  const w = 84;
  const h = 22;
  return (
    <svg className="sparkline" width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-hidden="true">
      <polyline points={sparklinePoints(values, w, h)} fill="none" stroke="currentColor" strokeWidth={1.5} />
    </svg>
  );
}

/** The node's kind and its status light. */
function CardHead({ data: { node, spec, deco } }: CardProps) {
  return (
    <div className="node-head">
      <span className="node-title">{spec?.title ?? node.type}</span>
      <span className={`node-status status-${deco.status}`} title={`Status: ${deco.status}`}>
        <span className="dot" />
        {deco.status}
      </span>
    </div>
  );
}

/** The node's name, its sweep and how many problems it has. */
function CardSubline({ data: { node, deco } }: CardProps) {
  const sweep = describeSweep(node.sweep);
  const errorCount = deco.errors.length;
  return (
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
  );
}

function CardProgress({ deco }: { deco: NodeDecoration }) {
  const progress = progressFraction(deco);
  if (progress === null) return null;
  return (
    <div className="node-progress" title={`${deco.progress!.step} / ${deco.progress!.total}`}>
      {/* A transform, not a width: the bar moves without a layout pass on every step. */}
      <div className="bar" style={{ transform: `scaleX(${progress.toFixed(3)})` }} />
    </div>
  );
}

function InputPort({ port, connected }: { port: PortSpec; connected: boolean }) {
  return (
    <>
      <Handle
        type="target"
        position={Position.Left}
        id={port.name}
        className={`handle handle-${port.type}${connected ? ' connected' : ''}`}
        style={{ ['--port' as string]: portColor(port.type) }}
        title={inputPortTitle(port)}
      />
      <span className={`port-label${port.optional ? ' optional' : ''}`}>
        {port.title}
        {port.multiple ? ' ⋯' : ''}
      </span>
    </>
  );
}

function OutputPort({ port }: { port: PortSpec }) {
  return (
    <>
      <span className="port-label">{port.title}</span>
      <Handle type="source" position={Position.Right} id={port.name} className={`handle handle-${port.type}`} style={{ ['--port' as string]: portColor(port.type) }} title={`${port.title} (${port.type})`} />
    </>
  );
}

/** Inputs on the left and outputs on the right, one row per pair, so the card is as tall as its longer side. */
function PortRows({ data: { spec, connectedInputs } }: CardProps) {
  const inputs = spec?.inputs ?? [];
  const outputs = spec?.outputs ?? [];
  const rows = Math.max(inputs.length, outputs.length);
  return (
    <div className="node-ports">
      {Array.from({ length: rows }, (_, i) => (
        <div className="port-row" key={i}>
          <div className="port port-in">{inputs[i] && <InputPort port={inputs[i]} connected={connectedInputs.includes(inputs[i].name)} />}</div>
          <div className="port port-out">{outputs[i] && <OutputPort port={outputs[i]} />}</div>
        </div>
      ))}
    </div>
  );
}

/** While running: what the node is doing before its first step, then its step, loss and loss curve. */
function CardLive({ data: { node, deco } }: CardProps) {
  if (deco.status !== 'running') return null;
  const loss = deco.metrics?.loss;
  return (
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
  );
}

function CardMetrics({ deco }: { deco: NodeDecoration }) {
  const headline = headlineMetrics(deco);
  if (!headline.length) return null;
  return (
    <div className="node-metrics">
      {headline.map(([k, v]) => (
        <span key={k}>
          <em>{k}</em> {formatMetric(v)}
        </span>
      ))}
    </div>
  );
}

function NodeCardView({ data, selected }: NodeProps<FlowNode>) {
  const { node, spec, deco } = data;
  const summary = paramSummary(data);
  return (
    <div className={cardClassName(data, !!selected)} style={{ ['--cat' as string]: categoryColor(spec?.category ?? '') }} data-node-id={node.id} data-status={deco.status} data-testid={`node-${node.id}`}>
      <CardHead data={data} />
      <CardSubline data={data} />
      <CardProgress deco={deco} />
      <PortRows data={data} />
      {summary.length > 0 && (
        <div className="node-params">
          <span>{summary.join(' · ')}</span>
        </div>
      )}
      <CardLive data={data} />
      <CardMetrics deco={deco} />
      {deco.errors.length > 0 && (
        <div className="node-errors">
          <span>{deco.errors[0]!.message}</span>
        </div>
      )}
    </div>
  );
}

export const NodeCard = memo(NodeCardView);
