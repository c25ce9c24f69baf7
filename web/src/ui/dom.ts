/** A tiny element builder: enough for this app without a UI framework on the first load. */
type Child = Node | string | null | undefined | false
type Attrs = Record<string, string | boolean | ((e: Event) => void) | undefined>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    if (typeof value === "function") el.addEventListener(name.replace(/^on/, "").toLowerCase(), value)
    else if (value === true) el.setAttribute(name, "")
    else el.setAttribute(name, value)
  }
  for (const c of children) if (c) el.append(c)
  return el
}
