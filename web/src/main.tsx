import { render } from 'preact';
import { App } from './app';
import { api } from './lib/api';
import { loadHls } from './lib/hls';
import { installLinkHandler } from './lib/router';
import './styles.css';

// A viewer page needs the player and the channel at once: fetch both while the app starts.
const watching = /^\/c\/([^/]+)\/?$/.exec(location.pathname);
if (watching) {
  void loadHls();
  api.prefetchChannel(decodeURIComponent(watching[1]));
}

installLinkHandler();
const root = document.getElementById('app')!;
const start = () => {
  root.textContent = '';
  render(<App />, root);
  performance.mark('lh-app-rendered');
};
// Elsewhere the static shell in index.html gets painted first; the viewer
// page starts at once because its player is what the visitor waits for, and
// the chromeless pop-out and overlay pages must not flash the shell's header.
if (watching || /^\/(popout|overlay)\//.test(location.pathname)) start();
else requestAnimationFrame(() => setTimeout(start, 0));
