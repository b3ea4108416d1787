// testkit: the one support module for everything that runs real ringlink nodes: the vitest
// suites under tests/, the benchmarks under bench/ and the chaos runner under chaos/. It depends
// on none of them (they import it), and never on vitest (testkit/vitest.ts holds useHarness).
//
//   paths     the repository root and dist/server.mjs
//   build     ensureBuilt(): dist/ rebuilt when older than its sources
//   cas       the admin compare-and-set route's request body and recorded reply
//   ports     freePort(), freePortRun()
//   wait      sleep, waitFor (bounded polling), pool
//   proc      spawnProc(): a child process with its output kept and its exit recorded
//             (optionally its own process group); CPU pinning
//   node      node environments (test and bench profiles), RingProcess, launchNode()
//   harness   Harness, the cluster handle: start nodes or a settled ring, stop, kill -9,
//             restart with the same name and DATA_DIR, pause/resume, partitions
//   http      the admin and public API helpers, waitReady, waitSettled, metrics
//   client    ApiClient (a browser: session cookie, Origin), visit(), accounts and links
//   sockets   socket.io clients of the live updates
//   netns     network namespaces and iptables partitions (root)
//   faketime  wall-clock jumps through libfaketime
export * from './build';
export * from './cas';
export * from './client';
export * from './faketime';
export * from './harness';
export * from './http';
export * from './log';
export * from './netns';
export * from './node';
export * from './paths';
export * from './ports';
export * from './proc';
export * from './sockets';
export * from './wait';
