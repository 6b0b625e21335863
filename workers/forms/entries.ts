// What a form post carries, whatever its encoding: named text values and uploaded files. Pure.
import { badRequest } from "../kernel/errors.ts";

export interface UploadedFile {
  filename: string;
  /** As the browser declared it, lowercased. */
  contentType: string;
  bytes: Uint8Array;
}

export type Entry = { name: string; value: string } | { name: string; file: UploadedFile };

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Strict UTF-8: invalid bytes are the sender's error (400), never silently replaced. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw badRequest("invalid_encoding", `${what}: not valid UTF-8`);
  }
}
