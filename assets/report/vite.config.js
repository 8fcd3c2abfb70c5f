// Builds the report SPA into ONE self-contained HTML file (dist/index.html): the JS bundle and CSS are
// inlined, nothing is loaded from anywhere. `make assets` copies it to priv/report/template.html.
import { defineConfig } from 'vite';

function inlineBundle() {
  return {
    name: 'live-load-inline-bundle',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const page = Object.values(bundle).find((a) => a.fileName.endsWith('.html'));
      let html = page.source;
      for (const [name, asset] of Object.entries(bundle)) {
        if (asset === page) continue;
        const base = name.split('/').pop().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        if (name.endsWith('.js')) {
          const tag = new RegExp(`<script[^>]*src="[^"]*${base}"[^>]*></script>`);
          const code = asset.code.replace(/<\/script/gi, '<\\/script');
          html = html.replace(tag, () => `<script type="module">${code}</script>`);
        } else if (name.endsWith('.css')) {
          const tag = new RegExp(`<link[^>]*href="[^"]*${base}"[^>]*>`);
          html = html.replace(tag, () => `<style>${asset.source}</style>`);
        } else {
          throw new Error(`report build: unexpected asset ${name}; only one JS and one CSS file can be inlined`);
        }
        delete bundle[name];
      }
      if (/\s(src|href)="(?!#)[^"]+"/.test(html)) {
        throw new Error('report build: an external src/href is left in the page');
      }
      page.source = html;
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [inlineBundle()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: false,
    cssCodeSplit: false,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    target: 'es2020',
  },
});
