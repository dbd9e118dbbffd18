// Profiling aid for bench/calls.ts: runs many calls of one side only, so
// `node --cpu-prof --import tsx bench/profile-calls.ts generated method`
// shows where that side spends its time.
import { setup, type Side } from './calls.js';

const side = (process.argv[2] ?? 'generated') as 'hand' | 'generated';
const what = (process.argv[3] ?? 'method') as keyof Side;
const n = Number(process.argv[4] ?? 20000);
const { sides, close } = await setup();
const start = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
for (let i = 0; i < n; i++) await sides[side][what](i);
const cpu = process.cpuUsage(cpu0);
console.log(`${side} ${what}: ${(Number(process.hrtime.bigint() - start) / 1000 / n).toFixed(1)} us/call wall, ${((cpu.user + cpu.system) / n).toFixed(1)} us/call CPU`);
await close();
