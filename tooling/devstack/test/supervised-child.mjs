// A child for supervise.test.mjs: `serve` runs until SIGTERM, `stubborn` ignores SIGTERM,
// `crash` exits with code 3 soon after it is ready, `broken` exits with code 3 before. The
// argument after the mode only marks the process as the test's, so the test can find every one
// it started.
const mode = process.argv[2];
if (mode === 'broken') process.exit(3);
if (mode === 'crash') setTimeout(() => process.exit(3), 20);
process.on('SIGTERM', () => {
  if (mode !== 'stubborn') process.exit(0);
});
setInterval(() => {}, 60_000);
// Ready: the handlers above are in place (the supervisor's `ready` waits for this).
process.send?.('ready');
