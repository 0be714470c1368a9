// The well-behaved client of the hostile benchmark, on its own thread: one REQ (an author's
// latest 20 notes) every 50 ms for `seconds`, timing REQ → EOSE. Posts the latencies back.
import { parentPort, workerData } from 'node:worker_threads'
import WebSocket from 'ws'

const { url, authors, seconds } = workerData as { url: string; authors: string[]; seconds: number }
const ws = new WebSocket(url)
await new Promise<void>((resolve, reject) => {
  ws.once('open', () => resolve())
  ws.once('error', reject)
})
const latencies: number[] = []
let failed = 0
const deadline = Date.now() + seconds * 1000
for (let k = 0; Date.now() < deadline; k++) {
  const subId = `q${k}`
  const started = performance.now()
  const ok = await new Promise<boolean>((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const m = JSON.parse(data.toString()) as unknown[]
      if (m[1] !== subId || (m[0] !== 'EOSE' && m[0] !== 'CLOSED')) return
      ws.off('message', onMessage)
      resolve(m[0] === 'EOSE')
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify(['REQ', subId, { authors: [authors[k % authors.length]], limit: 20 }]))
  })
  if (ok) latencies.push(performance.now() - started)
  else failed++
  ws.send(JSON.stringify(['CLOSE', subId]))
  await new Promise((r) => setTimeout(r, 50))
}
ws.close()
parentPort!.postMessage({ latencies, failed })
