import { fieldErrors, isDefaultValue, rangeText, toggleChoice, type FieldSpec } from '../../editor/schema-form';
import { TextField } from './TextField';

/** How a control reports an edit: `onChange` with the value, `onCommitEnd` when the edit is one undo step. */
interface ControlProps {
  field: FieldSpec;
  id: string;
  /** The value, or the default when unset. */
  shown: unknown;
  onChange: (v: unknown) => void;
  onCommitEnd: () => void;
}

function EnumSelect({ field, id, shown, onChange, onCommitEnd }: ControlProps) {
  return (
    <select
      id={id}
      value={shown === undefined ? '' : String(shown)}
      onChange={(e) => {
        // Options may be numbers: give back the option itself, not its text.
        const opt = field.options?.find((o) => String(o) === e.target.value);
        onChange(opt === undefined ? undefined : opt);
        onCommitEnd();
      }}
    >
      {shown === undefined && <option value="">(auto)</option>}
      {field.options?.map((o) => (
        <option key={String(o)} value={String(o)}>
          {String(o)}
        </option>
      ))}
    </select>
  );
}

function BooleanSwitch({ id, shown, onChange, onCommitEnd }: ControlProps) {
  return (
    <label className="switch">
      <input
        id={id}
        type="checkbox"
        checked={!!shown}
        onChange={(e) => {
          onChange(e.target.checked);
          onCommitEnd();
        }}
      />
      <span>{shown ? 'on' : 'off'}</span>
    </label>
  );
}

function ChoiceChips({ field, id, shown, onChange, onCommitEnd }: ControlProps) {
  const cur = Array.isArray(shown) ? (shown as (string | number)[]) : [];
  return (
    <div className="chips-select" id={id}>
      {field.options?.map((o) => (
        <button
          type="button"
          key={String(o)}
          className={`chip-toggle${cur.includes(o) ? ' on' : ''}`}
          onClick={() => {
            onChange(toggleChoice(field.options!, cur, o));
            onCommitEnd();
          }}
        >
          {String(o)}
        </button>
      ))}
    </div>
  );
}

/** Free text with the field's examples offered as suggestions. */
function TextWithExamples({ field, id, shown, onChange, onCommitEnd }: ControlProps) {
  const examples = field.examples ?? [];
  return (
    <>
      <TextField field={field} value={shown} onChange={onChange} onCommitEnd={onCommitEnd} id={id} list={examples.length ? `${id}-examples` : undefined} />
      {examples.length > 0 && (
        <datalist id={`${id}-examples`}>
          {examples.map((x) => (
            <option key={x} value={x} />
          ))}
        </datalist>
      )}
    </>
  );
}

function FieldControl(props: ControlProps) {
  switch (props.field.kind) {
    case 'enum':
      return <EnumSelect {...props} />;
    case 'boolean':
      return <BooleanSwitch {...props} />;
    case 'enum-list':
      return <ChoiceChips {...props} />;
    default:
      return <TextWithExamples {...props} />;
  }
}

/** The field's title, its allowed range, and a reset link when it differs from its default. */
function FieldHead({ field, id, value, onChange, onCommitEnd }: Omit<ControlProps, 'shown'> & { value: unknown }) {
  const range = rangeText(field);
  return (
    <div className="field-head">
      <label htmlFor={id}>{field.title}</label>
      {range && <span className="field-range">{range}</span>}
      {!isDefaultValue(field, value) && field.default !== undefined && (
        <button
          type="button"
          className="link reset"
          title={`Reset to the default (${JSON.stringify(field.default)})`}
          onClick={() => {
            onChange(field.default);
            onCommitEnd();
          }}
        >
          reset
        </button>
      )}
    </div>
  );
}

export interface ParamFieldProps {
  field: FieldSpec;
  value: unknown;
  engineErrors: string[];
  onChange: (v: unknown) => void;
  onCommitEnd: () => void;
  nodeId: string;
}

/** One parameter of the selected node: its control by kind, its errors and its help text. */
export function ParamField({ field, value, engineErrors, onChange, onCommitEnd, nodeId }: ParamFieldProps) {
  const id = `f-${nodeId}-${field.key}`;
  const errors = fieldErrors(field, value, engineErrors);
  return (
    <div className={`field${errors.length ? ' invalid' : ''}`} data-field={field.key}>
      <FieldHead field={field} id={id} value={value} onChange={onChange} onCommitEnd={onCommitEnd} />
      <FieldControl field={field} id={id} shown={value === undefined ? field.default : value} onChange={onChange} onCommitEnd={onCommitEnd} />
      {errors.map((e) => (
        <div className="field-error" key={e}>
          {e}
        </div>
      ))}
      {field.description && <div className="field-help">{field.description}</div>}
    </div>
  );
}
