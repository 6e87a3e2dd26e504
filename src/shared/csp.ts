/** The editor page's Content-Security-Policy: one policy for the Electron window and the web shell. */
export const EDITOR_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // React Flow and the charts set style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
