#!/usr/bin/env node
// `npm start` will run a local 3-node cluster on 127.0.0.1:3000-3002 once the cluster
// runtime (transport, HTTP server, launcher) lands. Until then it says so plainly.
console.log(`ringlink: the ring engine is in place (ring/), but the runnable cluster and the web app
come with the cluster-runtime and link-shortener issues.

What you can run today:
  npm test                          type-check, unit, property and simulation tests
  npm run sim -- --seeds 100        the deterministic simulator over 100 seeds
  npm run sim -- --seed 7 --verbose replay one seed with its full trace
  npm run bench:placement           partition balance and movement figures
  npm run bench:quorum              in-process quorum put/get throughput`);
