/** The inspector's sweep section: which params hold a list of values (one branch per value), and how they combine. */
import { useEffect, useState } from 'react';
import { describeSweep, type RecipeNode } from '../../../shared';
import type { EditorController } from '../editor/controller';
import type { FieldSpec } from '../editor/schema-form';
import { parseSweepText, sweepText } from '../editor/sweep-edit';

const SWEEPABLE = new Set(['number', 'integer', 'enum', 'boolean', 'string']);

function AxisRow({ controller, node, field, values }: { controller: EditorController; node: RecipeNode; field: FieldSpec; values: unknown[] }) {
  const [text, setText] = useState(sweepText(values));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(sweepText(values)), [values]);
  const change = (t: string) => {
    setText(t);
    const r = parseSweepText(field, t);
    setError(r.ok ? null : r.error);
    if (r.ok && r.values.length) controller.setSweep(node.id, field.key, r.values);
  };
  return (
    <div className="field sweep-axis">
      <div className="field-head">
        <label htmlFor={`sweep-${field.key}`}>{field.title}</label>
        <span className="field-range">{values.length} values</span>
        <button type="button" className="link" data-testid={`sweep-remove-${field.key}`} onClick={() => controller.setSweep(node.id, field.key, null)}>
          remove
        </button>
      </div>
      <input id={`sweep-${field.key}`} data-testid={`sweep-values-${field.key}`} value={text} aria-invalid={!!error} onChange={(e) => change(e.target.value)} onBlur={() => controller.seal()} />
      {error ? <div className="field-error">{error}</div> : <div className="field-help">Values separated by commas{field.options ? ` (${field.options.join(', ')})` : ''}.</div>}
    </div>
  );
}

export function SweepSection({ controller, node, fields }: { controller: EditorController; node: RecipeNode; fields: FieldSpec[] }) {
  const swept = node.sweep?.values ?? {};
  const candidates = fields.filter((f) => SWEEPABLE.has(f.kind) && !(f.key in swept));
  const [pick, setPick] = useState('');
  const add = () => {
    const f = fields.find((x) => x.key === (pick || candidates[0]?.key));
    if (!f) return;
    const start = f.options?.length ? f.options.slice(0, 2) : [node.params[f.key] ?? f.default].filter((v) => v !== undefined);
    controller.setSweep(node.id, f.key, start.length ? start : ['']);
    setPick('');
  };
  const axes = Object.entries(swept).filter(([k]) => fields.some((f) => f.key === k));
  return (
    <div className="sweep-section" data-testid="sweep-section">
      <div className="section-title">
        Sweep {describeSweep(node.sweep) && <span className="node-sweep">{describeSweep(node.sweep)}</span>}
      </div>
      <p className="muted">A swept parameter takes each of its values in its own branch; a Compare downstream gathers every branch.</p>
      {axes.map(([k, v]) => (
        <AxisRow key={k} controller={controller} node={node} field={fields.find((f) => f.key === k)!} values={v} />
      ))}
      {axes.length > 1 && (
        <div className="sweep-mode" role="radiogroup" aria-label="Combine the axes">
          {(['product', 'zip'] as const).map((m) => (
            <label key={m}>
              <input type="radio" name={`sweep-mode-${node.id}`} data-testid={`sweep-mode-${m}`} checked={(node.sweep?.mode ?? 'product') === m} onChange={() => controller.setSweepMode(node.id, m)} />
              {m === 'product' ? 'every combination (product)' : 'step together (zip)'}
            </label>
          ))}
        </div>
      )}
      {candidates.length > 0 && (
        <div className="sweep-add">
          <select aria-label="Parameter to sweep" data-testid="sweep-param" value={pick || candidates[0]!.key} onChange={(e) => setPick(e.target.value)}>
            {candidates.map((f) => (
              <option key={f.key} value={f.key}>
                {f.title}
              </option>
            ))}
          </select>
          <button type="button" data-testid="sweep-add" onClick={add}>
            Sweep this parameter
          </button>
        </div>
      )}
    </div>
  );
}
