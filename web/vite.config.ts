import { defineConfig, type Plugin } from 'vitest/config';

// The UI is built into dist/, which web.go embeds into the binary. The dev
// server proxies the API and media to a running `livehouse serve`.
const backend = process.env.LIVEHOUSE_URL ?? 'http://127.0.0.1:8080';

/**
 * inlineEntryCSS moves the entry stylesheet into index.html, so the first
 * paint waits for no second request. web.go allows exactly this <style>
 * element in its CSP by hash; no 'unsafe-inline' is needed.
 */
function inlineEntryCSS(): Plugin {
  return {
    name: 'livehouse-inline-entry-css',
    apply: 'build',
    enforce: 'post',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        return html.replace(/<link rel="stylesheet"[^>]*href="\/(assets\/[^"]+\.css)"[^>]*>/, (tag, file: string) => {
          const asset = ctx.bundle?.[file];
          if (!asset || asset.type !== 'asset') return tag;
          delete ctx.bundle![file];
          // No font preload: measured, it delays the first paint (the text
          // paints in a system font and swaps to Inter when it arrives).
          return `<style>${String(asset.source).replace(/<\/style/gi, '<\\/style')}</style>`;
        });
      },
    },
  };
}

export default defineConfig({
  plugins: [inlineEntryCSS()],
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0, // the CSP has no data: fonts; keep every asset a file
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': backend,
      '/hls': backend,
      '/thumbnails': backend,
      '/avatars': backend,
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
