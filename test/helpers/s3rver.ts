// Starts s3rver, a local S3 server, for a test: on 127.0.0.1, a free port, a
// temporary directory, the given buckets; stopped and removed after the test.
// It runs in a child process because it makes ListObjectsV2 continuation
// tokens with DES, which Node 20's OpenSSL 3 has only in its legacy provider
// (--openssl-legacy-provider, a process-wide flag); and so that the memory a
// test measures is the client's alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MAIN = join(import.meta.dirname, 's3rver-main.js');

/** s3rver's fixed account; it checks the access key id, not the secret. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startS3rver(buckets: string[]): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, dir, ...buckets], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.stdin.end();
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening: ${stderr}`)));
      child.once('error', reject);
    });
    return { endpoint: `http://127.0.0.1:${port}`, stop };
  } catch (e) {
    child.kill('SIGKILL');
    await stop();
    throw e;
  }
}
