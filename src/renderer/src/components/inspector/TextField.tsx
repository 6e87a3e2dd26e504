import { useEffect, useState } from 'react';
import { fieldText, parseFieldText, typedTextError, type FieldSpec } from '../../editor/schema-form';

/** A text-like input that keeps what is typed (even half-typed numbers) and commits every parseable value. */
export function TextField({ field, value, onChange, onCommitEnd, id, list }: { field: FieldSpec; value: unknown; onChange: (v: unknown) => void; onCommitEnd: () => void; id: string; list?: string }) {
  const [text, setText] = useState(() => fieldText(field, value));
  const [focused, setFocused] = useState(false);
  const [parseError, setParseError] = useState<string | null>(null);
  useEffect(() => {
    if (!focused) setText(fieldText(field, value));
  }, [value, focused, field]);
  const numeric = field.kind === 'number' || field.kind === 'integer';
  return (
    <>
      <input
        id={id}
        type="text"
        inputMode={numeric ? 'decimal' : undefined}
        spellCheck={false}
        value={text}
        list={list}
        placeholder={field.default === undefined ? (field.required ? 'required' : 'auto') : undefined}
        className={numeric ? 'num' : undefined}
        onFocus={() => setFocused(true)}
        onBlur={() => {
          setFocused(false);
          // Text that is not a value is not dropped silently: say what was kept.
          setParseError(parseError ? `${parseError}; kept ${fieldText(field, value) || 'the default'}` : null);
          setText(fieldText(field, value));
          onCommitEnd();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
          if (e.key === 'Escape') {
            setText(fieldText(field, value));
            (e.target as HTMLInputElement).blur();
          }
        }}
        onChange={(e) => {
          setText(e.target.value);
          const p = parseFieldText(field, e.target.value);
          if (!p.ok) setParseError(typedTextError(field, e.target.value, p.error));
          else {
            setParseError(null);
            onChange(p.value);
          }
        }}
        aria-invalid={!!parseError}
        aria-errormessage={parseError ? `${id}-typed` : undefined}
      />
      {parseError && (
        <div className="field-error" id={`${id}-typed`} role="alert" data-testid="typed-error">
          {parseError}
        </div>
      )}
    </>
  );
}
