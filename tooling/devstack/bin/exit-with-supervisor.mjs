// Preloaded (node --import) into every child that supervise.mjs starts. The supervisor holds an
// IPC channel to the child; the channel closes however the supervisor ends, SIGKILL included
// (which runs no handler of its own), and the child then stops as it would on SIGTERM.
if (process.channel) {
  const stop = () => process.kill(process.pid, 'SIGTERM');
  process.once('disconnect', stop);
  // The supervisor may be gone before this listener was there to hear it.
  if (!process.connected) stop();
  // The channel must not keep a child alive that has finished its work.
  process.channel.unref();
}
