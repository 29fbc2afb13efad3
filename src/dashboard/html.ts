/**
 * Safe HTML building for the dashboard: a `html` tagged template that escapes
 * every interpolated value unless it is already `SafeHtml` (the output of
 * another `html` template, or of `trustedHtml` for markup this code made
 * itself, such as the SVG chart). Arrays are joined, `null`/`undefined`/
 * `false` render as nothing. Escaping covers `& < > " '` so values are safe in
 * text and in quoted attributes alike.
 *
 * This module does NOT sanitize markup (there is no "allow some tags"): a
 * string is either escaped or trusted as a whole, and only this package's own
 * renderers trust anything. URL attributes must still be built from
 * `encodeURIComponent`ed parts (escaping does not make `javascript:` safe).
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML text content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Markup that is already safe to emit as is. */
export class SafeHtml {
  readonly html: string;

  constructor(html: string) {
    this.html = html;
  }

  toString(): string {
    return this.html;
  }
}

/** What a template may interpolate. */
export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.html;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: literal parts are trusted, every `${value}` is escaped (unless SafeHtml). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/**
 * Marks markup made by this package (e.g. `renderPayoutChart`'s SVG, which
 * escapes its own text) as safe. Never pass anything that holds unescaped
 * outside input.
 */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
