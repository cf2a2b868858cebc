// bench/e2b's measurements (run by bench/e2b, which starts the node and sets E2B_API_URL,
// E2B_SANDBOX_URL, E2B_API_KEY, SPINDLE_URL and SPINDLE_TOKEN). Each operation runs through E2B's
// SDK and through Spindle's /v1 API, alternately, from this one process; the median of the runs
// is shown. Prints a Markdown table.
const { Sandbox } = require('@e2b/code-interpreter')

const quick = process.argv.includes('--quick')
const RUNS = quick ? 5 : 20
const WARMUP = quick ? 2 : 5
const base = process.env.SPINDLE_URL
const auth = { Authorization: 'Bearer ' + process.env.SPINDLE_TOKEN, 'Content-Type': 'application/json' }

async function v1(method, path, body) {
  const res = await fetch(base + path, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  if (!res.ok) throw new Error(method + ' ' + path + ': ' + res.status + ' ' + text)
  return text ? JSON.parse(text) : null
}

let tags = 0
const tag = () => 'bench-e2b-' + process.pid + '-' + (++tags)

/** Milliseconds {@code f} takes; what it returns (a function) is then run, untimed, to clean up. */
async function time(f) {
  const t0 = process.hrtime.bigint()
  const cleanup = await f()
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (cleanup) await cleanup()
  return ms
}

const ops = {
  'create → first runCode result': {
    sdk: () => time(async () => {
      const s = await Sandbox.create()
      const r = await s.runCode('1+1')
      if (r.text !== '2') throw new Error('runCode answered ' + r.text)
      return () => s.kill()
    }),
    v1: () => time(async () => {
      const [s] = (await v1('POST', '/v1/sandboxes', { runtime: 'python' })).sandboxes
      const r = await v1('POST', '/v1/sandboxes/' + s.id + '/eval', { code: '1+1' })
      if (r.value !== '2') throw new Error('eval answered ' + r.value)
      return () => v1('DELETE', '/v1/sandboxes/' + s.id)
    }),
    e2b: 'cold start ~150–200 ms',
  },
  'fork of 10 (children running)': {
    setupSdk: async () => {
      const s = await Sandbox.create()
      await s.runCode('state = list(range(1000))')
      return s
    },
    sdk: (s) => time(async () => {
      const kids = await s.fork({ count: 10 })
      return async () => { for (const k of kids) await k.kill() }
    }),
    setupV1: async () => {
      const [s] = (await v1('POST', '/v1/sandboxes', { runtime: 'python' })).sandboxes
      await v1('POST', '/v1/sandboxes/' + s.id + '/eval', { code: 'state = list(range(1000))' })
      return s
    },
    v1: (s) => time(async () => {
      const t = tag()
      await v1('POST', '/v1/sandboxes/' + s.id + '/snapshot', { tag: t, mode: 'live' })
      const kids = (await v1('POST', '/v1/sandboxes', { snapshot: t, n: 10 })).sandboxes
      await v1('DELETE', '/v1/images/' + t)
      return async () => { for (const k of kids) await v1('DELETE', '/v1/sandboxes/' + k.id) }
    }),
    e2b: '—',
  },
  'pause → connect (state kept)': {
    // Only the pause and the connect are timed.
    sdk: async () => {
      const s = await Sandbox.create()
      await s.runCode('kept = 1')
      const t0 = process.hrtime.bigint()
      await s.pause()
      await s.connect()
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if ((await s.runCode('kept')).text !== '1') throw new Error('state lost')
      await s.kill()
      return ms
    },
    v1: async () => {
      const [s] = (await v1('POST', '/v1/sandboxes', { runtime: 'python' })).sandboxes
      await v1('POST', '/v1/sandboxes/' + s.id + '/eval', { code: 'kept = 1' })
      const t = tag()
      const t0 = process.hrtime.bigint()
      await v1('POST', '/v1/sandboxes/' + s.id + '/snapshot', { tag: t })
      await v1('DELETE', '/v1/sandboxes/' + s.id)
      const [c] = (await v1('POST', '/v1/sandboxes', { snapshot: t })).sandboxes
      await v1('DELETE', '/v1/images/' + t)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if ((await v1('POST', '/v1/sandboxes/' + c.id + '/eval', { code: 'kept' })).value !== '1') throw new Error('state lost')
      await v1('DELETE', '/v1/sandboxes/' + c.id)
      return ms
    },
    e2b: 'pause ~4 s per GiB, resume ~1 s',
  },
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

async function measure(op) {
  const sdkParent = op.setupSdk ? await op.setupSdk() : undefined
  const v1Parent = op.setupV1 ? await op.setupV1() : undefined
  const run = (f, parent) => f(parent)
  for (let i = 0; i < WARMUP; i++) {
    await run(op.sdk, sdkParent)
    await run(op.v1, v1Parent)
  }
  const sdk = []
  const v = []
  for (let i = 0; i < RUNS; i++) {
    sdk.push(await run(op.sdk, sdkParent))
    v.push(await run(op.v1, v1Parent))
  }
  if (sdkParent) await sdkParent.kill()
  if (v1Parent) await v1('DELETE', '/v1/sandboxes/' + v1Parent.id)
  return { sdk: median(sdk), v1: median(v) }
}

async function main() {
  // The node's warm interpreter is booted once, before anything is timed.
  const first = await Sandbox.create()
  await first.kill()
  const rows = []
  for (const [name, op] of Object.entries(ops)) {
    const m = await measure(op)
    rows.push([name, m.sdk.toFixed(1) + ' ms', m.v1.toFixed(1) + ' ms', (m.sdk / m.v1).toFixed(2) + '×', op.e2b])
  }
  const head = ['operation (median of ' + RUNS + ')', 'E2B SDK → Spindle', 'Spindle /v1', 'SDK / v1', 'E2B cloud (published, reference only)']
  const all = [head, ...rows]
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)))
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |'
  console.log(line(head))
  console.log('|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|')
  rows.forEach((r) => console.log(line(r)))
  console.log('\nnode ' + process.version + ', ' + require('os').cpus().length + ' cores, load ' + require('os').loadavg().map((x) => x.toFixed(2)).join(' '))
  process.exit(0)
}

main().catch((e) => { console.error(e); process.exit(1) })
