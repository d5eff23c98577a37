// The process the crash test kills: a backup of ROOT into the repository in
// REPO_DIR (opened with PASSWORD), announcing each file it puts on stdout
// ("put KIND") so the test can kill it at a chosen point of the write order.
import { DirectoryTarget } from '../../helpers/directory-target.js';
import { Repository } from '../../../src/backup/repo/repository.js';
import { startBackup } from '../../../src/backup/engine/backup.js';
import type { FileKind } from '../../../src/backup/targets/target.js';

const [repoDir, root, password] = process.argv.slice(2) as [string, string, string];

class AnnouncingTarget extends DirectoryTarget {
  override async put(kind: FileKind, name: string, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    await super.put(kind, name, body);
    process.stdout.write(`put ${kind}\n`);
  }
}

const repo = await Repository.open(new AnnouncingTarget(repoDir), { password });
const session = await startBackup(repo);
const live = await session.scan(root);
const snapshot = await session.finish(await live.recheck(), { volume: { name: 'crash' }, consistency: { mode: 'freeze', freezeMs: 0 } });
process.stdout.write(`done ${snapshot.id}\n`);
