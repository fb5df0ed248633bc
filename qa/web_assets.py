"""The web chat's stylesheet and its one small script (kept out of web.py to keep it readable)."""

from __future__ import annotations

# Calm, high-contrast colours (all text/background pairs are at least WCAG AA).
CSS = """
:root { --qa-header-h: 9rem; }
/* The header (title + disclaimer) never scrolls away: it is pinned to the top. */
#qa-header { position: sticky; top: 0; z-index: 100; margin: 0 !important; padding: .4rem 0 0 0 !important;
  background: var(--body-background-fill); box-shadow: 0 0 0 8px var(--body-background-fill); }
.qa-header { background: #eef6f4; border: 1px solid #b9d6cf; border-radius: 10px;
  padding: .6rem .9rem; box-shadow: 0 2px 6px rgba(15, 40, 35, .08); }
.qa-title { margin: 0 0 .25rem 0 !important; font-weight: 650; font-size: 1.05rem; color: #123c35; }
.qa-disclaimer { margin: 0 !important; font-size: .9rem; line-height: 1.4; color: #1d2b28; }
.qa-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
.qa-muted { color: #4b5563; }

/* The chat fills the screen below the pinned header, leaving room for the question box. */
#qa-chat { height: max(320px, calc(100vh - var(--qa-header-h) - 17rem)) !important; }
#qa-chat { scroll-margin-top: calc(var(--qa-header-h) + .3rem); border: 1px solid #d6dde3;
  border-radius: 10px; }
#qa-question textarea, #qa-compare-question textarea { border: 1px solid #94a3b8 !important; }

/* Chat messages */
.qa-user { white-space: normal; overflow-wrap: anywhere; }
.qa-answer { line-height: 1.55; overflow-wrap: anywhere; }
.qa-answer p { margin: 0 0 .55rem 0; }
.qa-answer ul { margin: 0 0 .55rem 1.1rem; padding: 0; }
a.qa-ref { font-weight: 600; text-decoration: none; color: #0b5c8a; padding: 0 .1rem; }
a.qa-ref:hover, a.qa-ref:focus { text-decoration: underline; }
.qa-sources, .qa-related { margin-top: .7rem; border-top: 1px solid #d6dde3; padding-top: .55rem; }
.qa-sources-title { font-size: .8rem !important; text-transform: uppercase; letter-spacing: .04em;
  color: #4b5563; font-weight: 600; margin-bottom: .4rem !important; }
.qa-cite { background: #f7f9fb; border: 1px solid #dde3e8; border-left: 4px solid #5b8fb0;
  border-radius: 6px; padding: .45rem .65rem; margin: 0 0 .5rem 0; color: #1f2937; }
.qa-related .qa-cite { border-left-color: #9ca3af; background: #fafafa; }
.qa-cite-head { margin: 0 0 .25rem 0 !important; font-size: .9rem; }
.qa-cite-n { font-weight: 700; color: #0b5c8a; }
.qa-cite-title { font-weight: 600; }
blockquote.qa-cite-text { margin: 0 0 .3rem 0 !important; padding: 0 !important; border: 0 !important;
  font-size: .92rem; color: #1f2937; font-style: normal; }
a.qa-view { font-size: .88rem; font-weight: 600; color: #0b5c8a; }
.qa-urgent { background: #fdecec; border: 2px solid #b42318; border-radius: 8px; padding: .6rem .8rem;
  color: #5c0f0a; margin-bottom: .6rem; }
.qa-urgent-title { font-weight: 750; font-size: 1.02rem; color: #8a1c12; }
.qa-notfound { background: #fff7e0; border: 1px solid #d9a400; border-radius: 8px; padding: .55rem .8rem;
  color: #3d2e00; }
.qa-notfound-title, .qa-subhead { font-weight: 700; }
.qa-invalid { background: #f1f5f9; border: 1px solid #94a3b8; border-radius: 8px; padding: .55rem .8rem;
  color: #1e293b; }
.qa-placeholder { max-width: 32rem; margin: 0 auto; text-align: center; color: #374151; }

/* Source viewer */
#qa-viewer-col { align-self: flex-start; position: sticky; top: calc(var(--qa-header-h) + .5rem); }
.qa-viewer { border: 1px solid #d6dde3; border-radius: 10px; padding: .7rem .9rem; background: #fff;
  color: #1f2937; max-height: calc(100vh - var(--qa-header-h) - 2rem); overflow-y: auto; }
.qa-viewer-label { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: #4b5563;
  font-weight: 600; margin: 0 0 .3rem 0; }
/* The article's title stays visible while the reader scrolls through it. */
.qa-viewer-head { position: sticky; top: -.7rem; background: #fff; padding: .3rem 0 .2rem 0;
  border-bottom: 1px solid #e5e7eb; margin-bottom: .5rem; z-index: 1; }
.qa-viewer-title { font-size: 1.05rem; font-weight: 700; margin: 0 0 .2rem 0; }
.qa-pub { font-size: .88rem; color: #4b5563; margin: 0 0 .4rem 0 !important; }
.qa-viewer-note { font-size: .85rem; margin: 0; }
.qa-article-text { white-space: pre-wrap; line-height: 1.6; font-size: .95rem; }
.qa-article-text mark, .qa-compare mark { background: #ffe58a; color: #111827; padding: .05rem 0;
  border-radius: 2px; box-shadow: 0 0 0 2px #ffe58a; }
.qa-article-text mark { scroll-margin-top: calc(var(--qa-header-h) + 1rem); }

/* Staff comparison */
.qa-compare-q { margin-bottom: .6rem; }
.qa-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: .7rem; }
.qa-card { border: 1px solid #d6dde3; border-radius: 8px; padding: .6rem .75rem; background: #fff;
  color: #1f2937; }
.qa-card.qa-covered { border-top: 4px solid #2f7d6d; }
.qa-card.qa-not-covered { border-top: 4px solid #9ca3af; background: #f8fafc; }
.qa-card-title { font-size: .98rem !important; margin: 0 0 .25rem 0 !important; }
.qa-notcovered { color: #4b5563; font-style: italic; }
#qa-footer { font-size: .85rem; color: #4b5563; text-align: center; }

/* Example questions as wrapping chips */
.qa-examples { flex-wrap: wrap !important; gap: .4rem !important; }
.qa-examples > button.qa-example { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important;
  white-space: normal; text-align: left; }
.qa-examples-label { margin-top: .4rem; }

@media (max-width: 640px) {
  #qa-chat { height: max(300px, calc(100svh - var(--qa-header-h) - 15rem)) !important; }
  #qa-header { padding-top: 0 !important; }
  .qa-header { padding: .4rem .6rem; border-radius: 0 0 8px 8px; }
  /* On a phone the disclaimer alone is the header: it already says what this is. */
  .qa-title { display: none; }
  .qa-disclaimer { font-size: .8rem; line-height: 1.32; }
  #qa-viewer-col { position: static; }
  .qa-viewer { max-height: 70vh; }
}
"""

