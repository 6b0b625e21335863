/** A permanent refusal (bad address, no such message, an opted-out number): retrying would not help. */
export class PermanentFailure extends Error {}
