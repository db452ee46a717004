// The dashboard's only script: live refresh, keyboard navigation, Ctrl+Enter
// in the SQL console. Pages work without it.
(function () {
  'use strict';

  // Live: poll the store's version; when it moved, fetch this page again and
  // swap its [data-live] regions in place (scroll position and the filter
  // forms outside them are kept).
  var body = document.body;
  var version = body.dataset.liveVersion;
  if (version !== undefined) {
    var busy = false;
    var status = document.getElementById('live-status');
    var tick = function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch('/live', { cache: 'no-store', credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (j) {
          if (String(j.version) === version) return null;
          return fetch(location.href, { cache: 'no-store', credentials: 'same-origin' })
            .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
            .then(function (html) {
              var doc = new DOMParser().parseFromString(html, 'text/html');
              var fresh = doc.body.dataset.liveVersion;
              document.querySelectorAll('[data-live]').forEach(function (el) {
                var next = el.id && doc.getElementById(el.id);
                if (next) el.replaceWith(document.importNode(next, true));
              });
              version = fresh !== undefined ? fresh : String(j.version);
              body.dataset.liveVersion = version;
              if (status) { status.classList.remove('stale'); status.title = 'updated ' + new Date().toLocaleTimeString(); }
            });
        })
        .catch(function () { if (status) status.classList.add('stale'); })
        .finally(function () { busy = false; });
    };
    setInterval(tick, 2000);
  }

  // Keyboard: "/" focuses the search, j/k move through the timeline, g to the top.
  var current = -1;
  document.addEventListener('keydown', function (e) {
    var t = e.target;
    var typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
    if (t && t.tagName === 'TEXTAREA' && e.key === 'Enter' && (e.ctrlKey || e.metaKey) && t.form) {
      e.preventDefault();
      t.form.submit();
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') {
      var s = document.querySelector('[data-search]');
      if (s) { e.preventDefault(); s.focus(); if (s.select) s.select(); }
    } else if (e.key === 'j' || e.key === 'k') {
      var items = document.querySelectorAll('.tl-item');
      if (!items.length) return;
      var prev = items[current];
      if (prev) prev.classList.remove('current');
      current = e.key === 'j' ? Math.min(current + 1, items.length - 1) : Math.max(current - 1, 0);
      var el = items[current];
      el.classList.add('current');
      el.focus({ preventScroll: true });
      el.scrollIntoView({ block: 'center' });
    } else if (e.key === 'g') {
      window.scrollTo(0, 0);
    }
  });
})();
