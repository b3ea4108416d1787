// Baseline app for bench/redirect.ts. Packages come from the repository's node_modules
// (through the node_modules symlink), so the repository root is the build's root.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  // ioredis is a Node package with optional native paths: load it from node_modules at run time.
  serverExternalPackages: ['ioredis'],
};

export default nextConfig;
