// JSON and RFC 9457 problem+json responses, and bounded body reading.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), 'cache-control': 'no-store', ...headers });
  res.end(payload);
}

/** Extra members of a problem: `field` names the input at fault, `code` is a stable machine name. */
export interface ProblemExtras {
  field?: string;
  code?: string;
}

export function problem(res: ServerResponse, status: number, title: string, detail: string, headers: Record<string, string> = {}, extras: ProblemExtras = {}): void {
  const type = `https://ringlink.dev/problems/${extras.code ? extras.code.replace(/_/g, '-') : title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const payload = JSON.stringify({ type, title, status, detail, ...extras });
  res.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(payload), 'cache-control': 'no-store', ...headers });
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

const titles: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** An error about one input field, with a stable code: what the UI shows next to the field. */
export function inputError(status: number, field: string | undefined, code: string, detail: string, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, titles[status] ?? 'Error', detail, headers, { ...(field ? { field } : {}), code });
}

/** Read a JSON body of at most `limitBytes`; 413 beyond, 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) throw new HttpError(413, 'Payload Too Large', `request bodies are limited to ${limitBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new HttpError(413, 'Payload Too Large', `request bodies are limited to ${limitBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'Bad Request', 'the request body is not valid JSON');
  }
}
