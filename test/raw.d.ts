// Vite's `?raw` imports (a file's text), used by tests that read static config such as public/_headers.
declare module "*?raw" {
  const text: string;
  export default text;
}
