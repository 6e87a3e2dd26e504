import type { ValidationError } from '../../../../shared';
import { Icon } from '../Icon';

/** Errors no field shows, listed at the top of the inspector. */
export function NodeErrors({ errors }: { errors: ValidationError[] }) {
  if (!errors.length) return null;
  return (
    <div className="inspector-errors" role="alert">
      {errors.map((e, i) => (
        <div key={i} className="inspector-error">
          <Icon name="warn" size={14} />
          <span>
            {e.field && <code>{e.field}</code>} {e.message}
          </span>
        </div>
      ))}
    </div>
  );
}
