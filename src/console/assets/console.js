// The console's pages, drawn from the signed API: every list and every change is one more
// RPC call signed with the key pair typed in at sign-in (see signer.js). Text from the API
// is only ever set as text (never as HTML).
"use strict";

const SLB = "2014-05-15";
const CAS = "2020-04-07";
const DAY_MS = 86400000;
const $ = (id) => document.getElementById(id);

const session = { id: "", secret: "", region: localStorage.getItem("slbcert.region") || "cn-hangzhou" };
let data = null;

class ApiError extends Error {
  constructor(code, message, requestId) {
    super(`${code}: ${message}`);
    Object.assign(this, { code, requestId });
  }
}

async function call(action, params = {}, version = SLB) {
  const body = await Signer.signedBody({ Action: action, Version: version, ...params }, session.id, session.secret);
  const response = await fetch("/", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
  const answer = await response.json().catch(() => ({ Code: "InvalidResponse", Message: `HTTP ${response.status}` }));
  if (!response.ok || answer.Code) throw new ApiError(answer.Code, answer.Message, answer.RequestId);
  return answer;
}

const regional = (action, params = {}) => call(action, { RegionId: session.region, ...params });

// The account's certificate orders (SSL Certificates Service), newest first; `null` with the
// reason when they cannot be read (a RAM user without yundun-cert, say), which the rest does
// not need.
async function orders() {
  try {
    const answer = await call("ListUserCertificateOrder", { OrderType: "CPACK", ShowSize: 100 }, CAS);
    return { list: answer.CertificateOrderList, total: answer.TotalCount };
  } catch (error) {
    return { list: null, why: error.message };
  }
}

// An element with attributes (`text` sets its text, `on*` its handlers) and children.
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

function say(message) {
  $("status").textContent = message;
  $("error").hidden = true;
}

function fail(error) {
  $("status").textContent = "";
  const box = $("error");
  box.textContent = error instanceof ApiError
    ? `${error.message}${error.requestId ? ` (RequestId ${error.requestId})` : ""}`
    : `The request failed: ${error.message}`;
  box.hidden = false;
}

// ---- What the region holds, and where each certificate is bound ------------------------

async function loadBalancers() {
  const all = [];
  for (let page = 1; ; page++) {
    const answer = await regional("DescribeLoadBalancers", { PageNumber: page, PageSize: 100 });
    all.push(...answer.LoadBalancers.LoadBalancer);
    if (all.length >= answer.TotalCount || answer.LoadBalancers.LoadBalancer.length === 0) return all;
  }
}

async function listeners() {
  const all = [];
  let token;
  do {
    const answer = await regional("DescribeLoadBalancerListeners", { MaxResults: 100, ...(token ? { NextToken: token } : {}) });
    all.push(...(answer.Listeners || []));
    token = answer.NextToken;
  } while (token);
  return all;
}

async function load() {
  const [servers, cas, lbs, ls, ordered] = await Promise.all([
    regional("DescribeServerCertificates"),
    regional("DescribeCACertificates"),
    loadBalancers(),
    listeners(),
    orders(),
  ]);
  const https = ls.filter((l) => l.ListenerProtocol === "https");
  const extensions = await Promise.all(https.map((l) =>
    regional("DescribeDomainExtensions", { LoadBalancerId: l.LoadBalancerId, ListenerPort: l.ListenerPort })
      .then((answer) => answer.DomainExtensions.DomainExtension)));
  https.forEach((listener, i) => { listener.extensions = extensions[i]; });
  const names = Object.fromEntries(lbs.map((lb) => [lb.LoadBalancerId, lb]));
  const bindings = {};
  const bind = (id, binding) => { if (id) (bindings[id] = bindings[id] || []).push(binding); };
  for (const listener of ls) {
    const lb = names[listener.LoadBalancerId] || {};
    const where = {
      loadBalancerId: listener.LoadBalancerId, loadBalancerName: lb.LoadBalancerName || "",
      port: listener.ListenerPort, protocol: listener.ListenerProtocol,
      running: listener.Status === "running" && lb.LoadBalancerStatus === "active",
    };
    const config = listener.HTTPSListenerConfig || {};
    bind(config.ServerCertificateId, { ...where, as: "certificate" });
    bind(config.CACertificateId, { ...where, as: "client CA" });
    for (const extension of listener.extensions || []) {
      bind(extension.ServerCertificateId, { ...where, as: `domain ${extension.Domain}` });
    }
  }
  const byExpiry = (a, b) => a.ExpireTimeStamp - b.ExpireTimeStamp;
  data = {
    servers: servers.ServerCertificates.ServerCertificate.sort(byExpiry),
    cas: cas.CACertificates.CACertificate.sort(byExpiry),
    loadBalancers: lbs, listeners: ls, bindings, orders: ordered,
  };
}

// ---- Pieces of pages -------------------------------------------------------------------

function expiry(timestamp) {
  const days = Math.floor((timestamp - Date.now()) / DAY_MS);
  const [kind, words] = days < 0 ? ["expired", `expired ${-days} day${days === -1 ? "" : "s"} ago`]
    : days < 7 ? ["urgent", `${days} day${days === 1 ? "" : "s"} left`]
    : days < 30 ? ["soon", `${days} days left`]
    : ["ok", `${days} days left`];
  return el("span", {},
    el("time", { datetime: new Date(timestamp).toISOString(), text: new Date(timestamp).toISOString().slice(0, 10) }),
    " ", el("span", { class: `badge ${kind}`, "data-urgency": kind, text: words }));
}

function bindingList(id) {
  const found = data.bindings[id] || [];
  if (found.length === 0) return el("span", { class: "muted", text: "not bound" });
  return el("ul", { class: "plain" }, found.map((b) => el("li", {
    text: `${b.loadBalancerName || b.loadBalancerId} ${b.protocol.toUpperCase()}:${b.port} ${b.as}` +
      ` (${b.running ? "running" : "stopped"})`,
  })));
}

function cell(label, ...content) {
  return el("td", { "data-label": label }, ...content);
}

function table(caption, headings, rows) {
  if (rows.length === 0) rows = [el("tr", {}, el("td", { colspan: headings.length, class: "muted", text: "None." }))];
  return el("table", {},
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows));
}

