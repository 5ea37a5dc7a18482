// Browser script of the search page (plain ES2017, inlined into the HTML; no build step). It only
// talks to the service's own /api routes and builds every result element with textContent, so
// labels and metadata from the index can never inject markup. When the service has access tokens
// (docs/access-control.md) the page sends the token typed into "Access token" (kept in
// sessionStorage, so only for this tab) as "Authorization: Bearer"; thumbnails are then fetched
// with the header too and shown from blob: URLs.
export const SEARCH_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var state = { collections: [], busy: false, thumbs: [] };
  var TOKEN_KEY = 'cmhash.token';

  function getToken() {
    try { return window.sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function setToken(t) {
    try { if (t) window.sessionStorage.setItem(TOKEN_KEY, t); else window.sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off: token lives until reload */ }
    state.token = t;
  }
  function currentToken() { return state.token !== undefined ? state.token : getToken(); }

  /** fetch options with the access token's header added (when there is one). */
  function withToken(options) {
    var out = {};
    for (var key in options || {}) out[key] = options[key];
    var token = currentToken();
    if (token) {
      var headers = {};
      var given = (options && options.headers) || {};
      for (var h in given) headers[h] = given[h];
      headers.authorization = 'Bearer ' + token;
      out.headers = headers;
    }
    return out;
  }

  function markTokenNeeded(needed) {
    $('token').className = needed ? 'needed' : '';
    if (needed) $('token').focus();
  }

  function setError(message) {
    var box = $('error');
    box.textContent = message || '';
    box.className = message ? 'visible' : '';
    if (message) $('results').setAttribute('data-state', 'error');
  }

  function setStatus(text) { $('status').textContent = text || ''; }

  function setBusy(busy) {
    state.busy = busy;
    var buttons = document.querySelectorAll('button');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
    if (busy) $('results').setAttribute('data-state', 'loading');
  }

  /** Reads the body of a failed response into one readable line. */
  function errorMessage(res, body) {
    var detail = body && (body.message || body.error);
    if (typeof body === 'string' && body) detail = body.slice(0, 300);
    return 'Request failed (' + res.status + (res.statusText ? ' ' + res.statusText : '') + ')' + (detail ? ': ' + detail : '');
  }

  function request(url, options) {
    return fetch(url, withToken(options)).then(function (res) {
      var type = res.headers.get('content-type') || '';
      var parse = type.indexOf('application/json') >= 0 ? res.json() : res.text();
      return parse.then(function (body) {
        if (res.status === 401) {
          markTokenNeeded(true);
          throw new Error(currentToken()
            ? 'The access token was not accepted (401). Enter a valid token under "Access token" and press "Use token".'
            : 'This service needs an access token (401). Enter a read token under "Access token" and press "Use token".');
        }
        if (!res.ok) throw new Error(errorMessage(res, body));
        return body;
      }, function () { throw new Error(errorMessage(res, null)); });
    }, function (err) { throw new Error('Cannot reach the service: ' + (err && err.message ? err.message : err)); });
  }

  function collectionPath(suffix) {
    var name = $('collection').value;
    if (!name) throw new Error('Pick a collection first.');
    return '/api/collections/' + encodeURIComponent(name) + suffix;
  }

  /** k and radius from the option inputs; throws on values the service would refuse anyway. */
  function readOptions() {
    var out = {};
    var k = $('k').value.trim();
    if (k !== '') {
      var kn = Number(k);
      if (!(kn >= 1 && Math.floor(kn) === kn)) throw new Error('k must be a whole number of at least 1, got "' + k + '".');
      out.k = kn;
    }
    var r = $('radius').value.trim();
    if (r !== '') {
      var rn = Number(r);
      if (!(rn >= 0 && Math.floor(rn) === rn)) throw new Error('radius must be a whole number of at least 0, got "' + r + '".');
      out.radius = rn;
    }
    return out;
  }

  /** Only thumbnails served by this service (or inline data images) are shown. */
  function safeThumb(url) {
    if (typeof url !== 'string' || url === '') return null;
    if (/^data:image\//i.test(url)) return url;
    try {
      var u = new URL(url, window.location.href);
      return u.origin === window.location.origin ? u.href : null;
    } catch (e) { return null; }
  }

  function metadataText(meta) {
    if (meta === null || meta === undefined) return '';
    if (typeof meta !== 'object') return String(meta);
    var parts = [];
    for (var key in meta) {
      if (!Object.prototype.hasOwnProperty.call(meta, key)) continue;
      var v = meta[key];
      parts.push(key + ': ' + (typeof v === 'object' ? JSON.stringify(v) : String(v)));
    }
    return parts.join(' · ');
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** An <img> cannot send headers: with a token the thumbnail is fetched and shown from a blob: URL. */
  function showThumb(img, url) {
    var token = currentToken();
    if (!token || /^data:/i.test(url)) { img.src = url; return; }
    fetch(url, withToken({})).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.blob();
    }).then(function (blob) {
      var objectUrl = URL.createObjectURL(blob);
      state.thumbs.push(objectUrl);
      img.src = objectUrl;
    }, function () { img.alt += ' (thumbnail not available)'; });
  }

  function renderResults(body, resultModality) {
    var list = $('results');
    list.textContent = '';
    state.thumbs.forEach(function (u) { URL.revokeObjectURL(u); });
    state.thumbs = [];
    var results = (body && body.results) || [];
    list.setAttribute('data-modality', resultModality || '');
    if (results.length === 0) list.appendChild(el('p', 'empty', 'No results within the given k / radius.'));
    results.forEach(function (r, i) {
      var card = el('article', 'result');
      card.setAttribute('data-testid', 'result');
      card.setAttribute('data-id', String(r.id));
      card.setAttribute('data-rank', String(i + 1));
      var thumb = safeThumb(r.thumbnail_url);
      if (thumb) {
        var img = el('img', 'result-thumb');
        img.alt = 'item ' + r.id;
        img.loading = 'lazy';
        showThumb(img, thumb);
        card.appendChild(img);
      }
      var head = el('div', 'result-head');
      head.appendChild(el('span', 'result-id', String(r.id)));
      var dist = el('span', 'result-distance', 'Hamming ' + r.distance);
      dist.setAttribute('data-distance', String(r.distance));
      dist.title = 'Hamming distance between the query code and this item\u2019s code';
      head.appendChild(dist);
      card.appendChild(head);
      var labels = el('div', 'result-labels');
      (r.labels || []).forEach(function (l) { labels.appendChild(el('span', 'label', String(l))); });
      card.appendChild(labels);
      var meta = metadataText(r.metadata);
      if (meta) card.appendChild(el('div', 'result-meta', meta));
      if (resultModality) {
        var again = el('button', 'secondary result-query', 'Use as ' + resultModality + ' query');
        again.type = 'button';
        again.addEventListener('click', function () {
          $('query-item').value = String(r.id);
          $('item-modality').value = resultModality;
          runItemSearch();
        });
        card.appendChild(again);
      }
      list.appendChild(card);
    });
    setStatus(results.length + ' result' + (results.length === 1 ? '' : 's') +
      (resultModality ? ' (' + resultModality + 's)' : '') +
      (body && body.took_ms !== undefined ? ' in ' + Number(body.took_ms).toFixed(2) + ' ms' : '') +
      (body && body.model_version !== undefined ? ' · model version ' + body.model_version : ''));
    list.setAttribute('data-state', 'done');
  }

  function otherModality(m) { return m === 'text' ? 'image' : 'text'; }

  function run(label, makeRequest, resultModality) {
    if (state.busy) return;
    setError('');
    var req;
    try { req = makeRequest(); } catch (err) { setError(err.message); return; }
    setBusy(true);
    setStatus(label + '\u2026');
    request(req.url, req.options).then(function (body) {
      renderResults(body, resultModality);
    }, function (err) {
      $('results').textContent = '';
      setStatus('');
      setError(err.message);
    }).then(function () { setBusy(false); });
  }

  function jsonSearch(modality, query) {
    var opts = readOptions();
    var body = { modality: modality, query: query };
    if (opts.k !== undefined) body.k = opts.k;
    if (opts.radius !== undefined) body.radius = opts.radius;
    return { url: collectionPath('/search'), options: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } };
  }

  function runTextSearch() {
    run('Searching images for the tags', function () {
      var text = $('query-text').value.trim();
      if (!text) throw new Error('Type one or more tags to search for.');
      return jsonSearch('text', { text: text });
    }, 'image');
  }

  function runItemSearch() {
    var modality = $('item-modality').value;
    run('Searching with the item', function () {
      var id = $('query-item').value.trim();
      if (!id) throw new Error('Enter an item id.');
      return jsonSearch(modality, { itemId: id });
    }, otherModality(modality));
  }

  function runImageSearch() {
    run('Searching texts for the image', function () {
      var input = $('query-image');
      var file = input.files && input.files[0];
      if (!file) throw new Error('Choose an image file to upload.');
      var opts = readOptions();
      var form = new FormData();
      if (opts.k !== undefined) form.append('k', String(opts.k));
      if (opts.radius !== undefined) form.append('radius', String(opts.radius));
      form.append('image', file, file.name);
      return { url: collectionPath('/search-image'), options: { method: 'POST', body: form } };
    }, 'text');
  }

  function showCollectionInfo() {
    var name = $('collection').value;
    var c = state.collections.filter(function (x) { return x.name === name; })[0];
    $('collection-info').textContent = c ? c.items + ' items · ' + c.bits + ' bits · model version ' + c.model_version : '';
  }

  function loadCollections() {
    var select = $('collection');
    request('/api/collections').then(function (list) {
      markTokenNeeded(false);
      setError('');
      state.collections = Array.isArray(list) ? list : [];
      select.textContent = '';
      if (state.collections.length === 0) {
        var none = el('option', '', 'no collections');
        none.value = '';
        select.appendChild(none);
        setError('The service has no collections yet. Add one (cmhash add / POST /api/collections) and reload.');
      }
      var wanted = new URLSearchParams(window.location.search).get('collection');
      state.collections.forEach(function (c) {
        var o = el('option', '', c.name);
        o.value = c.name;
        if (c.name === wanted) o.selected = true;
        select.appendChild(o);
      });
      showCollectionInfo();
      document.body.setAttribute('data-ready', 'true');
    }, function (err) {
      setError('Could not load collections. ' + err.message);
      document.body.setAttribute('data-ready', 'true');
    });
  }

  $('text-form').addEventListener('submit', function (e) { e.preventDefault(); runTextSearch(); });
  $('item-form').addEventListener('submit', function (e) { e.preventDefault(); runItemSearch(); });
  $('image-form').addEventListener('submit', function (e) { e.preventDefault(); runImageSearch(); });
  $('collection').addEventListener('change', showCollectionInfo);
  $('token-form').addEventListener('submit', function (e) {
    e.preventDefault();
    setToken($('token').value.trim());
    $('token').value = '';
    $('token').placeholder = currentToken() ? 'token set for this tab' : 'only if the service asks';
    loadCollections();
  });
  if (getToken()) $('token').placeholder = 'token set for this tab';
  loadCollections();
})();
`;
