// What a daemon's image store holds on disk, for tests that check a failed
// operation left nothing behind (docs/data-root.md, image/).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ImageStoreFiles {
  layers: string[];
  blobs: string[];
  distribution: string[];
  imagedb: string[];
  tmp: string[];
  references: string[];
}

function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export function imageStoreFiles(dataRoot: string): ImageStoreFiles {
  const root = join(dataRoot, 'image');
  const repos = JSON.parse(readFileSync(join(root, 'repositories.json'), 'utf8')) as { Repositories: Record<string, Record<string, string>> };
  return {
    layers: list(join(root, 'layers')),
    blobs: list(join(root, 'blobs', 'sha256')),
    distribution: list(join(root, 'distribution')),
    imagedb: list(join(root, 'imagedb')),
    tmp: list(join(root, 'tmp')),
    references: Object.values(repos.Repositories).flatMap((r) => Object.keys(r)).sort(),
  };
}

