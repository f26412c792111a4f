// A row of mutually exclusive buttons, for any small choice on the page.

/** A row of mutually exclusive buttons (fixed widths: nothing moves when the choice does). */
export function Segmented<T extends string | number>({
  value,
  options,
  onChange,
  disabled,
  id,
  label,
}: {
  value: T;
  options: Array<[T, string] | [T, string, string]>;
  onChange: (v: T) => void;
  disabled?: boolean;
  id?: string;
  label?: string;
}) {
  return (
    <div class={`seg ${disabled ? 'disabled' : ''}`} role="radiogroup" id={id} aria-label={label}>
      {options.map(([v, text, title]) => (
        // biome-ignore lint/a11y/useSemanticElements: a segmented control drawn as buttons; role radio with aria-checked is the ARIA radio-group pattern
        <button type="button" role="radio" aria-checked={v === value} class={v === value ? 'on' : ''} data-value={String(v)} title={title} disabled={disabled} onClick={() => onChange(v)}>
          {text}
        </button>
      ))}
    </div>
  );
}
