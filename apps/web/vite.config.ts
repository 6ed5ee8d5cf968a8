// The page is built with Vite into dist/page, which the gateway (src/server) serves. `vite` (the
// dev server) forwards /api to a gateway running on TRAJECTORY_WEB_PORT (default 5173), so the
// dev server itself takes the next port.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const gatewayPort = Number(process.env.TRAJECTORY_WEB_PORT ?? 5173);

export default defineConfig({
  root: 'src/page',
  plugins: [react()],
  build: { outDir: '../../dist/page', emptyOutDir: true, sourcemap: true },
  // changeOrigin: the gateway answers only requests addressed to itself (its Host check).
  server: {
    host: '127.0.0.1',
    port: gatewayPort + 1,
    proxy: { '/api': { target: `http://127.0.0.1:${gatewayPort}`, changeOrigin: true } },
  },
});
