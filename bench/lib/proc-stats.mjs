// What a process and the machine used, from Linux's /proc (NaN elsewhere): the benches that run
// services as processes read their CPU time and peak memory here.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ, 100 on every Linux this runs on

/** User + system CPU seconds of a process so far. */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of this process's other children (the NATS and Neo4j that testkit started here). */
export function childrenCpuSeconds(excluding) {
  let sum = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || excluding.includes(Number(pid))) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === process.pid) sum += (Number(fields[11]) + Number(fields[12])) / TICKS;
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return Number.NaN;
  }
  return sum;
}

/** Busy and total CPU seconds of the whole machine since boot, over all cores. */
export function machineCpuSeconds() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = cpu[3] + cpu[4]; // idle + iowait
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / TICKS, total: total / TICKS };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** Peak resident memory of a live process so far (VmHWM), in bytes. */
export function peakRssBytes(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
