import type { PageText } from "./error-page-text";

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/*
 * Self-contained: no script, no external resource, nothing for the gate's CSP
 * (object-src 'none'; base-uri 'none'; frame-ancestors 'none') to refuse. The
 * inline style is decoration only: under a stricter CSP without inline styles
 * the page is still plain, readable HTML. `rel=icon data:` stops the browser
 * from asking the origin for /favicon.ico behind an error.
 */
const STYLE = `body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
main{max-width:32rem;margin:12vh auto 2rem;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
p{margin:0 0 1rem}
a{color:#0969da}
.ref{margin:1.5rem 0 0;font-size:.8rem;color:#59636e}
.ref code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}`;

/**
 * The built-in error page (contract §9): a heading, what happened, what to do,
 * a link where one helps, and the request id in small print so that a person
 * can quote it and an operator can find the log line. Every piece is escaped.
 */
export function errorPageHtml(text: PageText, requestId: string | undefined): string {
  const link = text.link ? `\n<p><a href="${escapeHtml(text.link.href)}">${escapeHtml(text.link.label)}</a></p>` : "";
  const reference = requestId ? `\n<p class="ref">Reference: <code id="request-id">${escapeHtml(requestId)}</code></p>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(text.heading)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(text.heading)}</h1>
<p>${escapeHtml(text.message)}</p>
<p id="what-to-do">${escapeHtml(text.action)}</p>${link}${reference}
</main>
</body>
</html>
`;
}
