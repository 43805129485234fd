/* ouchsim web UI: polls the JSON API twice a second and drives the order forms. No framework. */
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("ouchsim-config").textContent);
  const POLL_MS = 500;
  const MAX_LOG_ROWS = 200;
  const state = {
    book: config.books[0] || "",
    since: 1,
    session: null,
    nextToken: config.defaults ? tokenOf(config.defaults) : "",
    orders: [],
    book_data: null,
    market: null,
  };
  const forms = {};
  for (const spec of config.forms) forms[spec.purpose] = spec;

  function tokenOf(values) {
    for (const spec of config.forms) {
      for (const field of spec.fields) if (field.role === "token" && field.name in values) return values[field.name];
    }
    return "";
  }

  // -- small DOM helpers ---------------------------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const td = (text, className) => el("td", { text: text === null || text === undefined ? "" : text, className });
  const sideClass = (side) => (side === "B" ? "buy" : side ? "sell" : "");

  function fill(tbody, rows, emptyText, columns) {
    tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { text: emptyText, className: "empty", colspan: columns }))]));
  }

  // -- the API -------------------------------------------------------------------------------------

  async function api(path, body) {
    const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = config.csrf;
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (response.status === 401) {
      window.location.assign("/login");
      throw new Error("signed out");
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = { ok: false, error: `HTTP ${response.status}` }; }
    return { status: response.status, data };
  }

  const enc = encodeURIComponent;

  // -- order forms ---------------------------------------------------------------------------------

  function formElement(purpose) { return document.getElementById(`form-${purpose}`); }
  function input(purpose, name) { const f = formElement(purpose); return f ? f.elements.namedItem(name) : null; }

  function fieldsByRole(purpose, role) {
    const spec = forms[purpose];
    return spec ? spec.fields.filter((f) => f.role === role) : [];
  }

  function setValue(purpose, name, value, chosen = false) {
    const control = input(purpose, name);
    if (!control || value === undefined || value === null) return;
    control.value = String(value);
    control.dataset.dirty = chosen ? "1" : "";
    control.dispatchEvent(new Event("change"));
  }

  function showTab(purpose) {
    for (const tab of $$(".tab")) tab.setAttribute("aria-selected", String(tab.dataset.form === `form-${purpose}`));
    for (const form of $$(".order-form")) form.hidden = form.id !== `form-${purpose}`;
  }

  function clearErrors(form) {
    for (const label of $$(".f", form)) label.classList.remove("invalid");
    for (const em of $$(".err", form)) em.textContent = "";
    $(".form-error", form).textContent = "";
  }

  function showErrors(form, errors, text) {
    let unplaced = [];
    for (const [name, problem] of Object.entries(errors || {})) {
      const em = $(`.err[data-for="${CSS.escape(name)}"]`, form);
      if (em) { em.textContent = problem; em.parentElement.classList.add("invalid"); } else unplaced.push(problem);
    }
    if (!errors || unplaced.length) $(".form-error", form).textContent = unplaced.join("; ") || text || "";
    else $(".form-error", form).textContent = `${Object.keys(errors).length} field(s) to fix`;
  }

  function status(text, kind) {
    const box = document.getElementById("ticket-status");
    box.textContent = text;
    box.className = `status ${kind}`;
  }

  function describeReplies(result) {
    if (!result.replies.length) return result.note || "sent";
    return result.replies.map((m) => `${m.name}${m.token !== null && m.token !== undefined ? " " + m.token : ""}: ${m.text}`).join("  ·  ");
  }

  async function submitValues(form, values) {
    clearErrors(form);
    const { status: code, data } = await api("/api/submit", values);
    if (code !== 200 || !data.ok) {
      showErrors(form, data.errors, data.error);
      status(data.error || `refused (HTTP ${code})`, "bad");
      return null;
    }
    const rejected = data.replies.some((m) => m.type === "J");
    status(describeReplies(data), data.replies.length === 0 ? "note" : rejected ? "bad" : "ok");
    for (const field of fieldsByRole(form.dataset.purpose, "token")) input(form.dataset.purpose, field.name).dataset.dirty = "";
    state.nextToken = data.next_token;
    refreshTokens();
    schedule(0);
    return data;
  }

  function formValues(form) {
    const spec = forms[form.dataset.purpose];
    const values = { message_type: spec.message_type };
    for (const field of spec.fields) values[field.name] = form.elements.namedItem(field.name).value;
    return values;
  }

  function paintSide(form) {
    const side = form.elements.namedItem("buy_sell_indicator");
    const button = $(".submit", form);
    button.classList.remove("buy", "sell");
    if (side) button.classList.add(sideClass(side.value));
  }

  function refreshTokens() {
    for (const purpose of ["enter", "replace"]) {
      for (const field of fieldsByRole(purpose, "token")) {
        const control = input(purpose, field.name);
        if (control && !control.dataset.dirty && document.activeElement !== control) control.value = String(state.nextToken);
      }
    }
  }

  function setupForms() {
    for (const tab of $$(".tab")) tab.addEventListener("click", () => showTab(tab.dataset.form.slice(5)));
    for (const form of $$(".order-form")) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        submitValues(form, formValues(form)).catch((error) => status(String(error), "bad"));
      });
      form.addEventListener("input", (event) => {
        if (event.target.dataset) event.target.dataset.dirty = "1";
        const label = event.target.closest(".f");
        if (label) { label.classList.remove("invalid"); $(".err", label).textContent = ""; }
      });
      form.addEventListener("change", () => paintSide(form));
      paintSide(form);
    }
    const bookInput = fieldsByRole("enter", "book").map((f) => input("enter", f.name))[0];
    if (bookInput) bookInput.addEventListener("change", () => { if (config.books.includes(bookInput.value)) selectBook(bookInput.value); });
  }

  function fillFromOrder(purpose, order) {
    const spec = forms[purpose];
    if (!spec) return;
    for (const field of spec.fields) {
      let value;
      if (field.role === "existing_token" || (field.role === "token" && purpose !== "replace")) value = order.token;
      else if (field.role === "token") value = state.nextToken;
      else if (field.role === "quantity") value = purpose === "cancel" ? 0 : order.total;
      else if (field.role === "price") value = order.price;
      else if (field.role === "side") value = order.side;
      else if (field.name in order.terms) value = order.terms[field.name];
      if (value !== undefined) setValue(purpose, field.name, value);
    }
    clearErrors(formElement(purpose));
  }

  function cancelOrder(order) {
    const form = formElement("cancel");
    if (!form) return;
    fillFromOrder("cancel", order);
    submitValues(form, formValues(form)).catch((error) => status(String(error), "bad"));
  }

  function pickPrice(price, side) {
    for (const field of fieldsByRole("enter", "price")) setValue("enter", field.name, price, true);
    if (side) for (const field of fieldsByRole("enter", "side")) setValue("enter", field.name, side, true);
    showTab("enter");
  }

  function nearPrice() {
    // Keep the Enter price near the book until the user types one.
    const control = fieldsByRole("enter", "price").map((f) => input("enter", f.name))[0];
    const book = state.book_data;
    if (!control || control.dataset.dirty || document.activeElement === control || !book) return;
    const best = (book.bids[0] && book.bids[0][0]) || (book.asks[0] && book.asks[0][0]) || book.last;
    if (best) control.value = best;
  }

  // -- rendering -----------------------------------------------------------------------------------

  function selectBook(book) {
    if (book === state.book) return;
    state.book = book;
    for (const field of fieldsByRole("enter", "book")) {
      const control = input("enter", field.name);
      if (control && control.value !== book) control.value = book;
    }
    const price = fieldsByRole("enter", "price").map((f) => input("enter", f.name))[0];
    if (price) price.dataset.dirty = "";
    state.book_data = null;
    schedule(0);
  }

  function renderMarket(market) {
    state.market = market;
    const badge = document.getElementById("market-state");
    badge.textContent = market.market;
    badge.className = `state state-${market.market}`;
    document.getElementById("session").textContent = market.session;
    document.getElementById("clock").textContent = market.time;
    document.getElementById("connected").textContent = market.connected.length ? market.connected.join(" ") : "-";
    const rows = market.books.map((b) => el("tr", { className: b.id === state.book ? "selected" : "", onclick: () => selectBook(b.id) },
      td(b.id, b.state === "open" ? "" : b.state),
      td(b.bid, "bid"), td(b.ask, "ask"), td(b.last)));
    fill($("#watchlist tbody"), rows, "no orderbooks", 4);
    for (const span of $$(".book-name")) span.textContent = state.book;
    for (const button of $$(".op[data-book]")) button.dataset.book = state.book;
  }

  function renderBook(book) {
    state.book_data = book;
    document.getElementById("book-title").textContent = book.book;
    const badge = document.getElementById("book-state");
    badge.textContent = book.state;
    badge.className = `state state-${book.state}`;
    const most = Math.max(1, ...book.bids.map((l) => l[1]), ...book.asks.map((l) => l[1]));
    const row = (level, side) => {
      const bar = el("span", { className: "level-bar" });
      bar.style.width = `${Math.max(2, (100 * level[1]) / most)}%`;
      return el("tr", { title: `${side === "S" ? "buy" : "sell"} at ${level[0]}`, onclick: () => pickPrice(level[0], side) },
        td(level[2]), td(level[1]), td(level[0], "price"), el("td", { className: "bar-cell" }, bar));
    };
    fill(document.getElementById("asks"), book.asks.slice().reverse().map((l) => row(l, "B")), "no asks", 4);
    fill(document.getElementById("bids"), book.bids.map((l) => row(l, "S")), "no bids", 4);
    let spread = "";
    if (book.bids.length && book.asks.length) {
      const digits = (config.tick.split(".")[1] || "").length;
      spread = `spread ${(parseFloat(book.asks[0][0]) - parseFloat(book.bids[0][0])).toFixed(digits)}`;
    }
    document.getElementById("spread-cell").textContent = [spread, book.last ? `last ${book.last}` : ""].filter(Boolean).join("  ·  ") || "-";
    drawDepth(document.getElementById("depth-chart"), book.bids, book.asks);
    nearPrice();
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawDepth(chart, bids, asks) {
    const W = Math.max(120, Math.round(chart.clientWidth || 300));
    const H = 110;
    const base = H - 14;
    chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
    chart.replaceChildren();
    if (!bids.length && !asks.length) {
      chart.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" }, "empty book"));
      return;
    }
    const cumulative = (levels) => { let sum = 0; return levels.map((l) => [parseFloat(l[0]), (sum += l[1])]); };
    const b = cumulative(bids);
    const a = cumulative(asks);
    const prices = [...b, ...a].map((p) => p[0]);
    let lo = Math.min(...prices);
    let hi = Math.max(...prices);
    const margin = (hi - lo) * 0.08 || Math.max(hi * 0.01, 1);
    lo -= margin; hi += margin;
    const top = Math.max(b.length ? b[b.length - 1][1] : 0, a.length ? a[a.length - 1][1] : 0);
    const x = (p) => ((p - lo) / (hi - lo)) * W;
    const y = (q) => base - (q / top) * (base - 12);
    const steps = (levels, edge) => {
      let d = `M${x(levels[0][0]).toFixed(1)},${base} L${x(levels[0][0]).toFixed(1)},${y(levels[0][1]).toFixed(1)}`;
      for (let i = 1; i < levels.length; i++) {
        d += ` L${x(levels[i][0]).toFixed(1)},${y(levels[i - 1][1]).toFixed(1)} L${x(levels[i][0]).toFixed(1)},${y(levels[i][1]).toFixed(1)}`;
      }
      return `${d} L${edge},${y(levels[levels.length - 1][1]).toFixed(1)} L${edge},${base} Z`;
    };
    if (b.length && a.length) {
      const mid = x((b[0][0] + a[0][0]) / 2).toFixed(1);
      chart.append(svg("line", { x1: mid, x2: mid, y1: 4, y2: base, class: "mid" }));
    }
    if (b.length) chart.append(svg("path", { d: steps(b, 0), class: "bid-area" }));
    if (a.length) chart.append(svg("path", { d: steps(a, W), class: "ask-area" }));
    const digits = (config.tick.split(".")[1] || "").length;
    chart.append(svg("text", { x: 3, y: H - 3, class: "axis" }, lo.toFixed(digits)));
    chart.append(svg("text", { x: W - 3, y: H - 3, "text-anchor": "end", class: "axis" }, hi.toFixed(digits)));
    chart.append(svg("text", { x: 3, y: 10, class: "axis" }, `${top}`));
  }

  function renderTrades(data) {
    const rows = data.trades.map((t) => el("tr", {}, td(t.match), td(t.quantity), td(t.price, t.aggressor === "B" ? "buy" : "sell"), td(t.aggressor, sideClass(t.aggressor))));
    fill($("#trades tbody"), rows, "no trades yet", 4);
  }

  function renderOrders(data) {
    state.orders = data.orders;
    state.nextToken = data.next_token;
    refreshTokens();
    document.getElementById("orders-count").textContent = data.orders.length;
    const rows = data.orders.map((o) => {
      const buttons = el("td", {},
        forms.replace ? el("button", { type: "button", className: "row-btn replace", text: "Replace", onclick: () => { fillFromOrder("replace", o); showTab("replace"); } }) : null,
        forms.modify ? el("button", { type: "button", className: "row-btn modify", text: "Modify", onclick: () => { fillFromOrder("modify", o); showTab("modify"); } }) : null,
        forms.cancel ? el("button", { type: "button", className: "row-btn cancel", text: "Cancel", onclick: () => cancelOrder(o) }) : null);
      return el("tr", { dataset: { token: String(o.token) } },
        td(o.token), td(o.book), td(o.side, sideClass(o.side)), td(o.price, sideClass(o.side)), td(o.open), td(o.executed), td(o.order_number), buttons);
    });
    fill($("#orders tbody"), rows, "no open orders", 8);
  }

  function renderExecutions(data) {
    document.getElementById("fills-count").textContent = data.executions.length;
    const rows = data.executions.slice(0, 200).map((e) => el("tr", { className: e.broken ? "broken" : "" },
      td(e.time.slice(0, 12)), td(e.token), td(e.book), td(e.side, sideClass(e.side)), td(e.quantity), td(e.price, sideClass(e.side)), td(e.liquidity), td(e.match)));
    fill($("#executions tbody"), rows, "no executions yet", 8);
  }

  function renderMessages(data) {
    const tbody = $("#messages tbody");
    if (data.session !== state.session) {
      const first = state.session === null;
      state.session = data.session;
      tbody.replaceChildren();
      if (!first && state.since !== 1) {
        // A new SoupBinTCP session (the day rolled): read its stream from the start.
        state.since = 1;
        schedule(0);
        return;
      }
    }
    state.since = data.next;
    for (const m of data.messages) {
      tbody.prepend(el("tr", { className: "fresh" }, td(m.seq), td((m.time || "").slice(0, 12)),
        el("td", { className: `type t-${m.type}`, text: `${m.type} ${m.name}` }), td(m.token), td(m.text)));
    }
    while (tbody.rows.length > MAX_LOG_ROWS) tbody.deleteRow(-1);
  }

  // -- market control (operators) ------------------------------------------------------------------

  function setupControls() {
    for (const button of $$(".op")) {
      button.addEventListener("click", async () => {
        if (button.dataset.confirm && !button.classList.contains("armed")) {
          button.classList.add("armed");
          button.dataset.label = button.textContent;
          button.textContent = button.dataset.confirm;
          setTimeout(() => { button.classList.remove("armed"); button.textContent = button.dataset.label; }, 4000);
          return;
        }
        button.classList.remove("armed");
        if (button.dataset.label) button.textContent = button.dataset.label;
        const body = { command: button.dataset.command };
        if (button.dataset.book) body.book = state.book;
        const { status: code, data } = await api("/api/operate", body);
        const done = data.book ? `${data.command} ${data.book}: book ${data.book_state}` : `${data.command}: market ${data.market}, session ${data.session}`;
        document.getElementById("op-status").textContent = code === 200 ? done : data.error;
        schedule(0);
      });
    }
  }

  // -- polling -------------------------------------------------------------------------------------

  let timer = null;
  let busy = false;
  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(poll, delay);
  }

  async function poll() {
    if (busy) { schedule(50); return; }
    busy = true;
    const book = enc(state.book);
    try {
      const results = await Promise.all([
        api("/api/market"), api(`/api/book/${book}`), api(`/api/trades/${book}`), api("/api/orders"),
        api("/api/executions"), api(`/api/messages?since=${state.since}`),
      ]);
      const [market, depth, trades, orders, executions, messages] = results.map((r) => r.data);
      renderMarket(market);
      if (results[1].status === 200) renderBook(depth);
      if (results[2].status === 200) renderTrades(trades);
      renderOrders(orders);
      renderExecutions(executions);
      renderMessages(messages);
      document.getElementById("link").className = "link ok";
      document.getElementById("link").textContent = "live";
    } catch (error) {
      document.getElementById("link").className = "link down";
      document.getElementById("link").textContent = "offline";
    } finally {
      busy = false;
      schedule(POLL_MS);
    }
  }

  setupForms();
  setupControls();
  showTab("enter");
  poll();
})();