# Opens "View in article" / [n] links in the source viewer. The chat's sanitizer keeps only
# href and class on links, so the target travels in the fragment: #qa-src=<doc>:<start>:<end>[:<n>].
# Article text is inserted with textContent, never as HTML.
# Rules for Gradio's own page frame: Gradio scopes the ``css`` above to the app's content, so
# these go into <head> as they are.
FRAME_CSS = """
<style>
.gradio-container { max-width: 1280px !important; }
/* Gradio clips the container with overflow:hidden, which would stop position:sticky; clip
   does the same job without creating a scroll container. */
.gradio-container { overflow-x: clip !important; overflow-y: visible !important; }
@media (max-width: 640px) {
  .gradio-container .main.app { padding-left: 6px !important; padding-right: 6px !important; }
}
/* Dark mode (Gradio puts .dark on <body>). Gradio's scoping makes ".dark ..." rules in the app
   CSS lose to the light ones, so they live here, marked important. Later rules win ties. */
.dark .qa-header { background: #12302b !important; border-color: #2e5d54 !important; }
.dark .qa-header, .dark .qa-header * { color: #e6f2ef !important; }
.dark .qa-cite, .dark .qa-viewer, .dark .qa-viewer-head, .dark .qa-card {
  background: #1c2430 !important; border-color: #374151 !important; }
.dark .qa-related .qa-cite, .dark .qa-card.qa-not-covered { background: #171c24 !important; }
.dark .qa-card.qa-covered { border-top-color: #3fa58f !important; }
.dark #qa-chat { border-color: #374151 !important; }
.dark .qa-answer, .dark .qa-answer *, .dark .qa-viewer, .dark .qa-viewer *, .dark .qa-compare,
.dark .qa-compare *, .dark .qa-placeholder, .dark .qa-placeholder *, .dark .qa-user {
  color: #e5e7eb !important; }
.dark .qa-urgent { background: #3b0d0a !important; border-color: #f97066 !important; }
.dark .qa-urgent * { color: #fde2df !important; }
.dark .qa-urgent .qa-urgent-title { color: #ffb4ab !important; }
.dark .qa-notfound { background: #332700 !important; border-color: #d9a400 !important; }
.dark .qa-notfound * { color: #fbefc4 !important; }
.dark .qa-invalid { background: #1e293b !important; border-color: #64748b !important; }
.dark .qa-invalid * { color: #e2e8f0 !important; }
.dark .qa-muted, .dark .qa-pub, .dark .qa-sources-title, .dark .qa-viewer-label,
.dark .qa-notcovered { color: #b6bfcb !important; }
.dark a.qa-ref, .dark a.qa-view, .dark a.qa-back, .dark .qa-cite-n { color: #8cc8ee !important; }
.dark [role="tab"][aria-selected="true"] { color: #5eead4 !important; }
.dark .qa-viewer mark, .dark .qa-compare mark { background: #ffe58a !important; color: #111827 !important; }
</style>
"""

