// E2B's own SDK (e2b 2.51.0) calling envd, sandbox.files and sandbox.commands, against Spindle's
// Envd behind a stub control plane; run by EnvdSdkTest with E2B_API_URL, E2B_SANDBOX_URL,
// E2B_API_KEY and SANDBOX_ID set (NODE_PATH names the installed SDK). The sandbox's tree is
// mounted at /guest. Prints one line `RESULT <json>` with what the SDK saw; the Java test
// asserts on it, and on the tree on disk.
const e2b = require('e2b')

async function failure(f) {
  try {
    await f()
  } catch (e) {
    return { cls: e.constructor.name, isNotFound: e instanceof e2b.NotFoundError,
      isFileNotFound: e instanceof e2b.FileNotFoundError, isInvalid: e instanceof e2b.InvalidArgumentError,
      exitCode: e.exitCode ?? null, stderr: e.stderr ?? null, message: e.message }
  }
  return null
}

async function main() {
  const s = await e2b.Sandbox.connect(process.env.SANDBOX_ID)
  const r = {}
  const f = s.files

  const w = await f.write('/guest/sdk/hello.txt', 'hello from node')
  r.write = { path: w.path, name: w.name, type: w.type }
  r.read = await f.read('/guest/sdk/hello.txt')
  r.bytes = (await f.read('/guest/sdk/hello.txt', { format: 'bytes' })).length
  r.empty = await f.read((await f.write('/guest/sdk/empty.txt', '')).path)
  r.many = (await f.write([{ path: '/guest/sdk/m/1.txt', data: 'one' },
    { path: '/guest/sdk/m/2.txt', data: new Blob(['two']) }])).map((e) => e.path)
  r.list = (await f.list('/guest/sdk')).map((e) => [e.name, e.type])
  r.deep = (await f.list('/guest/sdk', { depth: 2 })).map((e) => e.path)
  r.makeDir = await f.makeDir('/guest/sdk/d/e')
  r.makeDirAgain = await f.makeDir('/guest/sdk/d/e')
  r.rename = (await f.rename('/guest/sdk/hello.txt', '/guest/sdk/d/renamed.txt')).path
  r.existsOld = await f.exists('/guest/sdk/hello.txt')
  r.existsNew = await f.exists('/guest/sdk/d/renamed.txt')
  const info = await f.getInfo('/guest/sdk/d/renamed.txt')
  r.info = { name: info.name, type: info.type, path: info.path, size: info.size, permissions: info.permissions,
    modifiedIsDate: info.modifiedTime instanceof Date }
  r.readMissing = await failure(() => f.read('/guest/sdk/nope.txt'))
  r.infoMissing = await failure(() => f.getInfo('/guest/sdk/nope.txt'))
  r.outside = await failure(() => f.list('/etc'))
  await f.remove('/guest/sdk/d')
  r.existsRemoved = await f.exists('/guest/sdk/d')

  const c = s.commands
  const py = await c.run('python -c "print(open(\'/guest/sdk/m/1.txt\').read() + \'!\')"')
  r.python = { stdout: py.stdout, stderr: py.stderr, exitCode: py.exitCode }
  const chunks = []
  const echo = await c.run('echo streamed out', { onStdout: (d) => chunks.push(d) })
  r.echo = { stdout: echo.stdout, chunks }
  r.exit = await failure(() => c.run('python -c "import sys; sys.exit(4)"'))
  r.unknown = await failure(() => c.run('npm install left-pad'))
  r.pipe = await failure(() => c.run('ls | wc -l'))
  await c.run('mkdir -p /guest/made/by/mkdir')
  r.ls = (await c.run('ls /guest/made/by')).stdout
  const bg = await c.run('python -c "print(6 * 7)"', { background: true })
  r.background = { pid: typeof bg.pid, result: (await bg.wait()).stdout }
  r.processes = await c.list()
  r.kill = await c.kill(424242)
  // Round trips through the SDK (printed, not asserted): the median of 10 of each.
  const median = async (f) => {
    const t = []
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now()
      await f(i)
      t.push(performance.now() - t0)
    }
    return Math.round(t.sort((a, b) => a - b)[5] * 10) / 10
  }
  r.timingMs = {
    exists: await median(() => f.exists('/guest/sdk/m/1.txt')),
    write1KiB: await median((i) => f.write('/guest/sdk/t/' + i, 'x'.repeat(1024))),
    read1KiB: await median((i) => f.read('/guest/sdk/t/' + i)),
    list: await median(() => f.list('/guest/sdk')),
    echo: await median(() => c.run('echo hi')),
    pythonC: await median(() => c.run('python -c "print(1)"')),
  }
  console.log('RESULT ' + JSON.stringify(r))
}

main().catch((e) => {
  console.log('FAILED ' + (e && e.stack ? e.stack : e))
  process.exit(1)
})
