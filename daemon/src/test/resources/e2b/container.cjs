// A container sandbox through E2B's own SDK (e2b): a template naming a Spindle image (busybox),
// run by E2bContainerSdkTest with E2B_API_URL, E2B_SANDBOX_URL, E2B_API_KEY and SPINDLE_IMAGE
// set. Usage: node container.cjs NAME. Prints one line `RESULT <json>`.
const e2b = require('e2b')
const { Sandbox } = e2b

async function outcome(f) {
  try {
    const r = await f()
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    return { cls: e.constructor.name, exitCode: e.exitCode ?? null, stdout: e.stdout ?? null,
      stderr: e.stderr ?? null, error: e.error ?? null, message: e.message }
  }
}

const scenarios = {
  // A node without --containers: the image template is refused at once.
  async refused() {
    return { create: await outcome(() => Sandbox.create(process.env.SPINDLE_IMAGE)) }
  },

  async container() {
    const s = await Sandbox.create(process.env.SPINDLE_IMAGE, { metadata: { scenario: 'container' } })
    const ls = await outcome(() => s.commands.run('ls /'))
    const exit3 = await outcome(() => s.commands.run('sh -c "echo hi; echo err >&2; exit 3"'))
    const envs = await outcome(() => s.commands.run('echo $GREETING; pwd', { envs: { GREETING: 'hello' }, cwd: '/bin' }))
    // Files through envd's /files, seen by a command; a command's file seen by files.read.
    await s.files.write('/data/note.txt', 'written through files\n')
    const cat = await outcome(() => s.commands.run('cat /data/note.txt'))
    await s.commands.run('echo from-command > /data/out.txt')
    const readBack = await s.files.read('/data/out.txt')
    const listed = (await s.files.list('/data')).map((e) => e.name)
    // Output streams while a command runs: the callback fires before the command ends.
    const streamed = []
    const slow = await s.commands.run('echo first; read line; echo "got $line"',
      { background: true, stdin: true, onStdout: (d) => streamed.push(d) })
    while (streamed.length === 0) await new Promise((r) => setTimeout(r, 20))
    const beforeInput = streamed.join('')
    await s.commands.sendStdin(slow.pid, 'typed\n')
    const slowEnd = await slow.wait()
    // A background command is listed, killed, then gone from the list.
    const bg = await s.commands.run('sleep 1000', { background: true })
    const running = (await s.commands.list()).map((p) => p.pid)
    const killed = await s.commands.kill(bg.pid)
    const bgEnd = await outcome(() => bg.wait())
    const after = (await s.commands.list()).map((p) => p.pid)
    const killedAgain = await s.commands.kill(bg.pid)
    const info = await s.getInfo()
    const sandboxes = (await Sandbox.list().nextItems()).map((i) => [i.sandboxId, i.state, i.templateId])
    const pause = await outcome(() => s.pause())
    const snapshot = await outcome(() => s.createSnapshot())
    // fork is the code interpreter SDK's; its wire call, as it sends it.
    const forkAnswer = await fetch(process.env.E2B_API_URL + '/sandboxes/' + s.sandboxId + '/fork', {
      method: 'POST', headers: { 'X-API-Key': process.env.E2B_API_KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify({ count: 1 }) })
    const fork = { status: forkAnswer.status, body: await forkAnswer.json() }
    await s.kill()
    const infoKilled = await outcome(() => Sandbox.getInfo(s.sandboxId))
    return { id: s.sandboxId, ls, exit3, envs, cat, readBack, listed, beforeInput, slowEnd: slowEnd.stdout,
      bgPid: bg.pid, running, killed, bgEnd, after, killedAgain, info, sandboxes, pause, snapshot, fork,
      infoKilled }
  },
}

const name = process.argv[2]
if (!scenarios[name]) {
  console.error('no scenario ' + name + '; scenarios: ' + Object.keys(scenarios).join(', '))
  process.exit(2)
}
scenarios[name]().then((r) => {
  console.log('RESULT ' + JSON.stringify(r))
  process.exit(0)
}, (e) => {
  console.error(e)
  process.exit(1)
})
