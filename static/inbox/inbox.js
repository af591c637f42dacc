/* Bookbag inbox: keyboard shortcuts, live updates by polling, bulk selection, the composer.
   Plain JavaScript, no build step. Every page works without it (forms post, links navigate);
   this only makes it quicker. */
(function () {
  "use strict";

  const POLL_MS = 2500;
  const HIDDEN_POLL_MS = 10000;
  const REPLYING_MS = 8000;
  const body = document.body;
  const page = body.dataset.page || "";

  // --- Helpers --------------------------------------------------------------------------------
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function announce(text) {
    const region = $("#live-announcer");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  function typingTarget(el) {
    if (!el) return false;
    const tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function csrfToken() {
    const input = $("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- Fragments: re-fetch the page's live parts and swap them by id ---------------------------
  async function refreshParts() {
    const url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    url.hash = "";
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return false;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    $$("[data-live][id]", doc).forEach((fresh) => {
      const current = document.getElementById(fresh.id);
      if (!current) return;
      // Never yank a form from under someone using it.
      if (current.hasAttribute("data-live-keep-focus") && current.contains(document.activeElement)) return;
      current.replaceWith(document.importNode(fresh, true));
    });
    document.dispatchEvent(new CustomEvent("inbox:refreshed"));
    return true;
  }

  // --- Polling: an ETag over what the page shows; 304 while nothing changed ---------------------
  function startPolling(onPresence) {
    const baseUrl = body.dataset.pollUrl;
    if (!baseUrl) return;
    const key = page === "ticket" ? "ticket" : "list";
    let known = body.dataset.version || "";
    let etag = null;
    let stopped = false;

    async function tick() {
      if (stopped) return;
      try {
        const url = new URL(baseUrl, window.location.href);
        if (page === "ticket") url.searchParams.set("state", composerState());
        const headers = { Accept: "application/json" };
        if (etag) headers["If-None-Match"] = etag;
        const response = await fetch(url, { headers, credentials: "same-origin", cache: "no-store" });
        if (response.status === 401 || response.status === 403) {
          stopped = true;
          showSignedOut();
          return;
        }
        if (response.status === 200) {
          etag = response.headers.get("ETag");
          const data = await response.json();
          const version = data.versions && data.versions[key];
          if (version && version !== known) {
            if (await refreshParts()) {
              known = version;
              announce(page === "ticket" ? "This ticket was updated." : "The ticket list was updated.");
            }
          }
          if (onPresence) onPresence(data.others || []);
        }
      } catch (error) {
        // Network hiccup or server restart: try again at the next tick.
      }
      window.setTimeout(tick, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
    }
    window.setTimeout(tick, POLL_MS);
  }

  function showSignedOut() {
    const region = $(".flash-region");
    if (!region) return;
    const p = document.createElement("p");
    p.className = "flash flash-error";
    p.style.animation = "none";
    p.innerHTML = 'You were signed out. <a href="">Reload the page</a> to sign in again.';
    region.appendChild(p);
  }

  // --- Shortcuts dialog ------------------------------------------------------------------------
  const dialog = $("#shortcuts");
  function showShortcuts() {
    if (dialog && !dialog.open) dialog.showModal();
  }
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=show-shortcuts]")) showShortcuts();
  });

  // --- List page -------------------------------------------------------------------------------
  function setupList() {
    const bulkForm = $("#bulk-form");
    let current = -1;

    const rows = () => $$("#ticket-rows .ticket-row");
    const boxes = () => $$("#ticket-rows input[name=tickets]");

    // Remember this page's tickets for j/k on the ticket page.
    function rememberList() {
      const ids = rows().map((r) => Number(r.dataset.ticketId));
      try {
        sessionStorage.setItem("inbox:ids", JSON.stringify(ids));
        sessionStorage.setItem("inbox:list", window.location.pathname + window.location.search);
      } catch (e) { /* private mode */ }
    }

    function updateBulk() {
      const checked = boxes().filter((b) => b.checked);
      rows().forEach((r) => r.classList.toggle("is-selected", !!$("input[name=tickets]:checked", r)));
      if (!bulkForm) return;
      bulkForm.hidden = checked.length === 0;
      $("[data-bulk-count]", bulkForm).textContent = String(checked.length);
      const all = $("#ticket-rows [data-action=select-all]");
      if (all) {
        all.checked = checked.length > 0 && checked.length === boxes().length;
        all.indeterminate = checked.length > 0 && checked.length < boxes().length;
      }
    }

    function showBulkField() {
      if (!bulkForm) return;
      const action = $("[data-bulk-action]", bulkForm).value;
      $$("[data-bulk-field]", bulkForm).forEach((el) => {
        el.hidden = el.dataset.bulkField !== action;
      });
    }

    function highlight(index, focus) {
      const list = rows();
      if (!list.length) return;
      current = Math.max(0, Math.min(index, list.length - 1));
      list.forEach((r, i) => r.classList.toggle("is-current", i === current));
      const row = list[current];
      row.scrollIntoView({ block: "nearest" });
      if (focus) $(".ticket-link", row).focus({ preventScroll: true });
    }

    document.addEventListener("change", (event) => {
      const target = event.target;
      if (target.matches("[data-action=select-all]")) {
        boxes().forEach((b) => { b.checked = target.checked; });
        updateBulk();
      } else if (target.matches("#ticket-rows input[name=tickets]")) {
        updateBulk();
      } else if (target.matches("[data-bulk-action]")) {
        showBulkField();
      } else if (target.matches("select[data-autosubmit]")) {
        target.form.requestSubmit();
      }
    });

    document.addEventListener("click", (event) => {
      if (event.target.closest("[data-action=clear-selection]")) {
        boxes().forEach((b) => { b.checked = false; });
        updateBulk();
        return;
      }
      // The whole row opens the ticket, except its checkbox and links.
      const row = event.target.closest(".ticket-row");
      if (!row || event.target.closest("a, input, label, button")) return;
      const link = $(".ticket-link", row);
      if (link) window.location.href = link.href;
    });

    document.addEventListener("inbox:refreshed", () => {
      // Keep the agent's selection and cursor across a live refresh.
      const selected = new Set(JSON.parse(sessionStorage.getItem("inbox:selected") || "[]"));
      boxes().forEach((b) => { b.checked = selected.has(b.value); });
      updateBulk();
      if (current >= 0) highlight(current, false);
      rememberList();
    });
    document.addEventListener("change", () => {
      try {
        sessionStorage.setItem(
          "inbox:selected",
          JSON.stringify(boxes().filter((b) => b.checked).map((b) => b.value))
        );
      } catch (e) { /* private mode */ }
    });
    try { sessionStorage.removeItem("inbox:selected"); } catch (e) { /* private mode */ }

    rememberList();
    showBulkField();
    updateBulk();

    return {
      next: () => highlight(current + 1, true),
      prev: () => highlight(current < 0 ? 0 : current - 1, true),
      open: () => {
        const row = rows()[current];
        if (row) window.location.href = $(".ticket-link", row).href;
      },
      toggle: () => {
        const row = rows()[current];
        const box = row && $("input[name=tickets]", row);
        if (box) {
          box.checked = !box.checked;
          box.dispatchEvent(new Event("change", { bubbles: true }));
        }
      },
    };
  }

  // --- Ticket page -----------------------------------------------------------------------------
  let lastTyped = 0;
  function composerState() {
    return Date.now() - lastTyped < REPLYING_MS ? "replying" : "viewing";
  }

  function setupTicket() {
    const composer = $("#composer");
    const form = composer && $("form[data-composer]", composer);
    const textarea = form && $("textarea[name=body]", form);
    const ticketId = Number(body.dataset.ticketId);

    function setMode(mode) {
      if (!composer) return;
      composer.dataset.mode = mode;
      const radio = $(`input[name=kind][value=${mode}]`, form);
      if (radio) radio.checked = true;
      const submit = $("button[type=submit]", form);
      submit.textContent = submit.dataset[mode === "note" ? "submitLabelNote" : "submitLabelReply"];
      textarea.placeholder = textarea.dataset[mode === "note" ? "placeholderNote" : "placeholderReply"];
      $("[data-hint-reply]", form).hidden = mode === "note";
      $("[data-hint-note]", form).hidden = mode !== "note";
    }

    if (form) {
      form.addEventListener("change", (event) => {
        if (event.target.name === "kind") setMode(event.target.value);
      });
      textarea.addEventListener("input", () => { lastTyped = textarea.value.trim() ? Date.now() : 0; });
      textarea.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) form.requestSubmit();
      });
      form.addEventListener("submit", () => {
        const button = $("button[type=submit]", form);
        button.disabled = true;  // no double send
        lastTyped = 0;
      });
      const saved = $("select[data-saved-reply]", form);
      if (saved) {
        saved.addEventListener("change", async () => {
          if (!saved.value) return;
          const url = saved.dataset.urlTemplate.replace(/\/0\/$/, `/${saved.value}/`);
          saved.disabled = true;
          try {
            const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
            if (response.ok) {
              const data = await response.json();
              insertAtCursor(textarea, data.body);
              lastTyped = Date.now();
            }
          } finally {
            saved.value = "";
            saved.disabled = false;
            textarea.focus();
          }
        });
      }
    }

    function insertAtCursor(area, text) {
      const start = area.selectionStart ?? area.value.length;
      const end = area.selectionEnd ?? area.value.length;
      const before = area.value.slice(0, start);
      const after = area.value.slice(end);
      const glue = before && !before.endsWith("\n") ? "\n" : "";
      area.value = before + glue + text + after;
      const caret = (before + glue + text).length;
      area.setSelectionRange(caret, caret);
    }

    // j/k: the neighbours in the list the agent came from.
    let ids = [];
    try { ids = JSON.parse(sessionStorage.getItem("inbox:ids") || "[]"); } catch (e) { ids = []; }
    const at = ids.indexOf(ticketId);
    const listUrl = (() => { try { return sessionStorage.getItem("inbox:list"); } catch (e) { return null; } })();
    const back = $("[data-back-to-list]");
    if (back && listUrl && listUrl.startsWith("/inbox/")) back.href = listUrl;
    const neighbour = (step) => (at >= 0 && ids[at + step] ? `/inbox/tickets/${ids[at + step]}/` : null);
    const nextLink = $("[data-action=next-ticket]");
    const prevLink = $("[data-action=prev-ticket]");
    if (neighbour(1)) { nextLink.href = neighbour(1); nextLink.hidden = false; }
    if (neighbour(-1)) { prevLink.href = neighbour(-1); prevLink.hidden = false; }

    // Leaving: drop the collision-warning entry now rather than when it goes stale.
    window.addEventListener("pagehide", () => {
      const url = body.dataset.leaveUrl;
      if (!url || !navigator.sendBeacon) return;
      const data = new FormData();
      data.append("csrfmiddlewaretoken", csrfToken());
      navigator.sendBeacon(url, data);
    });

    return {
      next: () => { const url = neighbour(1); if (url) window.location.href = url; },
      prev: () => { const url = neighbour(-1); if (url) window.location.href = url; },
      reply: () => { if (textarea) { setMode("reply"); textarea.focus(); } },
      note: () => { if (textarea) { setMode("note"); textarea.focus(); } },
      resolve: () => {
        const resolveForm = $("form[data-shortcut=resolve]");
        if (resolveForm) resolveForm.requestSubmit();
      },
    };
  }

  function renderPresence(others) {
    const box = $("#presence");
    if (!box) return;
    box.replaceChildren(
      ...others.map((other) => {
        const p = document.createElement("p");
        p.className = `presence-item presence-${other.state}`;
        const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        icon.setAttribute("class", "icon");
        icon.setAttribute("aria-hidden", "true");
        const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
        use.setAttribute("href", other.state === "replying" ? "#i-pencil" : "#i-eye");
        icon.appendChild(use);
        const name = document.createElement("strong");
        name.textContent = other.name;
        p.append(icon, " ", name, other.state === "replying" ? " is replying to this ticket" : " is viewing this ticket");
        return p;
      })
    );
  }

  // --- Tag colours: set through the CSSOM, which the Content-Security-Policy allows, where a
  // style attribute in the markup would be refused (no inline styles).
  function paintTags() {
    $$("[data-tag-color]").forEach((el) => el.style.setProperty("--tag", el.dataset.tagColor));
  }
  paintTags();
  document.addEventListener("inbox:refreshed", paintTags);

  // --- Keyboard --------------------------------------------------------------------------------
  const list = page === "list" ? setupList() : null;
  const ticket = page === "ticket" ? setupTicket() : null;

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "Escape" && typingTarget(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (typingTarget(event.target) || (dialog && dialog.open)) return;
    const handlers = {
      "/": () => { const search = $("[data-shortcut=search]"); if (search) { search.focus(); search.select(); } },
      "?": showShortcuts,
      j: () => (list || ticket) && (list || ticket).next(),
      k: () => (list || ticket) && (list || ticket).prev(),
      Enter: () => list && list.open(),
      o: () => list && list.open(),
      x: () => list && list.toggle(),
      r: () => ticket && ticket.reply(),
      n: () => ticket && ticket.note(),
      e: () => ticket && ticket.resolve(),
    };
    // Enter on a focused link or button keeps its own meaning.
    if (event.key === "Enter" && event.target.closest && event.target.closest("a, button")) return;
    const handler = handlers[event.key];
    if (handler) {
      event.preventDefault();
      handler();
    }
  });

  if (page === "list" || page === "ticket") {
    startPolling(page === "ticket" ? renderPresence : null);
  }
})();
