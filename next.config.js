// @ts-check
// The custom server mounts Next with next({ dev: false, dir: <repo root> }); the UI lives in
// app/ and type-checks against its own tsconfig so the root one (no DOM) stays untouched.
// Plain JavaScript (ESM: package.json says "type": "module") with JSDoc types, so that Next loads it
// without compiling TypeScript; tsconfig.next.json still checks it.

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  typescript: { tsconfigPath: 'tsconfig.next.json' },
};

export default nextConfig;
