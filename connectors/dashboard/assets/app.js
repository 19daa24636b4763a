// hookgate dashboard: copy and download buttons, and delivery lists that keep themselves
// current. No framework; everything else is plain server-rendered HTML.
"use strict";

document.addEventListener("click", async (e) => {
  const copy = e.target.closest("[data-copy]");
  if (copy) {
    const text = document.querySelector(copy.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission (plain http): select the text so Ctrl+C copies it.
      const r = document.createRange();
      r.selectNodeContents(document.querySelector(copy.dataset.copy));
      const s = getSelection();
      s.removeAllRanges();
      s.addRange(r);
      document.execCommand && document.execCommand("copy");
    }
    copy.dataset.done = "1";
    const was = copy.textContent;
    copy.textContent = "Copied";
    setTimeout(() => { copy.textContent = was; }, 1500);
    return;
  }
  const dl = e.target.closest("[data-download]");
  if (dl) {
    const text = document.querySelector(dl.dataset.download).textContent;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = dl.dataset.name;
    a.click();
    URL.revokeObjectURL(a.href);
  }
});

// The event-id box opens /ui/events/{id}.
document.addEventListener("submit", (e) => {
  if (e.target.matches("[data-goto]")) {
    e.preventDefault();
    const id = e.target.querySelector("input").value.trim();
    if (id) location.href = "/ui/events/" + encodeURIComponent(id);
  }
});

// A [data-live] element is refreshed from its URL every two seconds.
function live(el) {
  let busy = false;
  setInterval(async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const r = await fetch(el.dataset.live, { credentials: "same-origin", headers: { Accept: "text/html" } });
      // A redirect means the session ended: the sign-in page is not a list.
      if (r.ok && !r.redirected && r.headers.get("Content-Type").startsWith("text/html")) {
        const html = await r.text();
        if (html !== el.dataset.last) {
          el.innerHTML = html;
          el.dataset.last = html;
        }
      }
    } finally {
      busy = false;
    }
  }, 2000);
}
document.querySelectorAll("[data-live]").forEach(live);