// A certificate as people know it: its name (else its common name); its ID if unknown.
function certificateName(id) {
  const found = data.servers.find((c) => c.ServerCertificateId === id);
  return found ? found.ServerCertificateName || found.CommonName : id;
}

function certificateOption(c) {
  const expires = new Date(c.ExpireTimeStamp).toISOString().slice(0, 10);
  return el("option", { value: c.ServerCertificateId, text: `${certificateName(c.ServerCertificateId)} · ${c.CommonName} · until ${expires}` });
}

// ---- Pages -----------------------------------------------------------------------------

function certificatesPage() {
  const soon = (days) => data.servers.concat(data.cas)
    .filter((c) => c.ExpireTimeStamp - Date.now() < days * DAY_MS).length;
  const servers = data.servers.map((c) => {
    const bound = (data.bindings[c.ServerCertificateId] || []).length > 0;
    return el("tr", { "data-certificate-id": c.ServerCertificateId },
      cell("Name", el("strong", { text: c.ServerCertificateName || "(no name)" }), el("br"),
        el("span", { class: "mono", text: c.ServerCertificateId })),
      cell("Names", el("div", { text: c.CommonName }),
        el("div", { class: "muted", text: (c.SubjectAlternativeNames?.SubjectAlternativeName || []).join(", ") })),
      cell("Expires", expiry(c.ExpireTimeStamp)),
      cell("Fingerprint (SHA-1)", el("span", { class: "mono", text: c.Fingerprint })),
      cell("Bound to", bindingList(c.ServerCertificateId)),
      cell("Actions", el("button", {
        type: "button", class: "danger", disabled: bound,
        title: bound ? "Bound to a listener: rotate it first" : null,
        "aria-label": `Delete ${c.ServerCertificateName || c.ServerCertificateId}`,
        text: "Delete", onclick: () => remove(c),
      })));
  });
  const cas = data.cas.map((c) => el("tr", { "data-certificate-id": c.CACertificateId },
    cell("Name", el("strong", { text: c.CACertificateName || "(no name)" }), el("br"),
      el("span", { class: "mono", text: c.CACertificateId })),
    cell("Common name", c.CommonName),
    cell("Expires", expiry(c.ExpireTimeStamp)),
    cell("Fingerprint (SHA-1)", el("span", { class: "mono", text: c.Fingerprint })),
    cell("Bound to", bindingList(c.CACertificateId))));
  return [
    el("h2", { text: `Certificates in ${session.region}` }),
    el("ul", { class: "summary", "aria-label": "Expiry" },
      el("li", { text: `${data.servers.length} server certificates, ${data.cas.length} CA certificates` }),
      el("li", { text: `${soon(7)} expire within 7 days` }),
      el("li", { text: `${soon(30)} within 30 days` })),
    table("Server certificates, soonest expiry first",
      ["Name", "Names", "Expires", "Fingerprint (SHA-1)", "Bound to", "Actions"], servers),
    el("h3", { text: "CA certificates" }),
    table("CA certificates (client authentication), soonest expiry first",
      ["Name", "Common name", "Expires", "Fingerprint (SHA-1)", "Bound to"], cas),
  ];
}

