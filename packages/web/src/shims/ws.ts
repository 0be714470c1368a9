// `ws` in the browser: the browser's own WebSocket (the app passes it to the client anyway).
export default globalThis.WebSocket
export const WebSocket = globalThis.WebSocket
