/** Vite's `?raw` imports: a file's text (test/config/schema.test.ts compares generated files with it). */
declare module "*?raw" {
  const text: string;
  export default text;
}
