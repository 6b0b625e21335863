import { describe, expect, it } from "vitest";
import { readStreamLimited } from "../../workers/kernel/read-limited.ts";

const stream = (sizes: number[]) => {
  let i = 0;
  return {
    pulled: () => i,
    body: new ReadableStream<Uint8Array>({ pull: (c) => (i < sizes.length ? c.enqueue(new Uint8Array(sizes[i++]!)) : c.close()) }, { highWaterMark: 0 }),
  };
};

describe("readStreamLimited", () => {
  it("joins the chunks of a stream within the limit", async () => {
    expect((await readStreamLimited(stream([3, 4, 5]).body, 12))?.byteLength).toBe(12);
  });
  it("gives null at the first chunk past the limit and pulls no further", async () => {
    const s = stream([4, 4, 4, 4, 4, 4]);
    expect(await readStreamLimited(s.body, 10)).toBeNull();
    expect(s.pulled()).toBe(3);
  });
  it("an absent body is empty", async () => {
    expect((await readStreamLimited(null, 10))?.byteLength).toBe(0);
  });
});
