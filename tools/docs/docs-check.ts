import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

// Keeps the README and docs/ true to the code: the environment variables documented in
// docs/configuration.md are the ones the code reads, and every relative link resolves (files and anchors).
// Pure functions over text, so a test can feed them a renamed variable or a broken link and see it caught.

/** A section of docs/configuration.md (by its `## ` heading) and the source files it documents. */
export interface EnvSection {
  heading: RegExp
  sources: string[]
}

export const ENV_SECTIONS: EnvSection[] = [
  { heading: /^Coordinator/, sources: ['coordinator/src/config.ts'] },
  { heading: /^Worker runtime/, sources: ['worker-runtime/src/launcher', 'tools/start.mjs', 'tools/bootstrap.mjs'] },
  { heading: /^Command-line tools/, sources: ['coordinator/src/cli'] },
]

const ENV_READS = [
  /\benv\.([A-Z][A-Z0-9_]{2,})\b/g, // env.NAME, process.env.NAME
  /\benv\[['"]([A-Z][A-Z0-9_]{2,})['"]\]/g, // env['NAME']
  /\(env, ['"]([A-Z][A-Z0-9_]{2,})['"]/g, // int(env, 'NAME', …): config.ts's readers
]

/** Every environment variable a source text reads. */
export function envVarsRead(source: string): Set<string> {
  const out = new Set<string>()
  for (const re of ENV_READS) for (const m of source.matchAll(re)) out.add(m[1]!)
  return out
}

/** `## ` sections of a markdown text: heading → the variables named in its tables' first column. */
export function envVarsDocumented(markdown: string): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>()
  let current: Set<string> | undefined
  for (const line of markdown.split('\n')) {
    const h = /^## (.+)$/.exec(line)
    if (h) sections.set(h[1]!.trim(), (current = new Set()))
    else if (current && line.startsWith('|')) {
      const first = line.split('|')[1] ?? ''
      for (const m of first.matchAll(/`([A-Z][A-Z0-9_]{2,})`/g)) current.add(m[1]!)
    }
  }
  return sections
}

export interface EnvProblem {
  variable: string
  problem: string
}

/**
 * Compares the documentation with the code: a documented variable no source of its section reads, and a
 * variable read by a section's sources that no section documents.
 */
export function envProblems(markdown: string, sections: { heading: RegExp; texts: string[] }[]): EnvProblem[] {
  const documented = envVarsDocumented(markdown)
  const all = new Set([...documented.values()].flatMap((s) => [...s]))
  const problems: EnvProblem[] = []
  for (const section of sections) {
    const heading = [...documented.keys()].find((h) => section.heading.test(h))
    if (heading === undefined) {
      problems.push({ variable: '–', problem: `no "## ${section.heading.source.replace(/^\^/, '')}…" section` })
      continue
    }
    const read = new Set(section.texts.flatMap((t) => [...envVarsRead(t)]))
    for (const v of documented.get(heading)!) if (!read.has(v)) problems.push({ variable: v, problem: `documented under "${heading}" but not read by its code` })
    for (const v of read) if (!all.has(v)) problems.push({ variable: v, problem: `read under "${heading}"'s code but not documented` })
  }
  return problems
}

/** A file, or every .ts/.mjs file under a folder. */
export function sourceTexts(root: string, paths: string[]): string[] {
  const walk = (p: string): string[] => statSync(p).isDirectory()
    ? readdirSync(p).sort().flatMap((e) => walk(join(p, e)))
    : /\.(ts|mjs)$/.test(p) ? [readFileSync(p, 'utf8')] : []
  return paths.flatMap((p) => walk(resolve(root, p)))
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>()
  const seen = new Map<string, number>()
  for (const line of withoutFences(markdown).split('\n')) {
    const h = /^#{1,6} (.+)$/.exec(line)
    if (!h) continue
    const base = h[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

const withoutFences = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '')
/** Fenced blocks and inline code hold text that looks like links but is not. */
const withoutCode = (markdown: string) => withoutFences(markdown).replace(/`[^`\n]*`/g, '')

/** Relative link targets of a markdown text (images too); web and mail links are not checked here. */
export function linkTargets(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
}

const DISK = { read: (p: string) => readFileSync(p, 'utf8'), exists: existsSync }

export interface LinkProblem {
  file: string
  target: string
  problem: string
}

/** Every relative link of the given markdown files, checked against the files on disk and their headings. */
export function linkProblems(root: string, files: string[], io: { read(path: string): string; exists(path: string): boolean } = DISK): LinkProblem[] {
  const { read, exists } = io
  const problems: LinkProblem[] = []
  for (const file of files) {
    const abs = resolve(root, file)
    for (const target of linkTargets(read(abs))) {
      const [path, anchor] = target.split('#', 2) as [string, string | undefined]
      const dest = path === '' ? abs : resolve(dirname(abs), decodeURIComponent(path))
      if (!dest.startsWith(root)) problems.push({ file, target, problem: 'points outside the repository' })
      else if (!exists(dest)) problems.push({ file, target, problem: `${relative(root, dest)} does not exist` })
      else if (anchor && dest.endsWith('.md') && !anchorsOf(read(dest)).has(anchor)) problems.push({ file, target, problem: `no heading #${anchor} in ${relative(root, dest)}` })
    }
  }
  return problems
}

/** README.md and every docs/*.md. */
export function markdownFiles(root: string): string[] {
  const docs = readdirSync(resolve(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)
  return ['README.md', ...docs]
}
