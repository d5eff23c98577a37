import { createInterface } from 'node:readline';

/**
 * docker's confirmation prompt: the question goes to stdout without a
 * newline; only y/Y (trimmed) confirms. No input counts as no.
 */
export async function confirm(question: string): Promise<boolean> {
  process.stdout.write(question);
  const rl = createInterface({ input: process.stdin, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return answer.trim().toLowerCase() === 'y';
  } finally {
    rl.close();
  }
}