JS = r"""
<script>
(function () {
  if (window.__qaViewer) return;
  window.__qaViewer = true;
  var SRC = /^#qa-src=([A-Za-z0-9_.-]+):(\d+):(\d+)(?::(\d+))?$/;
  var lastLink = null;
  var cache = {};

  function headerHeight() {
    var h = document.getElementById('qa-header');
    if (h) document.documentElement.style.setProperty('--qa-header-h', h.offsetHeight + 'px');
  }
  window.addEventListener('resize', headerHeight);
  function scroller(e) {
    for (; e && e !== document.body; e = e.parentElement) {
      var oy = getComputedStyle(e).overflowY;
      if ((oy === 'auto' || oy === 'scroll') && e.scrollHeight > e.clientHeight) return e;
    }
    return null;
  }

  // After a new answer, show the question and the start of the answer (not the end of the
  // sources list, where the chat's own autoscroll would leave the reader).
  // Gradio labels each chat message with its raw content, which here is HTML; give assistive
  // technology the message's text instead.
  function fixLabels(chat) {
    chat.querySelectorAll('[aria-label*="s message: "]').forEach(function (m) {
      var who = m.getAttribute('aria-label').split("'s message: ")[0];
      var text = (m.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 300);
      var label = who + "'s message: " + text;
      if (m.getAttribute('aria-label') !== label) m.setAttribute('aria-label', label);
    });
  }

  var seen = 0;
  function onChatChange(chat) {
    fixLabels(chat);
    var answers = chat.querySelectorAll('.qa-answer');
    if (answers.length === seen) return;
    var grew = answers.length > seen;
    seen = answers.length;
    if (!grew) return;
    var last = answers[answers.length - 1];
    var users = chat.querySelectorAll('.qa-user');
    var target = users.length ? users[users.length - 1] : last;
    if (target.compareDocumentPosition(last) & Node.DOCUMENT_POSITION_PRECEDING) target = last;
    requestAnimationFrame(function () {
      var box = scroller(last);
      if (box) box.scrollTop += target.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
      // On a small screen the chat's top may sit under the pinned header: bring it back.
      var hdr = document.getElementById('qa-header');
      if (hdr && chat.getBoundingClientRect().top < hdr.getBoundingClientRect().bottom) {
        chat.scrollIntoView({block: 'start'});
      }
    });
  }

  var poll = setInterval(function () {
    var hdr = document.getElementById('qa-header');
    var chat = document.getElementById('qa-chat');
    if (hdr && chat) {
      headerHeight();
      if (window.ResizeObserver) new ResizeObserver(headerHeight).observe(hdr);
      new MutationObserver(function () { onChatChange(chat); })
        .observe(chat, {childList: true, subtree: true, attributes: true, attributeFilter: ['aria-label']});
      clearInterval(poll);
    }
  }, 100);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function getArticle(doc) {
    if (cache[doc]) return Promise.resolve(cache[doc]);
    var url = new URL('api/article/' + encodeURIComponent(doc), document.baseURI);
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (a) { cache[doc] = a; return a; });
  }

  function show(doc, start, end, n) {
    var body = document.getElementById('qa-viewer-body');
    if (!body) return;
    body.setAttribute('aria-busy', 'true');
    getArticle(doc).then(function (a) {
      // Offsets count Unicode code points (Python str), not UTF-16 units.
      var cps = Array.from(a.text);
      var head = el('div', 'qa-viewer-head');
      head.appendChild(el('h3', 'qa-viewer-title', a.title));
      if (a.publisher) head.appendChild(el('p', 'qa-pub', 'Publisher: ' + a.publisher));
      var note = el('p', 'qa-viewer-note', (n ? 'Source [' + n + ']: ' : '') +
                    'the quoted passage is highlighted. ');
      var back = el('a', 'qa-back', 'Back to where you were');
      back.href = '#';
      back.addEventListener('click', function (ev) {
        ev.preventDefault();
        if (lastLink && document.body.contains(lastLink)) {
          lastLink.scrollIntoView({block: 'center'});
          lastLink.focus();
        }
      });
      note.appendChild(back);
      head.appendChild(note);
      var nodes = [head];
      var text = el('div', 'qa-article-text');
      var mark = el('mark', null, cps.slice(start, end).join(''));
      mark.id = 'qa-mark';
      mark.tabIndex = -1;
      text.append(cps.slice(0, start).join(''), mark, cps.slice(end).join(''));
      nodes.push(text);
      body.replaceChildren.apply(body, nodes);
      body.removeAttribute('aria-busy');
      mark.scrollIntoView({block: 'center'});
      mark.focus({preventScroll: true});
    }).catch(function () {
      body.replaceChildren(el('p', 'qa-invalid', 'Sorry, the article could not be loaded. Try again.'));
      body.removeAttribute('aria-busy');
    });
  }

  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#qa-src="]') : null;
    if (!a) return;
    var m = SRC.exec(a.getAttribute('href'));
    if (!m) return;
    ev.preventDefault();
    ev.stopPropagation();
    lastLink = a;
    show(m[1], parseInt(m[2], 10), parseInt(m[3], 10), m[4] ? parseInt(m[4], 10) : null);
  }, true);
})();
</script>
"""
