// POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=: an
// image from a container's changes; the body, when there is one, is a
// container config to start from. Answers 201 {"Id": "sha256:..."}.
import type { Router } from '../router.js';
import { queryBool, readJson, sendJson } from '../http.js';
import { HttpError } from '../errors.js';
import { errorText } from '../../errors.js';
import type { CommitOptions } from '../../containers/commit.js';
import { familiarString, parseReference } from '../../images/reference.js';
import type { ImageRuntimeConfig } from '../../images/types.js';
import { versionAtLeast } from '../version.js';

export interface CommitBackend {
  commit(container: string, opts: CommitOptions): Promise<string>;
}

/** The tag a commit names, familiar "name:tag": repo with its own tag, or `tag`, or latest; none without a repo. */
function commitTag(repo: string, tag: string): string | null {
  if (repo === '') return null;
  try {
    const ref = parseReference(tag !== '' ? `${repo}:${tag}` : repo);
    if (ref.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
    return familiarString({ ...ref, tag: ref.tag ?? 'latest' });
  } catch (e) {
    throw new HttpError(400, errorText(e));
  }
}

export function registerCommitRoutes(router: Router, backend: CommitBackend): void {
  router.add('POST', '/commit', async (ctx) => {
    const body = await readJson(ctx.req);
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
      throw new HttpError(400, 'invalid JSON: the body must be a container config object');
    }
    const q = ctx.query;
    const tag = commitTag(q.get('repo') ?? '', q.get('tag') ?? '');
    // dockerd pauses by default from API 1.13 when `pause` is not given.
    const pause = q.get('pause') === null || q.get('pause') === '' ? versionAtLeast(ctx.apiVersion, '1.13') : queryBool(q, 'pause');
    const id = await backend.commit(q.get('container') ?? '', {
      tag,
      imageRef: tag ?? '',
      author: q.get('author') ?? '',
      comment: q.get('comment') ?? '',
      changes: q.getAll('changes'),
      config: (body ?? null) as ImageRuntimeConfig | null,
      pause,
    });
    sendJson(ctx.res, 201, { Id: id });
  });
}
