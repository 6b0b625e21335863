// Stands in for @babel/runtime-corejs3's `instance/trim` (see define-property.ts): core-js returns
// the value's own trim method, which the caller then invokes with .call(value).
export default function trim(it: string): () => string {
  return it.trim;
}
