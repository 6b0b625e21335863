/** A Worker secret by the name a number's config gives (`numbers[].secret`), or undefined when unset. */
export function secretNamed(env: Env, name: string): string | undefined {
  const v = (env as unknown as Record<string, unknown>)[name];
  return typeof v === "string" && v ? v : undefined;
}
