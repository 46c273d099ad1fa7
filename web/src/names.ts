// Readable names for scrape targets and upstreams: `10.0.1.11:8000` is shown as its
// replica, pod or host, and the address itself only in a tooltip.
import { series } from "./api";

/** Labels that name a target, best first. */
const NAME_LABELS = ["replica", "pod", "kubernetes_pod_name", "Hostname"];
/** Labels whose values are addresses (`host:port`). */
export const ADDRESS_LABELS = ["instance", "server_address"];

/** Address → name, learned from the targets' own series (`up`, DCGM's `Hostname`). */
const known = new Map<string, string>();
/** Address → job, for the fallback name. */
const jobs = new Map<string, string>();
let loading: { key: string; done: Promise<void> } | null = null;

export function isAddress(value: string): boolean {
  return /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/.test(value);
}

function split(address: string): { host: string; port: string } {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  return m ? { host: m[1], port: m[2] } : { host: address, port: "" };
}

function ownName(labels: Record<string, string>): string | undefined {
  for (const k of NAME_LABELS) if (labels[k]) return labels[k];
  return undefined;
}

/** Remembers the names that label sets give their `instance`. */
export function learn(sets: Record<string, string>[]): void {
  for (const labels of sets) {
    const address = labels.instance;
    if (!address) continue;
    const name = ownName(labels);
    if (name && !known.has(address)) known.set(address, name);
    if (labels.job && !jobs.has(address)) jobs.set(address, labels.job);
  }
}

/**
 * Loads the names of every target seen in the range, once per range: the
 * target labels of `up` and the `Hostname` of GPU series. Failures leave the
 * fallback (the host part of the address).
 */
export function loadNames(r: { start: number; end: number }, signal?: AbortSignal): Promise<void> {
  const key = `${r.start}|${r.end}`;
  if (loading?.key === key) return loading.done;
  const done = series('{__name__=~"up|DCGM_FI_DEV_GPU_UTIL"}', r, signal)
    .then(learn)
    .catch(() => {
      if (loading?.key === key) loading = null;
    });
  loading = { key, done };
  return done;
}

export interface Name {
  /** What to show. */
  text: string;
  /** The raw address, for a tooltip; absent when `text` is not an address's name. */
  title?: string;
}

/**
 * The readable name of the address in `labels[key]`: a naming label of the
 * series, else one learned for that address, else `job on host` (or the
 * host). Values that are not addresses are returned as they are.
 */
export function displayName(labels: Record<string, string>, key = "instance"): Name {
  const raw = labels[key] ?? "";
  if (!isAddress(raw)) return { text: raw };
  const name = (key === "instance" ? ownName(labels) : undefined) ?? known.get(raw);
  if (name) return { text: name, title: raw };
  const { host } = split(raw);
  const job = key === "instance" ? (labels.job ?? jobs.get(raw)) : undefined;
  return { text: job ? `${job} on ${host}` : host, title: raw };
}

/**
 * Makes names that several addresses share distinct by adding each one's
 * port; `group` (a job, say) limits the comparison to items of one group.
 */
export function disambiguate<T extends { text: string; title?: string }>(items: T[], group: (index: number) => string = () => ""): T[] {
  const addresses = new Map<string, Set<string>>();
  const key = (it: T, i: number) => `${group(i)}\u0000${it.text}`;
  items.forEach((it, i) => {
    if (it.title) addresses.set(key(it, i), (addresses.get(key(it, i)) ?? new Set()).add(it.title));
  });
  return items.map((it, i) => {
    if (!it.title || (addresses.get(key(it, i))?.size ?? 0) < 2) return it;
    const ports = it.title.split(", ").map((a) => split(a).port).filter(Boolean);
    return ports.length ? { ...it, text: `${it.text}, port ${ports.join("/")}` } : it;
  });
}
