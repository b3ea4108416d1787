// GET /:slug → 302 to the link's target, counting the view: the handler a team would write
// by default with Next.js (App Router route handler) and Redis (ioredis): read the target,
// INCR the counter, redirect.
import Redis from 'ioredis';
import { NextResponse, type NextRequest } from 'next/server';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

// One client per server process, created on first use (not while `next build` collects routes).
const g = globalThis as typeof globalThis & { benchRedis?: Redis };
const redis = () => (g.benchRedis ??= new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));

export async function GET(_request: NextRequest, { params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const url = await redis().get(`link:${slug}`);
  if (!url) return new NextResponse('Not found', { status: 404, headers: { 'cache-control': 'no-store' } });
  await redis().incr(`clicks:${slug}`);
  const res = NextResponse.redirect(url, 302);
  res.headers.set('cache-control', 'no-store');
  return res;
}
