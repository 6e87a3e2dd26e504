import { useEffect, useMemo, useState } from 'react';
import type { NodeSpec, RecipeNode } from '../../../../shared';
import { categoryColor, CATEGORY_LABELS, portColor } from '../../editor/catalog';
import type { EditorController, EditorSnapshot } from '../../editor/controller';
import { formatDuration, formatMetric, type NodeStatus } from '../../editor/run-state';
import { errorsByField, errorsOutsideFields, fieldsFromSchema, type FieldSpec } from '../../editor/schema-form';
import { SweepSection } from '../SweepSection';
import { NodeErrors } from './NodeErrors';
import { ParamField } from './ParamField';

interface NodeProps {
  controller: EditorController;
  node: RecipeNode;
  spec: NodeSpec | undefined;
}

function NodeInspectorHead({ node, spec }: Omit<NodeProps, 'controller'>) {
  return (
    <div className="inspector-head" style={{ ['--cat' as string]: categoryColor(spec?.category ?? '') }}>
      <div className="inspector-kind">
        {spec ? CATEGORY_LABELS[spec.category] : 'Unknown'} · {node.type} v{node.version}
      </div>
      <h2>{spec?.title ?? node.type}</h2>
      {spec && <p className="muted">{spec.doc}</p>}
    </div>
  );
}

/** The node's label, edited as typed (one undo step per focus) and reset when another node or an undo changes it. */
function LabelField({ controller, node }: Omit<NodeProps, 'spec'>) {
  const [label, setLabel] = useState(node.label ?? '');
  useEffect(() => setLabel(node.label ?? ''), [node.id, node.label]);
  return (
    <div className="field">
      <div className="field-head">
        <label htmlFor="node-label">Label</label>
        <span className="field-range">id: {node.id}</span>
      </div>
      <input
        id="node-label"
        value={label}
        placeholder={node.id}
        onChange={(e) => {
          setLabel(e.target.value);
          controller.setLabel(node.id, e.target.value);
        }}
        onBlur={() => controller.seal()}
      />
      <div className="field-help">Shown on the card and as the branch name in comparisons.</div>
    </div>
  );
}

function PortsSummary({ spec }: { spec: NodeSpec }) {
  return (
    <div className="ports-summary">
      {spec.inputs.map((p) => (
        <span key={`i${p.name}`} className="port-pill" style={{ ['--port' as string]: portColor(p.type) }} title={p.doc ?? ''}>
          ← {p.title}
          {p.optional ? ' (optional)' : ''}
        </span>
      ))}
      {spec.outputs.map((p) => (
        <span key={`o${p.name}`} className="port-pill out" style={{ ['--port' as string]: portColor(p.type) }} title={p.doc ?? ''}>
          {p.title} →
        </span>
      ))}
    </div>
  );
}

function ParamFields({ controller, snap, node, fields }: Omit<NodeProps, 'spec'> & { snap: EditorSnapshot; fields: FieldSpec[] }) {
  const byField = useMemo(() => errorsByField(snap.errors, node.id), [snap.errors, node.id]);
  return (
    <>
      <div className="section-title">Parameters</div>
      {fields.length === 0 && <p className="muted">This node has no parameters.</p>}
      {fields.map((f) => (
        <ParamField
          key={`${node.id}:${f.key}`}
          nodeId={node.id}
          field={f}
          value={node.params[f.key]}
          engineErrors={byField.get(f.key) ?? []}
          onChange={(v) => controller.setParam(node.id, f.key, v)}
          onCommitEnd={() => controller.seal()}
        />
      ))}
      {fields.length > 0 && <SweepSection controller={controller} node={node} fields={fields} />}
    </>
  );
}

/** The node's last run in the shown run: status, time, step, error and metrics (not for a run being browsed in history). */
function LastRun({ snap, nodeId }: { snap: EditorSnapshot; nodeId: string }) {
  const run = snap.historical ? undefined : snap.cardRun.nodes[nodeId];
  const status: NodeStatus = snap.statuses[nodeId] ?? 'idle';
  if (!run && status === 'idle') return null;
  return (
    <>
      <div className="section-title">Last run</div>
      <div className="run-facts">
        <span className={`node-status status-${status}`}>
          <span className="dot" />
          {status}
        </span>
        {run?.durationMs !== undefined && <span>{formatDuration(run.durationMs)}</span>}
        {run?.worker && <span title="The remote worker that computed it">on {run.worker}</span>}
        {run?.step !== undefined && run.total !== undefined && status === 'running' && (
          <span>
            step {run.step}/{run.total}
          </span>
        )}
      </div>
      {/* A cancelled node is the user's doing, not an error to show. */}
      {run?.error && run.error.code !== 'cancelled' && <pre className="error-box">{run.error.message}</pre>}
      {run?.metrics && Object.keys(run.metrics).length > 0 && (
        <table className="kv">
          <tbody>
            {Object.entries(run.metrics).map(([k, v]) => (
              <tr key={k}>
                <th>{k}</th>
                <td>{formatMetric(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** The inspector for one selected node. */
export function NodeInspector({ controller, snap, node, spec }: NodeProps & { snap: EditorSnapshot }) {
  const fields = useMemo(() => (spec ? fieldsFromSchema(spec.params) : []), [spec]);
  return (
    <div className="inspector-body" data-testid="inspector">
      <NodeInspectorHead node={node} spec={spec} />
      <LabelField controller={controller} node={node} />
      <NodeErrors errors={errorsOutsideFields(snap.errors, node.id, fields)} />
      {spec && <PortsSummary spec={spec} />}
      <ParamFields controller={controller} snap={snap} node={node} fields={fields} />
      <LastRun snap={snap} nodeId={node.id} />
    </div>
  );
}
