// JSON and RFC 9457 problem+json responses, and bounded body reading.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** Extra members of a problem: `field` names the input at fault, `code` is a stable machine name. */
export interface ProblemExtras {
  field?: string;
  code?: string;
}

export function problem(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
  extras: ProblemExtras = {},
): void {
  const type = `https://ringlink.dev/problems/${extras.code ? extras.code.replace(/_/g, '-') : title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const payload = JSON.stringify({ type, title, status, detail, ...extras });
  res.writeHead(status, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly headers: Record<string, string> = {},
    readonly extras: ProblemExtras = {},
  ) {
    super(detail);
  }
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The reason phrase a problem's title carries for a status. */
export function statusTitle(status: number): string {
  return titles[status] ?? 'Error';
}

/** An error about one input field, with a stable code: what the UI shows next to the field. */
export function inputError(
  status: number,
  field: string | undefined,
  code: string,
  detail: string,
  headers: Record<string, string> = {},
): HttpError {
  return new HttpError(status, statusTitle(status), detail, headers, { ...(field ? { field } : {}), code });
}

/** Deepest nesting of arrays and objects a JSON body may have (deeper ones could not be serialized back). */
export const jsonDepthMax = 64;

/** Whether `value` nests arrays/objects more than `max` levels deep (iterative: no recursion on hostile input). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * A request body of at most `limitBytes`, or null when it is longer. Past the limit the rest
 * is still read, and dropped, so the answer goes out at once and a kept-alive connection
 * stays usable (a reader that stops reading, such as a loop left early, leaves the rest to be
 * parsed as the next request, which then hangs). A body that ends early (the client closed
 * the connection) is a 400.
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer | null> {
  if (Number(req.headers['content-length'] ?? 0) > limitBytes) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  const complete = await new Promise<boolean>((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      if (size > limitBytes) return;
      size += chunk.length;
      if (size > limitBytes) resolve(false);
      else chunks.push(chunk);
    });
    req.once('end', () => resolve(true));
    req.once('error', () =>
      reject(new HttpError(400, 'Bad Request', 'the request body ended before its declared length')),
    );
    req.once('close', () => {
      if (!req.complete) reject(new HttpError(400, 'Bad Request', 'the request body ended before its declared length'));
    });
  });
  return complete ? Buffer.concat(chunks, size) : null;
}

/** Read a JSON body of at most `limitBytes`; 413 beyond, 400 when it is not JSON, nests too deeply, or ends early. */
export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const body = await readBody(req, limitBytes);
  if (body === null) throw new HttpError(413, 'Payload Too Large', `request bodies are limited to ${limitBytes} bytes`);
  if (body.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'Bad Request', 'the request body is not valid JSON');
  }
  if (nestedDeeperThan(value, jsonDepthMax))
    throw new HttpError(
      400,
      'Bad Request',
      `the request body nests arrays or objects more than ${jsonDepthMax} levels deep`,
    );
  return value;
}
