// Stands in for @babel/runtime-corejs3's defineProperty helper, which mimetext's browser build
// imports and which would pull ~125 KiB of core-js polyfills into the Worker (workerd needs none).
export default function defineProperty<T extends object>(obj: T, key: PropertyKey, value: unknown): T {
  Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
  return obj;
}
