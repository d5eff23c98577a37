import { createInterface } from 'node:readline';

/**
 * docker's confirmation prompt: the question goes to stdout without a
 * newline; only y/Y (trimmed) confirms. No input counts as no.
 */
export async function confirm(question: string): Promise<boolean> {
  return (await readInput(question)).toLowerCase() === 'y';
}

/** docker's prompt.ReadInput: the question on stdout, one line of stdin, trimmed ('' at the end of input). */
export async function readInput(question: string): Promise<string> {
  process.stdout.write(question);
  const rl = createInterface({ input: process.stdin, terminal: false });
  try {
    return await new Promise<string>((resolve) => {
      rl.once('line', (l) => resolve(l.trim()));
      rl.once('close', () => resolve(''));
    });
  } finally {
    rl.close();
  }
}

/** readInput with the terminal's echo off (a password), then a newline as docker prints. */
export async function readSecret(question: string): Promise<string> {
  const tty = process.stdin.isTTY === true;
  if (tty) process.stdin.setRawMode(true);
  try {
    if (!tty) return await readInput(question);
    process.stdout.write(question);
    let answer = '';
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      const text = chunk.toString('utf8');
      const end = text.search(/[\r\n]/);
      if (text.includes('\u0003')) throw new Error('interrupted');
      answer += end >= 0 ? text.slice(0, end) : text;
      if (end >= 0) break;
    }
    return answer.trim();
  } finally {
    if (tty) {
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
    process.stdout.write('\n');
  }
}
