// What a build streams back, as moby's build route writes it: the builder's
// text as {"stream": ...} messages (what RUN writes to stderr wrapped in
// red, as moby's stderr formatter does), the image ID of each finished
// stage as an aux message (API 1.30 and later), and the progress of the
// pulls FROM needs as the pull's own messages.
import type { JSONMessage } from '../go/jsonmessage.js';
import { Progress } from '../images/progress.js';

export class BuildOutput {
  /** Pull progress, into the same stream. */
  readonly progress: Progress;

  constructor(
    private readonly sink: (m: JSONMessage) => void,
    private readonly wantAux: boolean,
  ) {
    this.progress = new Progress(sink);
  }

  stdout(text: string): void {
    this.sink({ stream: text });
  }

  stderr(text: string): void {
    this.sink({ stream: `\u001b[91m${text}\u001b[0m` });
  }

  /** The build result of a stage: {"aux": {"ID": "sha256:..."}}. */
  imageId(id: string): void {
    if (this.wantAux) this.sink({ aux: { ID: id } });
  }
}
