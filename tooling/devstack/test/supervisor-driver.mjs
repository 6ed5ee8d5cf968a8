// The supervisor as `npm run up` runs it, over supervised-child.mjs instead of the services, for
// supervise.test.mjs: `node supervisor-driver.mjs MARK MODE...` starts one child per MODE and
// prints the supervisor's lines, and each child's pid once it runs, on stdout.
import { once } from 'node:events';
import { runUntilStopped, Supervisor } from '../bin/supervise.mjs';

const [mark, ...modes] = process.argv.slice(2);
const settings = JSON.parse(process.env.SUPERVISION ?? '{}');
const log = (line) => console.log(line);
const supervisor = new Supervisor({ log, ...settings });
const specs = modes.map((mode, i) => ({
  name: `child-${i}`,
  script: new URL('./supervised-child.mjs', import.meta.url).pathname,
  args: [mode, mark],
  ready: (child) => once(child, 'message'),
}));
try {
  await supervisor.addInOrder(specs, (spec, child) => log(`${spec.name} started (pid ${child.pid})`));
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
log('all started');
log(`stopped: ${await runUntilStopped(supervisor, { log })}`);
