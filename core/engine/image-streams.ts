import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Runs `produce` (a tar writer) into `out` through `stream.pipeline`, telling `onBytes` the bytes
 * that went out. When `out` fails or closes early (the client went away) the pipeline destroys
 * the producer's sink, so the producer stops at its next write instead of waiting; the first
 * error is reported. `out` is ended when the producer is done.
 */
export async function streamInto(
  out: NodeJS.WritableStream, onBytes: (bytes: number) => void, produce: (sink: PassThrough) => Promise<unknown>,
): Promise<void> {
  const sink = new PassThrough({ highWaterMark: 1 << 20 });
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      onBytes(bytes);
      done(null, chunk);
    },
  });
  const producing = produce(sink).then(
    () => {
      if (!sink.writableEnded) sink.end();
    },
    (error: unknown) => {
      sink.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    },
  );
  const [produced, piped] = await Promise.allSettled([producing, pipeline(sink, counter, out)]);
  // The pipeline fails with the first error of any stream: the producer's (it destroys the sink
  // with it) or the output's; the producer's own then only says that its sink went away.
  if (piped.status === 'rejected') throw piped.reason;
  if (produced.status === 'rejected') throw produced.reason;
}
