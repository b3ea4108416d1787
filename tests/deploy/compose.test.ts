// The docker-compose file is validated by Debian's docker-compose (no engine needed):
// three nodes that seed each other with their own volumes and names, Redis, and a load
// balancer, and a refusal to start without the secrets.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const secrets = { CLUSTER_SECRET: 'test-secret-0123456789', ADMIN_TOKEN: 'test-admin-token-0123456789' };

function config(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    env: { PATH: process.env.PATH ?? '', ...env } as unknown as NodeJS.ProcessEnv,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('docker-compose.yml', () => {
  it('is valid and defines three seeded nodes with their own data volumes, redis and a load balancer', () => {
    const r = config(secrets);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    for (const n of ['node1', 'node2', 'node3']) {
      expect(out).toContain(`NODE_NAME: ${n}`);
      expect(out).toContain(`ADVERTISE_ADDR: ${n}:3000`);
      expect(out).toMatch(new RegExp(`${n}-data:/data`));
    }
    expect(out).toContain('SEEDS: node2:3000,node3:3000');
    expect(out).toContain('REDIS_URL: redis://redis:6379');
    expect(out).toMatch(/image: redis:7/);
    expect(out).toMatch(/published: 8080|8080:80/);
    expect(out).toContain(`CLUSTER_SECRET: ${secrets.CLUSTER_SECRET}`);
  });

  it('refuses to render without CLUSTER_SECRET, naming the variable', () => {
    const r = config({ ADMIN_TOKEN: secrets.ADMIN_TOKEN });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('CLUSTER_SECRET');
  });

  it('uses a current Node LTS image and runs the built server as a non-root user', () => {
    const dockerfile = execFileSync('cat', ['Dockerfile'], { encoding: 'utf8' });
    expect(dockerfile).toMatch(/FROM node:(22|24)-/);
    expect(dockerfile).toContain('USER node');
    expect(dockerfile).toContain('dist/server.mjs');
  });
});
