// Scenarios of E2B's own SDK (@e2b/code-interpreter, on e2b) against a Spindle node, run by
// E2bSdkTest with E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY set. Usage: node scenarios.cjs NAME.
// Each prints one line `RESULT <json>` with what it saw; the Java test asserts on it.
const { Sandbox } = require('@e2b/code-interpreter')
const e2b = require('e2b')

function errorOf(e) {
  return { cls: e.constructor.name, isNotFound: e instanceof e2b.NotFoundError,
    isAuth: e instanceof e2b.AuthenticationError, isRate: e instanceof e2b.RateLimitError,
    isTimeout: e instanceof e2b.TimeoutError, isSandboxError: e instanceof e2b.SandboxError, message: e.message }
}

async function expectError(f) {
  try {
    await f()
  } catch (e) {
    return errorOf(e)
  }
  return null
}

const scenarios = {
  // State persists between runCode calls; the last expression's repr is the text.
  async state() {
    const s = await Sandbox.create({ metadata: { scenario: 'state' } })
    const a = await s.runCode('x = 41\nwords = ["a", "b"]')
    const b = await s.runCode('x += 1\n(x, words)')
    const info = await s.getInfo()
    await s.kill()
    return { id: s.sandboxId, first: a.text ?? null, second: b.text, count: b.executionCount, info }
  },

  // A cell that prints and then never ends: its stdout can only reach onStdout while it runs (a
  // node started with a short --max-timeout ends it with a limit, and a limit loses what a cell
  // kept for its answer).
  async streaming() {
    const s = await Sandbox.create()
    const events = []
    const exec = await s.runCode('print("started", flush=True)\nimport sys\nprint("to stderr", file=sys.stderr)\nwhile True:\n    pass',
      { onStdout: (m) => events.push(['stdout', m.line]), onStderr: (m) => events.push(['stderr', m.line]),
        onResult: (r) => events.push(['result', r.text]), onError: (e) => events.push(['error', e.name]),
        timeoutMs: 120000 })
    await s.kill()
    return { events, error: exec.error ?? null, stdout: exec.logs.stdout }
  },

  // Exceptions are execution errors (name, value, traceback); API failures are the SDK's typed errors.
  async errors() {
    const s = await Sandbox.create()
    const div = await s.runCode('def f():\n    return 1/0\nf()')
    const other = await s.runCode('1', { language: 'r' })
    const after = await s.runCode('"still alive"')
    const id = s.sandboxId
    await s.kill()
    return {
      div: div.error, otherLanguage: other.error, after: after.text,
      wrongKey: await expectError(() => Sandbox.create({ apiKey: 'not-the-token' })),
      connectUnknown: await expectError(() => Sandbox.connect('sb-000000000000')),
      infoKilled: await expectError(() => Sandbox.getInfo(id)),
      killKilled: await Sandbox.kill(id),
      runKilled: await expectError(() => s.runCode('1')),
      badTemplate: await expectError(() => Sandbox.create('no-such-template')),
    }
  },

  // Contexts are separate namespaces in one interpreter; envs apply to one execution.
  async contexts() {
    const s = await Sandbox.create({ envs: { AT_CREATE: 'yes' } })
    await s.runCode('shared = "default"')
    const ctx = await s.createCodeContext()
    const inCtx = await s.runCode('mine = 7\n"shared" in globals()', { context: ctx })
    const back = await s.runCode('("mine" in globals(), shared)')
    const ctxAgain = await s.runCode('mine * 6', { context: ctx })
    const listed = (await s.listCodeContexts()).map((c) => c.id)
    await s.removeCodeContext(ctx)
    const removed = await expectError(() => s.runCode('1', { context: ctx }))
    const envs = await s.runCode('import os\n(os.environ.get("AT_CREATE"), os.environ.get("ONCE"))', { envs: { ONCE: 'now' } })
    const envsAfter = await s.runCode('os.environ.get("ONCE")')
    await s.kill()
    return { ctx: ctx.id, inCtx: inCtx.text, back: back.text, ctxAgain: ctxAgain.text, listed, removed,
      envs: envs.text, envsAfter: envsAfter.text ?? null }
  },

  // Five children continue the parent's state, each with its own randomness; the parent runs on.
  async fork() {
    const s = await Sandbox.create()
    await s.runCode('import random\nrandom.seed(7)\nhistory = ["parent"]')
    const kids = await s.fork({ count: 5 })
    const children = []
    for (const k of kids) {
      if (k instanceof Error) {
        children.push({ error: errorOf(k) })
        continue
      }
      const r = await k.runCode('history.append("child")\n(len(history), random.random())')
      children.push({ id: k.sandboxId, text: r.text })
    }
    const parent = await s.runCode('(len(history), random.random())')
    const listed = (await Sandbox.list().nextItems()).map((i) => i.sandboxId)
    for (const k of kids) {
      if (!(k instanceof Error)) await k.kill()
    }
    await s.kill()
    return { parent: parent.text, children, listed, parentId: s.sandboxId }
  },

  // The SDK's files and Python's open() share one tree, which forks and pause carry: each child
  // writes its own copy, the parent never sees a child's write.
  async files() {
    const s = await Sandbox.create()
    await s.files.write('/home/user/from-sdk.txt', 'written by the SDK')
    const seenByPython = await s.runCode('open("/home/user/from-sdk.txt").read()')
    await s.runCode('import os\nos.makedirs("/home/user/out", exist_ok=True)\nopen("/home/user/out/py.txt", "w").write("written by Python")')
    const readBySdk = await s.files.read('/home/user/out/py.txt')
    const listed = (await s.files.list('/home/user')).map((e) => [e.name, e.type]).sort()
    const exists = await s.files.exists('/home/user/out/py.txt')
    const missing = await expectError(() => s.files.read('/home/user/nope.txt'))
    const kids = await s.fork({ count: 2 })
    const childWrites = []
    for (const [i, k] of kids.entries()) {
      await k.files.write('/home/user/out/py.txt', 'child ' + i)
      childWrites.push(await k.runCode('open("/home/user/out/py.txt").read()').then((r) => r.text))
    }
    const parentAfterForks = await s.files.read('/home/user/out/py.txt')
    await s.files.write('/home/user/from-sdk.txt', 'before pause')
    await s.pause()
    const c = await Sandbox.connect(s.sandboxId)
    const afterPause = await c.runCode('open("/home/user/from-sdk.txt").read()')
    await c.files.remove('/home/user/from-sdk.txt')
    const removed = await c.files.exists('/home/user/from-sdk.txt')
    for (const k of kids) await k.kill()
    await c.kill()
    return { seenByPython: seenByPython.text, readBySdk, listed, exists, missing, childWrites,
      parentAfterForks, afterPause: afterPause.text, removed }
  },

  // Pause keeps the sandbox (a snapshot), connect resumes it under the same id with its state.
  async pause() {
    const s = await Sandbox.create({ metadata: { scenario: 'pause' } })
    await s.runCode('kept = {"n": 3}')
    const paused = await s.pause()
    const pausedAgain = await s.pause()
    const listed = (await Sandbox.list({ query: { metadata: { scenario: 'pause' } } }).nextItems())
      .map((i) => [i.sandboxId, i.state])
    const whilePaused = await expectError(() => s.runCode('1'))
    const c = await Sandbox.connect(s.sandboxId)
    const r = await c.runCode('kept["n"] += 1\nkept')
    const state = (await c.getInfo()).state
    await c.kill()
    return { id: s.sandboxId, paused, pausedAgain, listed, whilePaused, after: r.text, connectedId: c.sandboxId, state }
  },

  // A sandbox past its timeout is ended by the node; setTimeout moves the end.
  async timeout() {
    const s = await Sandbox.create({ timeoutMs: 1000 })
    const kept = await Sandbox.create({ timeoutMs: 1000 })
    await kept.setTimeout(600000)
    let running = true
    for (let i = 0; i < 300 && running; i++) {
      running = await s.isRunning()
      if (running) await new Promise((r) => setTimeout(r, 100))
    }
    const info = await expectError(() => Sandbox.getInfo(s.sandboxId))
    const keptRunning = await kept.isRunning()
    const keptRun = (await kept.runCode('"alive"')).text
    await kept.kill()
    return { ended: !running, info, keptRunning, keptRun }
  },

  // Kill ends the sandbox: it is gone from the list, and a second kill says so.
  async kill() {
    const s = await Sandbox.create()
    await s.runCode('1')
    const killed = await s.kill()
    const running = await s.isRunning()
    const listed = (await Sandbox.list().nextItems()).map((i) => i.sandboxId)
    const again = await Sandbox.kill(s.sandboxId)
    return { id: s.sandboxId, killed, running, listed, again }
  },

  // Snapshots are Spindle snapshot tags: create one, branch it as a template, delete it.
  async snapshots() {
    const s = await Sandbox.create()
    await s.runCode('v = "from the snapshot"')
    const snap = await s.createSnapshot({ name: 'e2b-test-snap' })
    const listed = (await s.listSnapshots().nextItems()).map((i) => i.snapshotId)
    const child = await Sandbox.create(snap.snapshotId)
    const r = await child.runCode('v')
    await child.kill()
    await s.kill()
    const deleted = await Sandbox.deleteSnapshot(snap.snapshotId)
    const deletedAgain = await Sandbox.deleteSnapshot(snap.snapshotId)
    return { snap, listed, fromSnapshot: r.text, deleted, deletedAgain }
  },
}

const name = process.argv[2]
if (!scenarios[name]) {
  console.error('no scenario ' + name + '; scenarios: ' + Object.keys(scenarios).join(', '))
  process.exit(2)
}
scenarios[name]().then((r) => {
  console.log('RESULT ' + JSON.stringify(r))
  // runCode leaves its request timer pending when the answer is an error status (the SDK clears
  // it only on success), which would keep node alive for its 60 s.
  process.exit(0)
}, (e) => {
  console.error(e)
  process.exit(1)
})
