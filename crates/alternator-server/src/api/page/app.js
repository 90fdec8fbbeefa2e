// The page at GET /: pick favourites (or a known user), see recommendations, click one for
// its explanation and similar items. Every id and title is inserted as text (textContent),
// never as HTML. Talks to this server's /v1 API only.
"use strict";

(function () {
  const N_RECS = 10;
  const N_SEARCH = 8;
  const N_HISTORY = 20;
  const N_EXPLAIN = 8;

  const $ = (id) => document.getElementById(id);
  const state = {
    model: null,        // GET /v1/model
    mode: "new",        // "new" or "known"
    favs: [],           // [{item, title, rating}]; rating "" = liked (the model's liked value)
    user: null,         // the known user shown
    results: [],        // search results shown
    active: -1,         // the highlighted search result
    selected: null,     // the item whose detail is open
    seq: { search: 0, recs: 0, detail: 0, user: 0 },
  };

  // ---- helpers ------------------------------------------------------------------------

  // Anything the Content-Security-Policy refuses is counted (the browser test reads it).
  document.addEventListener("securitypolicyviolation", (ev) => {
    window.__cspViolations = (window.__cspViolations || 0) + 1;
    console.warn("refused by the Content-Security-Policy:", ev.violatedDirective, ev.blockedURI);
  });

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function label(it) {
    return it.title ? it.title : "item " + it.item;
  }

  function num(x, digits) {
    return Number(x).toFixed(digits === undefined ? 3 : digits);
  }

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    };
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw new Error("the server did not answer (" + e.message + ")");
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      throw new Error("the server answered " + resp.status + " without JSON");
    }
    if (!resp.ok) {
      const err = new Error(data && data.error ? data.error : "error " + resp.status);
      err.code = data && data.code;
      throw err;
    }
    return data;
  }

  function setStatus(id, text, isError) {
    const p = $(id);
    p.textContent = text || "";
    p.classList.toggle("error", !!isError);
  }

  // ---- the model ------------------------------------------------------------------------

  function bytes(n) {
    if (n >= 1 << 20) return num(n / (1 << 20), 1) + " MiB";
    if (n >= 1 << 10) return num(n / (1 << 10), 1) + " KiB";
    return n + " B";
  }

  async function loadModel() {
    try {
      const m = await api("v1/model");
      state.model = m;
      const parts = [
        m.kind + " ALS",
        "rank " + m.rank,
        m.users.toLocaleString("en") + " users × " + m.items.toLocaleString("en") + " items",
        m.interactions.toLocaleString("en") + " interactions",
        m.trained_at ? "trained " + m.trained_at.replace("T", " ").replace("Z", " UTC") : "training time not recorded",
        "checksum " + m.checksum,
        (m.file ? m.file + ", " : "") + bytes(m.file_bytes),
        m.titles ? m.titles.toLocaleString("en") + " titles" : "no titles: items shown by id",
      ];
      $("model").textContent = parts.join(" · ");
      renderFavs();
    } catch (e) {
      $("model").textContent = "Could not read the model: " + e.message;
      $("model").classList.add("error");
    }
  }

  function explicit() {
    return state.model && state.model.kind === "explicit";
  }

  // ---- search -----------------------------------------------------------------------------

  let searchTimer = null;
  const search = $("search");
  const results = $("results");

  function closeResults() {
    results.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
    state.active = -1;
  }

  function highlight(k) {
    const opts = results.querySelectorAll("[role=option]");
    if (!opts.length) return;
    state.active = (k + opts.length) % opts.length;
    opts.forEach((o, i) => o.setAttribute("aria-selected", String(i === state.active)));
    const cur = opts[state.active];
    search.setAttribute("aria-activedescendant", cur.id);
    cur.scrollIntoView({ block: "nearest" });
  }

  function renderResults(list, query) {
    clear(results);
    state.results = list;
    state.active = -1;
    if (!list.length) {
      closeResults();
      setStatus("search-status", query ? "No title matches “" + query + "”." : "");
      return;
    }
    list.forEach((it, k) => {
      const li = el("li", "option");
      li.id = "result-" + k;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.item = it.item;
      li.appendChild(el("span", "title", label(it)));
      const picked = state.favs.some((f) => f.item === it.item);
      li.appendChild(el("span", "meta", picked ? "picked" : (it.title ? "id " + it.item : "")));
      li.addEventListener("mousedown", (ev) => ev.preventDefault());
      li.addEventListener("click", () => pick(k));
      results.appendChild(li);
    });
    results.hidden = false;
    search.setAttribute("aria-expanded", "true");
    setStatus("search-status", list.length + " match" + (list.length === 1 ? "" : "es") + ".");
  }

  async function runSearch() {
    const q = search.value.trim();
    const seq = ++state.seq.search;
    if (!q) {
      renderResults([], "");
      return;
    }
    try {
      const r = await api("v1/search?q=" + encodeURIComponent(q.slice(0, 200)) + "&n=" + N_SEARCH);
      if (seq === state.seq.search) renderResults(r.items, q);
    } catch (e) {
      if (seq === state.seq.search) {
        closeResults();
        setStatus("search-status", e.message, true);
      }
    }
  }

  function pick(k) {
    const it = state.results[k];
    if (!it) return;
    addFav(it);
    search.value = "";
    clear(results);
    closeResults();
    search.focus();
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 120);
  });
  search.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") {
      ev.preventDefault();
      if (results.hidden && state.results.length) {
        results.hidden = false;
        search.setAttribute("aria-expanded", "true");
      }
      highlight(state.active + 1);
    } else if (ev.key === "ArrowUp") {
      ev.preventDefault();
      highlight(state.active - 1);
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (!results.hidden && state.results.length) pick(state.active >= 0 ? state.active : 0);
    } else if (ev.key === "Escape") {
      closeResults();
    }
  });
  search.addEventListener("blur", () => setTimeout(closeResults, 150));

  // ---- favourites ----------------------------------------------------------------------------

  function addFav(it) {
    if (!state.favs.some((f) => f.item === it.item)) {
      state.favs.push({ item: it.item, title: it.title || null, rating: "" });
      setStatus("search-status", "Added " + label(it) + ".");
    } else {
      setStatus("search-status", label(it) + " is already a favourite.");
    }
    renderFavs();
    refresh();
  }

  function ratingOptions() {
    const liked = state.model ? num(state.model.liked_value, 0) : "";
    if (explicit()) {
      return [["", "liked (" + liked + ")"], ["5", "5 ★"], ["4", "4 ★"], ["3", "3 ★"], ["2", "2 ★"], ["1", "1 ★"]];
    }
    return [["", "liked"], ["-1", "not for me"]];
  }

  function renderFavs() {
    const ul = $("favourites");
    clear(ul);
    $("favs-empty").hidden = state.favs.length > 0;
    state.favs.forEach((f, k) => {
      const li = el("li", "fav");
      li.appendChild(el("span", "title", label(f)));
      const sel = el("select");
      sel.setAttribute("aria-label", "Rating of " + label(f));
      for (const [v, text] of ratingOptions()) {
        const o = el("option", null, text);
        o.value = v;
        sel.appendChild(o);
      }
      sel.value = f.rating;
      if (sel.value !== f.rating) f.rating = "";
      sel.addEventListener("change", () => {
        f.rating = sel.value;
        refresh();
      });
      li.appendChild(sel);
      const rm = el("button", "remove", "✕");
      rm.type = "button";
      rm.title = "Remove";
      rm.setAttribute("aria-label", "Remove " + label(f));
      rm.addEventListener("click", () => {
        state.favs.splice(k, 1);
        renderFavs();
        refresh();
        const next = $("favourites").querySelectorAll("button.remove")[Math.min(k, state.favs.length - 1)];
        (next || search).focus();
      });
      li.appendChild(rm);
      ul.appendChild(li);
    });
  }

  function likedBody() {
    const liked = Object.create(null); // an id such as "__proto__" is a key like any other
    const value = state.model ? state.model.liked_value : 1;
    for (const f of state.favs) liked[f.item] = f.rating === "" ? value : Number(f.rating);
    return liked;
  }

  // ---- recommendations -------------------------------------------------------------------------

  function renderList(ol, items, onClick, scoreLabel) {
    clear(ol);
    items.forEach((it) => {
      const li = el("li");
      const inner = onClick ? el("button", "item") : el("span", "item");
      if (onClick) {
        inner.type = "button";
        inner.dataset.item = it.item;
        if (state.selected === it.item) inner.setAttribute("aria-current", "true");
        inner.addEventListener("click", () => onClick(it));
      }
      inner.appendChild(el("span", "title", label(it)));
      if (it.genres) inner.appendChild(el("span", "genres", it.genres.join(", ")));
      inner.appendChild(el("span", "score", (scoreLabel || "") + num(it.score, scoreLabel ? 0 : 3)));
      li.appendChild(inner);
      ol.appendChild(li);
    });
  }

  async function refresh() {
    const seq = ++state.seq.recs;
    const ol = $("recs");
    if (state.mode === "new") {
      if (!state.favs.length) {
        clear(ol);
        setStatus("recs-status", "Pick a favourite to see recommendations.");
        return;
      }
      setStatus("recs-status", "Updating…");
      try {
        const r = await api("v1/recommend", { liked: likedBody(), n: N_RECS });
        if (seq !== state.seq.recs) return;
        renderList(ol, r.items, openDetail);
        const names = state.favs.length === 1 ? "1 favourite" : state.favs.length + " favourites";
        setStatus("recs-status", "Top " + r.items.length + " for " + names + ", best first (predicted score).");
      } catch (e) {
        if (seq === state.seq.recs) {
          clear(ol);
          setStatus("recs-status", e.message, true);
        }
      }
    } else if (state.user !== null) {
      setStatus("recs-status", "Updating…");
      try {
        const r = await api("v1/recommend?user=" + encodeURIComponent(state.user) + "&n=" + N_RECS);
        if (seq !== state.seq.recs) return;
        renderList(ol, r.items, openDetail);
        setStatus("recs-status", "Top " + r.items.length + " for user " + state.user + ", best first (predicted score).");
      } catch (e) {
        if (seq === state.seq.recs) {
          clear(ol);
          setStatus("recs-status", e.message, true);
        }
      }
    } else {
      clear(ol);
      setStatus("recs-status", "Enter a user id to see their recommendations.");
    }
  }

  // ---- the known user ----------------------------------------------------------------------------

  $("user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const id = $("user").value.trim();
    const seq = ++state.seq.user;
    closeDetail();
    if (!id) {
      setStatus("user-status", "Enter a user id from the training data.", true);
      return;
    }
    setStatus("user-status", "Loading…");
    try {
      const h = await api("v1/history?user=" + encodeURIComponent(id) + "&n=" + N_HISTORY);
      if (seq !== state.seq.user) return;
      state.user = id;
      renderList($("history"), h.items, null, explicit() ? "rated " : "value ");
      const more = h.eligible > h.items.length ? " (the " + h.items.length + " highest shown)" : "";
      setStatus("user-status", "User " + id + " has " + h.eligible + " training items" + more + ".");
    } catch (e) {
      if (seq !== state.seq.user) return;
      state.user = null;
      clear($("history"));
      setStatus("user-status", e.message, true);
    }
    refresh();
  });

  function setMode(mode) {
    state.mode = mode;
    $("new-panel").hidden = mode !== "new";
    $("known-panel").hidden = mode !== "known";
    closeDetail();
    refresh();
  }

  document.querySelectorAll("input[name=mode]").forEach((r) => {
    r.addEventListener("change", () => setMode(r.value));
  });

  // ---- the detail: explanation and similar items --------------------------------------------

  function closeDetail() {
    state.selected = null;
    $("detail-body").hidden = true;
    $("detail-close").hidden = true;
    $("detail-empty").hidden = false;
    $("detail-h").textContent = "Why this?";
    document.querySelectorAll("#recs [aria-current]").forEach((b) => b.removeAttribute("aria-current"));
  }

  async function openDetail(it) {
    const seq = ++state.seq.detail;
    state.selected = it.item;
    document.querySelectorAll("#recs button.item").forEach((b) => {
      if (b.dataset.item === it.item) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
    $("detail-body").hidden = false;
    $("detail-close").hidden = false;
    $("detail-empty").hidden = true;
    $("detail-h").textContent = "Why " + label(it) + "?";
    clear($("explain"));
    clear($("similar"));
    $("explain-summary").textContent = "";
    $("explain-rest").textContent = "";
    const add = $("detail-add");
    add.hidden = state.mode !== "new";
    add.onclick = () => addFav(it);
    setStatus("detail-status", "Loading…");
    $("detail-h").focus();
    const explain = state.mode === "new"
      ? api("v1/explain", { item: it.item, liked: likedBody(), n: N_EXPLAIN })
      : api("v1/explain?user=" + encodeURIComponent(state.user) + "&item=" + encodeURIComponent(it.item) + "&n=" + N_EXPLAIN);
    const similar = api("v1/similar?item=" + encodeURIComponent(it.item) + "&n=" + N_RECS);
    const [e, s] = await Promise.allSettled([explain, similar]);
    if (seq !== state.seq.detail) return;
    const problems = [];
    if (e.status === "fulfilled") renderExplanation(e.value);
    else problems.push("No explanation: " + e.reason.message);
    if (s.status === "fulfilled") renderList($("similar"), s.value.items, openDetail);
    else problems.push("No similar items: " + s.reason.message);
    setStatus("detail-status", problems.join(" "), problems.length > 0);
  }

  function renderExplanation(x) {
    const who = x.user === null ? "your favourites" : "user " + x.user + "'s history";
    // The shares are the user's least-squares solve written as weights over their items.
    $("explain-summary").textContent = "Score " + num(x.score) + ": each item of " + who +
      " adds a share, and the shares add up to the score.";
    const ol = $("explain");
    clear(ol);
    const biggest = x.contributions.reduce((m, c) => Math.max(m, Math.abs(c.share)), 1e-12);
    for (const c of x.contributions) {
      const li = el("li", "bar-row");
      li.appendChild(el("span", "title", label(c)));
      const pct = x.score !== 0 ? " (" + num((100 * c.share) / x.score, 0) + "%)" : "";
      li.appendChild(el("span", "score", (c.share >= 0 ? "+" : "") + num(c.share) + pct));
      const track = el("span", "track");
      track.setAttribute("aria-hidden", "true");
      const bar = el("span", c.share >= 0 ? "bar" : "bar negative");
      bar.style.width = num((100 * Math.abs(c.share)) / biggest, 1) + "%";
      track.appendChild(bar);
      li.appendChild(track);
      ol.appendChild(li);
    }
    $("explain-rest").textContent = x.others_count > 0
      ? "The other " + x.others_count + " items add " + num(x.others) + "."
      : "";
  }

  $("detail-close").addEventListener("click", () => {
    const item = state.selected;
    closeDetail();
    const back = item && document.querySelector('#recs button.item[data-item="' + CSS.escape(item) + '"]');
    (back || $("recs-h")).focus();
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !$("detail-body").hidden && ev.target !== search) $("detail-close").click();
  });

  loadModel().then(refresh);
})();
