// The few Node names the SDK touches when it runs in Node (no @types/node dependency).
declare const process: { versions?: { node?: string }; cwd(): string };
declare const __dirname: string | undefined;
declare module 'node:fs/promises' {
  export function readFile(path: URL | string): Promise<Uint8Array>;
}
declare module 'node:module' {
  export function createRequire(from: string): (id: string) => unknown;
}
