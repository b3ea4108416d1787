import type { NextConfig } from 'next';

// The custom server mounts Next with next({ dev: false, dir: <repo root> }); the UI lives in
// app/ and type-checks against its own tsconfig so the root one (no DOM) stays untouched.
const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  typescript: { tsconfigPath: 'tsconfig.next.json' },
};

export default nextConfig;
