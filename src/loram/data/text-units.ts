/**
 * Sentences and words of running text, for building evaluation items and for cutting documents to a length
 * without breaking a sentence. Rule-based and deterministic (no model, no locale data):
 * - a sentence ends at `.`, `!` or `?` (optionally followed by closing quotes or brackets) that is followed by
 *   whitespace and then an upper-case letter, a digit or an opening quote/bracket — or at a paragraph break
 *   (blank line) or the end of the text;
 * - a period after a common abbreviation ("Mr.", "Gen.", "Jan.", "U.S.", single capital initials) does not end
 *   a sentence.
 */

/** Abbreviations (lower-case, without the final period) after which a period does not end a sentence. */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'st', 'jr', 'sr', 'gen', 'col', 'capt', 'lt', 'sgt', 'maj', 'adm', 'gov', 'hon', 'rev', 'prof', 'messrs',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
  'no', 'nos', 'vol', 'vs', 'etc', 'viz', 'ibid', 'co', 'inc', 'ltd', 'dept', 'art', 'sec', 'ch',
]);

function endsWithAbbreviation(before: string): boolean {
  const m = /([A-Za-z][A-Za-z.]*)$/.exec(before);
  if (!m) return false;
  const word = m[1]!;
  // Single capital initials ("J." in "John Q. Adams") and dotted acronyms ("U.S", "D.C").
  if (/^[A-Z]$/.test(word) || /^([A-Za-z]\.)+[A-Za-z]$/.test(word)) return true;
  return ABBREVIATIONS.has(word.toLowerCase());
}

/** The sentences of a text, in order, each trimmed, whitespace collapsed to single spaces. */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const p = para.replace(/\s+/g, ' ').trim();
    if (!p) continue;
    let start = 0;
    const re = /[.!?]["'\u201d\u2019)\]]*(?= +["'\u201c\u2018(\[]?[A-Z0-9])/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(p))) {
      const end = m.index + m[0].length;
      if (m[0][0] === '.' && endsWithAbbreviation(p.slice(start, m.index))) continue;
      const s = p.slice(start, end).trim();
      if (s) out.push(s);
      start = end;
    }
    const rest = p.slice(start).trim();
    if (rest) out.push(rest);
  }
  return out;
}

/** Whitespace-separated words. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/**
 * The longest prefix of `text` of at most `maxChars` characters that ends at a sentence end (paragraph breaks
 * kept); when even the first sentence is longer, the text is cut at the last word boundary before `maxChars`.
 * Texts within the limit are returned unchanged.
 */
export function truncateAtSentence(text: string, maxChars: number): string {
  if (!(maxChars > 0)) throw new RangeError(`maxChars must be positive, got ${maxChars}`);
  if (text.length <= maxChars) return text;
  const head = text.slice(0, maxChars + 1);
  // Candidate cut points: after a sentence-final mark followed by whitespace, or at a paragraph break.
  let cut = -1;
  const re = /[.!?]["'\u201d\u2019)\]]*(?=\s)|\n\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(head))) {
    const end = m[0] === '\n\n' ? m.index : m.index + m[0].length;
    if (end > maxChars) break;
    if (m[0] !== '\n\n' && m[0][0] === '.' && endsWithAbbreviation(head.slice(0, m.index))) continue;
    cut = end;
  }
  if (cut > 0) return text.slice(0, cut).trim();
  const sp = head.lastIndexOf(' ', maxChars);
  return (sp > 0 ? text.slice(0, sp) : text.slice(0, maxChars)).trim();
}
