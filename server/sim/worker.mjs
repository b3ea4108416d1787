// Worker-thread entry for the simulator CLI under tsx: registers tsx's TypeScript loader in
// this thread (loader hooks are per thread), then runs the seeds it was given.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