const ORDER_STATES = {
  CHECKING: ["soon", "validating the domain"], CHECKED_FAIL: ["expired", "failed"],
  ISSUED: ["ok", "issued"], WILLEXPIRED: ["soon", "expires soon"], EXPIRED: ["expired", "expired"],
  PAYED: ["muted", "cancelled"],
};

function ordersPage() {
  const heading = el("h2", { text: "Certificate orders (all regions)" });
  if (data.orders.list === null) {
    return [heading, el("p", { class: "muted", text: `The orders cannot be listed: ${data.orders.why}` })];
  }
  const list = data.orders.list;
  const pending = list.filter((o) => o.Status === "CHECKING").length;
  const renewals = list.filter((o) => o.RenewalTime).map((o) => o.RenewalTime).sort((a, b) => a - b);
  const rows = list.map((o) => {
    const [kind, words] = ORDER_STATES[o.Status] || ["muted", o.Status];
    return el("tr", { "data-order-id": o.OrderId },
      cell("Order", el("span", { class: "mono", text: String(o.OrderId) })),
      cell("Domain", o.Domain),
      cell("Status", el("span", { class: `badge ${kind}`, "data-status": o.Status, text: words })),
      cell("Certificate", o.CertificateId ? el("span", { class: "mono", text: String(o.CertificateId) })
        : el("span", { class: "muted", text: "—" })),
      cell("Expires", o.CertEndTime ? expiry(o.CertEndTime) : el("span", { class: "muted", text: "—" })),
      cell("Renewal", o.RenewalTime
        ? el("time", { datetime: new Date(o.RenewalTime).toISOString(), text: new Date(o.RenewalTime).toISOString().slice(0, 10) })
        : el("span", { class: "muted", text: "—" })));
  });
  return [
    heading,
    el("ul", { class: "summary", "aria-label": "Orders" },
      el("li", { text: `${data.orders.total} orders, ${pending} pending` }),
      el("li", { "data-next-renewal": renewals.length ? renewals[0] : "", text: renewals.length
        ? `next renewal ${new Date(renewals[0]).toISOString().slice(0, 10)}` : "no renewal scheduled" })),
    table("Certificate orders, newest first", ["Order", "Domain", "Status", "Certificate", "Expires", "Renewal"], rows),
  ];
}

function loadBalancersPage() {
  const options = data.servers.map(certificateOption);
  const sections = data.loadBalancers.map((lb) => {
    const own = data.listeners.filter((l) => l.LoadBalancerId === lb.LoadBalancerId)
      .sort((a, b) => a.ListenerPort - b.ListenerPort);
    const rows = own.map((l) => {
      const config = l.HTTPSListenerConfig || {};
      const label = `${l.ListenerProtocol.toUpperCase()}:${l.ListenerPort}`;
      const current = data.servers.find((c) => c.ServerCertificateId === config.ServerCertificateId);
      const selectId = `rotate-${lb.LoadBalancerId}-${l.ListenerPort}`;
      const rotate = l.ListenerProtocol !== "https" ? el("span", { class: "muted", text: "—" }) :
        el("form", { class: "rotate", onsubmit: (event) => { event.preventDefault(); rotateListener(lb, l, $(selectId).value); } },
          el("label", { for: selectId, class: "visually-hidden", text: `New certificate for ${label}` }),
          el("select", { id: selectId }, options.map((o) => o.cloneNode(true))),
          el("button", { type: "submit", text: "Rotate" }));
      if (config.ServerCertificateId) {
        const select = rotate.querySelector?.("select");
        if (select) select.value = config.ServerCertificateId;
      }
      return el("tr", { "data-listener": `${lb.LoadBalancerId}:${l.ListenerPort}` },
        cell("Listener", el("strong", { text: label })),
        cell("Status", l.Status),
        cell("Certificate", config.ServerCertificateId
          ? el("div", { class: "listener-certificate" }, el("strong", { text: certificateName(config.ServerCertificateId) }),
            el("div", { class: "mono", text: config.ServerCertificateId }),
            current ? expiry(current.ExpireTimeStamp) : null)
          : el("span", { class: "muted", text: "—" })),
        cell("Domain extensions", (l.extensions || []).length === 0 ? el("span", { class: "muted", text: "none" }) :
          el("ul", { class: "plain" }, l.extensions.map((d) => el("li", { text: `${d.Domain} → ${certificateName(d.ServerCertificateId)}` })))),
        cell("Rotate certificate", rotate));
    });
    return el("section", { class: "lb", "aria-label": `Load balancer ${lb.LoadBalancerName || lb.LoadBalancerId}` },
      el("h3", { text: `${lb.LoadBalancerName || "(no name)"} — ${lb.LoadBalancerId}` }),
      el("p", { class: "muted", text: `${lb.Address} · ${lb.LoadBalancerStatus}` }),
      rows.length ? table("Listeners", ["Listener", "Status", "Certificate", "Domain extensions", "Rotate certificate"], rows)
        : el("p", { class: "muted", text: "No listeners." }));
  });
  return [el("h2", { text: `Load balancers in ${session.region}` }),
    ...(sections.length ? sections : [el("p", { class: "muted", text: "No load balancers in this region." })])];
}

