// The few HTML pages the redirect path answers itself (before Next.js): not found, gone,
// the password form, and too many guesses. Small, self-contained, no scripts.
const css = `body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f7fb;color:#1c2033;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border:1px solid #e3e6ef;border-radius:14px;padding:2rem 2.25rem;max-width:26rem;width:calc(100% - 2rem);box-shadow:0 6px 24px rgba(28,32,51,.06)}
h1{font-size:1.35rem;margin:0 0 .5rem}p{margin:.25rem 0 1rem;color:#4a5068}a{color:#3b5bdb}
label{display:block;font-weight:600;margin-bottom:.35rem}input{width:100%;box-sizing:border-box;font:inherit;padding:.6rem .75rem;border:1px solid #c5cad8;border-radius:8px}
input:focus,button:focus{outline:3px solid #9db0ff;outline-offset:1px}button{margin-top:1rem;font:inherit;font-weight:600;background:#3b5bdb;color:#fff;border:0;border-radius:8px;padding:.6rem 1.1rem;cursor:pointer}
.err{color:#b42318;margin:.5rem 0 0}.brand{font-weight:700;color:#3b5bdb;text-decoration:none;display:inline-block;margin-bottom:1rem}`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · ringlink</title><style>${css}</style></head><body><main><a class="brand" href="/">ringlink</a>${body}</main></body></html>`;
}

export function notFoundPage(slug: string): string {
  return page(
    'Link not found',
    `<h1>This short link does not exist</h1><p>There is no link at <strong>/${escapeHtml(slug)}</strong>. Check the address for typos.</p><p><a href="/">Shorten a link</a></p>`,
  );
}

const goneText = {
  deleted: ['This link was deleted', 'Its owner deleted it, so it no longer leads anywhere.'],
  expired: ['This link has expired', 'It was set to stop working after a certain date.'],
  used_up: ['This link has been used up', 'It was limited to a number of clicks, and they have all been used.'],
} as const;

export function gonePage(reason: keyof typeof goneText): string {
  const [h, p] = goneText[reason];
  return page(h, `<h1>${h}</h1><p>${p}</p><p><a href="/">Shorten a link</a></p>`);
}

export function passwordPage(slug: string, error?: string): string {
  const err = error ? `<p class="err" id="pw-err" role="alert">${escapeHtml(error)}</p>` : '';
  return page(
    'Password required',
    `<h1>This link is protected</h1><p>Enter the password its owner gave you to continue.</p><form method="post" action="/${escapeHtml(slug)}"><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required autofocus${error ? ' aria-invalid="true" aria-describedby="pw-err"' : ''}>${err}<button type="submit">Continue</button></form>`,
  );
}

export function tooManyGuessesPage(retryAfterSec: number): string {
  return page(
    'Too many attempts',
    `<h1>Too many attempts</h1><p>Wait ${retryAfterSec} seconds before trying this link's password again.</p>`,
  );
}

export function unavailablePage(): string {
  return page(
    'Try again',
    `<h1>Please try again</h1><p>This link cannot be checked right now. Reload the page in a moment.</p>`,
  );
}
