// docker commit from the container side: which container, whether it can be
// committed (not dead, not being removed), and the container's `commit`
// event. The image is made by the image store (src/images/commit.ts).
//
// --pause (the default, as in moby): a running container is frozen while its
// writable layer is read, so the layer is one point in time; --pause=false
// reads it while the container runs.
import { Conflict } from '../errors.js';
import type { EventSink } from '../events/bus.js';
import { commitContainer } from '../images/commit.js';
import type { ImageService } from '../images/service.js';
import type { ImageRuntimeConfig } from '../images/types.js';
import type { ContainerService } from './service.js';

/** The longest a commit keeps a container frozen: the layer of a large container takes a while to pack. */
const COMMIT_FREEZE_MAX_MS = 30 * 60_000;

export interface CommitOptions {
  /** A store tag key ("name:tag"), or null. */
  tag: string | null;
  /** The familiar reference as asked ("app:v1"), for the event; "" without one. */
  imageRef: string;
  author: string;
  comment: string;
  changes: string[];
  /** The request body's config, or null. */
  config: ImageRuntimeConfig | null;
  pause: boolean;
}

export class ContainerCommitter {
  constructor(
    private readonly containers: Pick<ContainerService, 'resolve' | 'freeze'>,
    private readonly images: ImageService,
    private readonly events: EventSink,
  ) {}

  /** Returns the new image's ID. */
  async commit(ref: string, opts: CommitOptions): Promise<string> {
    const c = this.containers.resolve(ref);
    if (c.state.status === 'dead') throw new Conflict(`You cannot commit container ${c.id} which is Dead`);
    if (c.state.status === 'removing') throw new Conflict(`You cannot commit container ${c.id} which is being removed`);
    // The event goes out before the thaw, as moby's deferred unpause has it: pause, commit, unpause.
    const make = async (): Promise<string> => {
      const id = await commitContainer(this.images, {
        containerId: c.id,
        imageId: c.imageId,
        containerConfig: c.config,
        config: opts.config,
        changes: opts.changes,
        author: opts.author,
        comment: opts.comment,
        tag: opts.tag,
      });
      this.events.publish('container', 'commit', c.id, {
        comment: opts.comment,
        imageID: id,
        imageRef: opts.imageRef,
        image: c.config.Image,
        name: c.name,
        ...(c.config.Labels ?? {}),
      });
      return id;
    };
    // The freeze pauses the container only if it runs (an already paused one stays so) and always thaws it.
    return opts.pause ? (await this.containers.freeze([c.id], make, { maxMs: COMMIT_FREEZE_MAX_MS })).result : make();
  }
}
