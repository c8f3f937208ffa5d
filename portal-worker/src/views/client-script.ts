/**
 * Served at /static/app.js. CSP forbids inline script, so pages opt into behaviour with data-*
 * attributes and this one file provides it:
 * - `data-live="/path"` + `data-every="ms"`: re-fetch the fragment and replace the region's content;
 * - `data-copy="#id"`: a button copying the text of the element #id;
 * - `data-confirm="question"` on a form: ask before submitting;
 * - `data-autosubmit` on a select: submit its form on change (`data-hide-with-script` hides the button).
 * It is plain ES2017 so any browser the portal supports runs it without a build step.
 */
export const APP_JS = `'use strict';
(function () {
  function refresh(region) {
    var src = region.getAttribute('data-live');
    fetch(src, { credentials: 'same-origin', headers: { 'Accept': 'text/html', 'X-Fragment': '1' } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        // Not while the user is on a control inside: replacing it would drop keyboard focus.
        if (region.innerHTML !== html && !region.contains(document.activeElement)) region.innerHTML = html;
        region.setAttribute('data-updated', String(Date.now()));
        region.removeAttribute('data-stale');
      })
      .catch(function () { region.setAttribute('data-stale', ''); });
  }
  function startLive(region) {
    var every = Math.max(500, parseInt(region.getAttribute('data-every') || '2000', 10));
    setInterval(function () { if (!document.hidden) refresh(region); }, every);
  }
  document.addEventListener('click', function (e) {
    var button = e.target && e.target.closest ? e.target.closest('[data-copy]') : null;
    if (!button) return;
    var source = document.querySelector(button.getAttribute('data-copy'));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () { button.setAttribute('data-copied', ''); button.textContent = button.getAttribute('data-copied-label') || button.textContent; };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, function () { select(source); });
    else select(source);
  });
  function select(el) {
    if (el.select) { el.select(); return; }
    var range = document.createRange(); range.selectNodeContents(el);
    var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
  }
  document.addEventListener('submit', function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) e.preventDefault();
  });
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el && el.hasAttribute && el.hasAttribute('data-autosubmit') && el.form) el.form.submit();
  });
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-live]'), startLive);
    Array.prototype.forEach.call(document.querySelectorAll('[data-hide-with-script]'), function (el) { el.hidden = true; });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
`;
