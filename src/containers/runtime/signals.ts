// Signal names and numbers as the Engine API and runc take them ("KILL",
// "SIGTERM", "9").
import { constants as osConstants } from 'node:os';
import { SystemError } from '../../errors.js';

export function signalName(sig: number): NodeJS.Signals | undefined {
  for (const [name, num] of Object.entries(osConstants.signals)) {
    if (num === sig) return name as NodeJS.Signals;
  }
  return undefined;
}

export function signalNumber(sig: NodeJS.Signals | string | number): number {
  if (typeof sig === 'number') return sig;
  const s = sig.toUpperCase();
  if (/^[0-9]+$/.test(s)) return Number(s);
  const name = (s.startsWith('SIG') ? s : `SIG${s}`) as NodeJS.Signals;
  const n = osConstants.signals[name];
  if (n === undefined) throw new SystemError(`invalid signal: ${sig}`);
  return n;
}
