// The Hansa web app: one page, a screen per tab (#nodes, #inbox, #orders, #coordinator,
// #guardian), each on @hansa/client. Served by every node at /app.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app.js'
import './styles.css'

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