function uploadPage() {
  const pemField = (id, label, accept) => [
    el("label", { for: id, text: label }),
    el("textarea", { id, required: true, spellcheck: "false", placeholder: "-----BEGIN …-----" }),
    el("label", { class: "files" }, `…or read it from a file: `,
      el("input", { type: "file", accept, "aria-label": `${label} file`, onchange: async (event) => {
        const file = event.target.files[0];
        if (file) $(id).value = await file.text();
      } })),
  ];
  return [
    el("h2", { text: `Upload a server certificate to ${session.region}` }),
    el("form", { id: "upload-form", onsubmit: upload },
      el("label", { for: "upload-name", text: "Name (optional)" }),
      el("input", { id: "upload-name", maxlength: "80", spellcheck: "false" }),
      pemField("upload-certificate", "Certificate chain (PEM)", ".pem,.crt,.cer"),
      pemField("upload-key", "Private key (PEM, unencrypted)", ".pem,.key"),
      el("button", { type: "submit", text: "Upload" })),
  ];
}

// ---- Changes ---------------------------------------------------------------------------

async function upload(event) {
  event.preventDefault();
  try {
    const answer = await regional("UploadServerCertificate", {
      ServerCertificateName: $("upload-name").value.trim(),
      ServerCertificate: $("upload-certificate").value,
      PrivateKey: $("upload-key").value,
    });
    $("upload-key").value = "";
    location.hash = "#/certificates";
    await refresh(`Uploaded ${answer.ServerCertificateName || answer.ServerCertificateId} (${answer.ServerCertificateId}).`);
  } catch (error) { fail(error); }
}

async function rotateListener(lb, listener, certificateId) {
  try {
    await regional("SetLoadBalancerHTTPSListenerAttribute", {
      LoadBalancerId: lb.LoadBalancerId, ListenerPort: listener.ListenerPort, ServerCertificateId: certificateId,
    });
    await refresh(`${lb.LoadBalancerName || lb.LoadBalancerId} HTTPS:${listener.ListenerPort} now serves ${certificateName(certificateId)}.`);
  } catch (error) { fail(error); }
}

async function remove(certificate) {
  const name = certificate.ServerCertificateName || certificate.ServerCertificateId;
  if (!confirm(`Delete the certificate ${name}? Its private key is deleted with it.`)) return;
  try {
    await regional("DeleteServerCertificate", { ServerCertificateId: certificate.ServerCertificateId });
    await refresh(`Deleted ${name}.`);
  } catch (error) { fail(error); }
}

// ---- Navigation and session ------------------------------------------------------------

const PAGES = {
  "#/certificates": certificatesPage, "#/load-balancers": loadBalancersPage, "#/orders": ordersPage,
  "#/upload": uploadPage,
};

function draw() {
  const route = PAGES[location.hash] ? location.hash : "#/certificates";
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === route) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  $("view").replaceChildren(...PAGES[route]());
}

async function refresh(message) {
  say("Loading…");
  try {
    await load();
    draw();
    say(message || "");
  } catch (error) { fail(error); }
}

async function signIn(event) {
  event.preventDefault();
  session.id = $("access-key-id").value.trim();
  session.secret = $("access-key-secret").value;
  try {
    const regions = (await call("DescribeRegions", { AcceptLanguage: "en-US" })).Regions.Region;
    const select = $("region");
    select.replaceChildren(...regions.map((r) => el("option", { value: r.RegionId, text: `${r.LocalName} (${r.RegionId})` })));
    if (!regions.some((r) => r.RegionId === session.region)) session.region = regions[0].RegionId;
    select.value = session.region;
    $("access-key-secret").value = "";
    $("who").textContent = session.id;
    $("sign-in").hidden = true;
    for (const id of ["view", "nav", "session"]) $(id).hidden = false;
    if (!PAGES[location.hash]) location.hash = "#/certificates";
    await refresh();
    $("main").focus();
  } catch (error) {
    session.secret = "";
    fail(error);
  }
}

function signOut() {
  Object.assign(session, { id: "", secret: "" });
  data = null;
  $("view").replaceChildren();
  for (const id of ["view", "nav", "session"]) $(id).hidden = true;
  $("sign-in").hidden = false;
  say("Signed out.");
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("region").addEventListener("change", (event) => {
    session.region = event.target.value;
    localStorage.setItem("slbcert.region", session.region);
    refresh();
  });
  window.addEventListener("hashchange", () => { if (data) { draw(); $("main").focus(); } });
});
