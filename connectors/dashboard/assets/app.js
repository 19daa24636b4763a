// hookgate dashboard: copy and download buttons, and delivery and event lists that keep
// themselves current. No framework; everything else is plain server-rendered HTML.
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

// Live lists: each [data-live] element fetches its rows again from its URL whenever the
// server says something changed (server-sent events from /ui/live). Where that stream
// can't be had (no EventSource, a proxy that refuses it), they are fetched every five
// seconds instead. <html data-live="sse|poll"> says which is in use.
const lists = [...document.querySelectorAll("[data-live]")];

// refresh fetches el's rows; a change while a fetch is in flight fetches once more after.
async function refresh(el) {
  if (el.busy) {
    el.again = true;
    return;
  }
  el.busy = true;
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
  } catch {
    // The server is away for a moment: the next change or poll tries again.
  } finally {
    el.busy = false;
    if (el.again) {
      el.again = false;
      refresh(el);
    }
  }
}

function refreshAll() {
  if (!document.hidden) lists.forEach(refresh);
}

if (lists.length) {
  let polling = 0;
  const poll = () => {
    document.documentElement.dataset.live = "poll";
    if (!polling) polling = setInterval(refreshAll, 5000);
  };
  if (window.EventSource) {
    const es = new EventSource("/ui/live");
    es.addEventListener("open", () => {
      document.documentElement.dataset.live = "sse";
      refreshAll(); // what changed while (re)connecting
    });
    es.addEventListener("change", refreshAll);
    // A broken stream reconnects by itself; one the server refused stays closed.
    es.addEventListener("error", () => {
      if (es.readyState === EventSource.CLOSED) poll();
    });
  } else {
    poll();
  }
  // A hidden tab skips changes; coming back catches up.
  document.addEventListener("visibilitychange", refreshAll);
}

// The new-endpoint form shows the settings of the kind picked only (without the script,
// every kind's are shown, and the server reads the picked kind's).
document.querySelectorAll("[data-kind-picker]").forEach((picker) => {
  const form = picker.form;
  const show = () => {
    form.querySelectorAll("fieldset[data-kind]").forEach((fs) => {
      const on = fs.dataset.kind === picker.value;
      fs.hidden = !on;
      fs.disabled = !on;
    });
  };
  picker.addEventListener("change", show);
  show();
});
