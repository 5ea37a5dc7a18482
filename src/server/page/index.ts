// The search page served by the HTTP service at `/`: one self-contained HTML document (inline CSS
// and JS, no external URLs, no build step). The API contract it relies on is in
// docs/reports-export.md. Stable ids / data-testid attributes are listed there for tests.
import { createHash } from 'node:crypto';
import { SEARCH_PAGE_CSS } from './styles.js';
import { SEARCH_PAGE_SCRIPT } from './script.js';

const BODY = `
<header>
  <h1>cmhash search</h1>
  <label class="row">Collection <select id="collection" data-testid="collection" aria-label="collection"><option value="">loading…</option></select></label>
  <span id="collection-info" data-testid="collection-info"></span>
  <form id="token-form" class="row token" data-testid="token-form">
    <label class="row">Access token <input type="password" id="token" data-testid="token" autocomplete="off" placeholder="only if the service asks" aria-label="access token"/></label>
    <button type="submit" class="secondary" id="token-button" data-testid="token-button">Use token</button>
  </form>
</header>
<main>
  <section class="panel" aria-label="query">
    <form id="text-form" data-testid="text-form">
      <h2>Tags → images</h2>
      <div class="row">
        <input type="text" id="query-text" data-testid="query-text" placeholder="e.g. sky clouds sunset" autocomplete="off" aria-label="tags"/>
        <button type="submit" id="search-button" data-testid="search-button">Search</button>
      </div>
      <span class="hint">Words or tags; the text is encoded and matched against image codes.</span>
    </form>
    <form id="item-form" data-testid="item-form">
      <h2>Item → other modality</h2>
      <div class="row">
        <input type="text" id="query-item" data-testid="query-item" placeholder="item id" autocomplete="off" aria-label="item id"/>
        <select id="item-modality" data-testid="item-modality" aria-label="use the item's">
          <option value="image">its image → texts</option>
          <option value="text">its text → images</option>
        </select>
        <button type="submit" id="item-search-button" data-testid="item-search-button">Search</button>
      </div>
      <span class="hint">Uses the stored item's code as the query.</span>
    </form>
    <form id="image-form" data-testid="image-form">
      <h2>Image → texts</h2>
      <div class="row">
        <input type="file" id="query-image" data-testid="query-image" accept="image/*" aria-label="image file"/>
        <button type="submit" id="image-search-button" data-testid="image-search-button">Upload &amp; search</button>
      </div>
      <span class="hint">JPEG, PNG or WebP.</span>
    </form>
    <div class="row">
      <label>k <input type="number" id="k" data-testid="k" min="1" step="1" value="20"/></label>
      <label>radius <input type="number" id="radius" data-testid="radius" min="0" step="1" placeholder="off"/></label>
      <span class="hint">k: how many results; radius: only results within this Hamming distance.</span>
    </div>
  </section>
  <div id="error" data-testid="error" role="alert" aria-live="assertive"></div>
  <div id="status" data-testid="status" aria-live="polite"></div>
  <section id="results" data-testid="results" data-state="idle" aria-label="results"></section>
</main>
`;

/** The complete search page. */
export const SEARCH_PAGE_HTML: string = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>cmhash search</title>
<style>${SEARCH_PAGE_CSS}</style>
</head>
<body data-ready="false">${BODY}<script>${SEARCH_PAGE_SCRIPT}</script>
</body>
</html>
`;

/** CSP source for the inline script ("'sha256-…'"), for a Content-Security-Policy without 'unsafe-inline'. */
export const SEARCH_PAGE_SCRIPT_CSP_HASH = `'sha256-${createHash('sha256').update(SEARCH_PAGE_SCRIPT).digest('base64')}'`;
/** CSP source for the inline style block. */
export const SEARCH_PAGE_STYLE_CSP_HASH = `'sha256-${createHash('sha256').update(SEARCH_PAGE_CSS).digest('base64')}'`;
