// Viridian's web console: Hyper-V Manager in the browser. Every value is put in the page as text
// (never as HTML), so nothing a VM or a user named can run as script here.

const state = { csrf: null, user: null, view: null, refresh: null, jobs: new Map(), closers: [] };

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/// Replaces a node's children with `children`, arrays flattened (replaceChildren takes nodes only).
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined));
}

function show(message, isError = false) {
  const box = document.getElementById("message");
  box.textContent = message;
  box.className = isError ? "error" : "";
  if (!isError) setTimeout(() => { if (box.textContent === message) box.textContent = ""; }, 6000);
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (state.csrf && method !== "GET") headers["X-CSRF-Token"] = state.csrf;
  const response = await fetch(path, { method, headers, credentials: "same-origin",
                                       body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 && path !== "/web/login") { signedOut(); throw new Error("signed out"); }
  if (response.status === 204) return null;
  const text = await response.text();
  const value = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(value && value.error ? value.error.message : response.statusText);
  return value;
}

// MARK: Sign-in

function signedOut() {
  state.csrf = null;
  for (const close of state.closers.splice(0)) close();
  document.getElementById("app").hidden = true;
  document.getElementById("login").hidden = false;
}

function signedIn(session) {
  state.csrf = session.csrfToken;
  state.user = session.user;
  document.getElementById("user-name").textContent = session.user;
  document.getElementById("login").hidden = true;
  document.getElementById("app").hidden = false;
  followEvents();
  api("GET", "/v1/host").then((host) => { document.getElementById("host-name").textContent = host.hostName; }).catch(() => {});
  route();
}

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.getElementById("login-token").value.trim();
  const body = token ? { token } : { user: document.getElementById("login-user").value,
                                      password: document.getElementById("login-password").value };
  const error = document.getElementById("login-error");
  error.textContent = "";
  try {
    signedIn(await api("POST", "/web/login", body));
  } catch (failure) {
    error.textContent = failure.message;
  }
});

document.getElementById("logout").addEventListener("click", async () => {
  try { await api("POST", "/web/logout"); } finally { signedOut(); }
});

// MARK: The live feed: jobs and events

function followEvents() {
  let socket = null, stopped = false;
  const connect = () => {
    socket = new WebSocket(socketURL("/v1/events/socket"));
    socket.onmessage = (message) => received(JSON.parse(message.data));
    socket.onclose = () => {
      if (stopped) return;
      // Signed out, or the daemon restarted: check the session, then follow again.
      setTimeout(() => api("GET", "/web/session").then(() => { if (!stopped) connect(); }).catch(() => {}), 2000);
    };
  };
  connect();
  state.closers.push(() => { stopped = true; socket.close(); });
}

const finished = (job) => ["Completed", "Failed", "Cancelled"].includes(job.state);

/// Keeps the newer of two reports of a job: the stream's last word can arrive before the reply that
/// started the job (a quick Turn Off), and must not be put back to Running by it.
function remember(job) {
  const known = state.jobs.get(job.id);
  if (known && (finished(known) || (!finished(job) && known.percentComplete > job.percentComplete))) return;
  state.jobs.set(job.id, job);
}

function received(item) {
  if (item.job) {
    remember(item.job);
    drawTasks();
  }
  if (item.event || item.job) scheduleRefresh();
}

function scheduleRefresh() {
  if (!state.refresh || state.pending) return;
  state.pending = setTimeout(() => { state.pending = null; if (state.refresh) state.refresh(); }, 250);
}

function drawTasks() {
  const jobs = [...state.jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 20);
  state.jobs = new Map(jobs.map((job) => [job.id, job]));
  document.getElementById("task-list").replaceChildren(...jobs.map((job) =>
    el("li", { "data-job": job.id, "data-state": job.state },
       el("div", { text: job.description }),
       el("progress", { max: 100, value: job.percentComplete }),
       el("small", { text: `${job.state} ${job.percentComplete}%${job.statusMessage ? " — " + job.statusMessage : ""}${job.error ? " — " + job.error.message : ""}` }),
       job.state === "Running" || job.state === "Queued" ? el("button", { text: "Cancel", onclick: () => act(api("POST", `/v1/jobs/${job.id}/cancel`)) }) : null)));
}

/// Shows what `promise` (an API call) did; resolves to its result, or to undefined when it failed.
async function act(promise, done) {
  try {
    const result = await promise;
    if (result && result.job) { remember(result.job); drawTasks(); }
    if (done) show(done);
    scheduleRefresh();
    return result;
  } catch (failure) {
    show(failure.message, true);
  }
}

// MARK: Views

function route() {
  for (const close of state.closers.splice(1)) close();
  const parts = (location.hash || "#/vms").slice(2).split("/").map(decodeURIComponent);
  for (const link of document.querySelectorAll("header nav a")) link.classList.toggle("current", link.dataset.view === parts[0]);
  const view = document.getElementById("view");
  view.replaceChildren();
  state.refresh = null;
  const views = { vms: vmListView, vm: vmView, console: consoleView, screen: screenView, switches: switchesView,
                  jobs: jobsView, events: eventsView, host: hostView };
  (views[parts[0]] || vmListView)(view, ...parts.slice(1));
}
window.addEventListener("hashchange", () => { if (state.csrf) route(); });

function every(seconds, body) {
  const timer = setInterval(body, seconds * 1000);
  state.closers.push(() => clearInterval(timer));
}

const vmName = (name) => encodeURIComponent(name);

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.floor(seconds);
  return `${Math.floor(s / 86400) ? Math.floor(s / 86400) + "." : ""}${String(Math.floor(s / 3600) % 24).padStart(2, "0")}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/// Hyper-V Manager's actions on a VM, enabled by its state.
function vmActions(vm) {
  const running = vm.state === "Running", paused = vm.state === "Paused", off = vm.state === "Off", saved = vm.state === "Saved";
  const path = `/v1/vms/${vmName(vm.name)}`;
  const button = (action, text, enabled, body) => el("button", { "data-action": action, text, disabled: !enabled, onclick: body });
  return el("div", { class: "actions", "data-vm": vm.name },
    button("connect", "Connect", running || paused, () => { location.hash = `#/console/${vmName(vm.name)}`; }),
    vm.video ? button("screen", "Screen", running || paused, () => { location.hash = `#/screen/${vmName(vm.name)}`; }) : null,
    button("start", "Start", off || saved, () => act(api("POST", `${path}/start`))),
    button("turn-off", "Turn Off", running || paused, () => confirm(`Turn off ${vm.name}? Unsaved work in the guest is lost.`) && act(api("POST", `${path}/stop`, { turnOff: true }))),
    button("shut-down", "Shut Down", running, () => act(api("POST", `${path}/stop`, { turnOff: false }))),
    button("save", "Save", running || paused, () => act(api("POST", `${path}/save`))),
    button("pause", "Pause", running, () => act(api("POST", `${path}/pause`), `${vm.name} paused`)),
    button("resume", "Resume", paused, () => act(api("POST", `${path}/resume`), `${vm.name} resumed`)),
    button("reset", "Reset", running, () => confirm(`Reset ${vm.name}?`) && act(api("POST", `${path}/restart`), `${vm.name} reset`)),
    button("checkpoint", "Checkpoint", !vm.operation, () => act(api("POST", `${path}/checkpoints`, {}))),
    button("move", "Move…", running || off || saved, () => {
      const destination = prompt(`Move ${vm.name} to which peer host?`);
      if (destination) act(api("POST", `${path}/move`, { destination, includeStorage: false }));
    }),
    button("integration-disk", "Insert Integration Services Setup Disk", running || off,
           () => act(api("POST", `${path}/integration-disk`), "setup disk inserted")),
    button("settings", "Settings…", true, () => { location.hash = `#/vm/${vmName(vm.name)}`; }));
}

function vmListView(view) {
  const table = el("table", { id: "vm-list" },
    el("thead", {}, el("tr", {}, ["Name", "State", "CPU Usage", "Assigned Memory", "Uptime", "Status", "Heartbeat", "Integration Services"].map((h) => el("th", { text: h })))),
    el("tbody"));
  const actions = el("div", { id: "vm-actions" });
  view.append(el("h1", { text: "Virtual Machines" }), table, actions);
  let selected = null;
  let rows = [];
  const draw = () => {
    const body = table.tBodies[0];
    body.replaceChildren(...rows.map((vm) => el("tr", { "data-vm": vm.name, class: vm.name === selected ? "selected" : null,
                                                       onclick: () => { selected = vm.name; draw(); } },
      el("td", { class: "name", text: vm.name }),
      el("td", { class: `state state-${vm.state}`, text: vm.state }),
      el("td", { class: "cpu", text: vm.cpuPercent === null || vm.cpuPercent === undefined ? "" : `${Math.round(vm.cpuPercent)} %` }),
      el("td", { text: `${vm.memoryMiB} MB` }),
      el("td", { text: duration(vm.uptimeSeconds) }),
      el("td", { text: vm.operation || "" }),
      el("td", { class: "heartbeat", text: vm.heartbeat || "" }),
      el("td", { text: vm.integrationRelease || "" }))));
    const current = rows.find((vm) => vm.name === selected) || rows[0];
    actions.replaceChildren(...(current ? [el("h2", { text: current.name }), vmActions(current)] : [el("p", { text: "No VMs yet: viridian vm create NAME" })]));
  };
  const load = async () => {
    rows = await api("GET", "/web/vms");
    draw();
    // When the page first drew the list, on the page's clock (from navigation): the benchmark reads it.
    if (!window.viridianListDrawnAt) window.viridianListDrawnAt = performance.now();
  };
  state.refresh = load;
  every(10, load);
  load().catch((failure) => show(failure.message, true));
}

function field(label, input) { return [el("label", { text: label }), input]; }

async function vmView(view, name) {
  const path = `/v1/vms/${vmName(name)}`;
  const vm = await api("GET", path);
  const integration = await api("GET", `${path}/integration-services`).catch(() => null);
  const adapters = await api("GET", `${path}/nics`).catch(() => []);
  const switches = await api("GET", "/v1/switches").catch(() => []);
  const input = (id, value, type = "text") => el("input", { id, value: value ?? "", type });
  const select = (id, options, value) => el("select", { id }, options.map((option) => el("option", { value: option, selected: option === value, text: option })));
  const form = el("form", { class: "settings", id: "vm-settings" },
    field("Processors", input("set-processors", vm.processorCount, "number")),
    field("Memory (MB)", input("set-memory", vm.memoryMiB, "number")),
    field("Notes", input("set-notes", vm.notes)),
    field("Checkpoint type", select("set-checkpoint-type", ["Production", "ProductionOnly", "Standard", "Disabled"], vm.checkpointType)),
    field("Automatic stop action", select("set-stop-action", ["Save", "ShutDown", "TurnOff"], vm.automaticActions.stopAction)),
    field("Automatic start action", select("set-start-action", ["Nothing", "StartIfRunning", "Start"], vm.automaticActions.startAction)),
    el("span"), el("button", { type: "submit", text: "Apply" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = (id) => document.getElementById(id).value;
    const body = { checkpointType: value("set-checkpoint-type"), automaticStopAction: value("set-stop-action"),
                   automaticStartAction: value("set-start-action"), notes: value("set-notes") };
    if (Number(value("set-processors")) !== vm.processorCount) body.processorCount = Number(value("set-processors"));
    if (Number(value("set-memory")) !== vm.memoryMiB) body.memoryMiB = Number(value("set-memory"));
    act(api("PATCH", path, body), "settings applied");
  });
  const gen1 = vm.generation === 1;
  // A change to the VM's hardware draws the page again from the VM as it now is.
  const change = async (promise, done) => { if ((await act(promise, done)) !== undefined) route(); };
  // Hyper-V Manager's hardware list: every drive with its Remove, then the forms that add one.
  const removeDrive = (drive) => {
    const where = `controllerType=${drive.controllerType}&controllerNumber=${drive.controllerNumber}&location=${drive.location}`;
    const place = `${drive.controllerType} ${drive.controllerNumber}:${drive.location}`;
    if (!confirm(`Remove the ${drive.kind === "DVD" ? "DVD drive" : "hard drive"} at ${place} from ${vm.name}? The file is kept.`)) return;
    change(api("DELETE", `${path}/${drive.kind === "DVD" ? "dvd" : "disks"}?${where}`), `${place} removed`);
  };
  const disks = el("table", { id: "vm-disks" }, el("tr", {}, ["Controller", "Kind", "Path", ""].map((h) => el("th", { text: h }))),
    vm.drives.map((drive) => el("tr", { "data-location": `${drive.controllerType} ${drive.controllerNumber}:${drive.location}` },
                                  el("td", { text: `${drive.controllerType} ${drive.controllerNumber}:${drive.location}` }),
                                  el("td", { text: drive.kind }), el("td", { text: drive.path || "(empty)" }),
                                  el("td", {}, el("button", { type: "button", "data-action": "remove-drive", text: "Remove", onclick: () => removeDrive(drive) })))));
  const dvd = el("form", { class: "actions" }, el("input", { id: "dvd-path", placeholder: "ISO path on the host" }),
    el("button", { type: "submit", text: "Insert DVD" }),
    el("button", { type: "button", text: "Eject", onclick: () => act(api("PUT", `${path}/dvd`, {}), "ejected") }));
  dvd.addEventListener("submit", (event) => { event.preventDefault(); act(api("PUT", `${path}/dvd`, { path: document.getElementById("dvd-path").value }), "inserted"); });
  const newDisk = el("form", { class: "actions", id: "disk-new" },
    el("input", { id: "disk-new-path", placeholder: "disk file on the host (.vhdx, .vhd, .qcow2)", size: 48 }),
    el("input", { id: "disk-new-size", type: "number", min: 1, placeholder: "new: size in GB", title: "Leave empty to attach an existing file" }),
    el("select", { id: "disk-new-controller" }, ["Automatic", "SCSI", ...(gen1 ? ["IDE"] : [])].map((option) => el("option", { value: option, text: option }))),
    el("button", { type: "submit", text: "Add Hard Drive" }));
  newDisk.addEventListener("submit", async (event) => {
    event.preventDefault();
    const diskPath = document.getElementById("disk-new-path").value.trim();
    const gigabytes = document.getElementById("disk-new-size").value;
    const controller = document.getElementById("disk-new-controller").value;
    if (gigabytes && !(await act(api("POST", "/v1/vhds", { path: diskPath, sizeBytes: Number(gigabytes) * 1073741824 })))) return;
    // A disk made here and then refused says so: the file stays, for another try or to delete.
    change(api("POST", `${path}/disks`, controller === "Automatic" ? { path: diskPath } : { path: diskPath, controllerType: controller })
      .catch((failure) => { throw new Error(gigabytes ? `${diskPath} was made but not attached: ${failure.message}` : failure.message); }),
           `${diskPath} attached`);
  });
  const shown = new Set(["macAddressSpoofing", "dhcpGuard", "routerGuard", "vlan", "maximumBandwidth", "portMirroring", "mtu"]);
  const portFeatures = (settings) => Object.entries(settings).filter(([key, value]) => !shown.has(key) && value !== false && value !== null)
    .map(([key, value]) => value === true ? key : `${key}=${typeof value === "object" ? JSON.stringify(value) : value}`).join(", ");
  // Hyper-V's port features an administrator changes most: each change is a PATCH of that adapter.
  const patch = (nic, body, done) => act(api("PATCH", `${path}/nics/${nic.index}`, body), `adapter ${nic.index}: ${done}`);
  const toggle = (nic, feature) => el("input", { type: "checkbox", "data-nic": nic.index, "data-feature": feature,
    checked: nic.adapter.settings[feature], onchange: (event) => patch(nic, { [feature]: event.target.checked }, `${feature} ${event.target.checked ? "on" : "off"}`) });
  const number = (nic, feature, attributes, shownValue, body) => {
    const box = el("input", { type: "number", "data-nic": nic.index, "data-feature": feature, value: shownValue ?? "", ...attributes });
    box.onchange = () => patch(nic, body(box.value), `${feature} set`);
    return box;
  };
  const vlan = (nic) => number(nic, "vlan", { min: 1, max: 4094, placeholder: "untagged" },
    nic.adapter.settings.vlan.mode === "Access" ? nic.adapter.settings.vlan.accessID : "",
    (value) => ({ vlan: value ? { mode: "Access", accessID: Number(value), allowedIDs: [] } : { mode: "Untagged", allowedIDs: [] } }));
  // Hyper-V's maximum bandwidth is in Mbps on the page; the API takes bits per second, 0 clears it.
  const bandwidth = (nic) => number(nic, "maximumBandwidth", { min: 0, placeholder: "unlimited" },
    nic.adapter.settings.maximumBandwidth ? nic.adapter.settings.maximumBandwidth / 1e6 : "",
    (value) => ({ maximumBandwidth: Math.round(Number(value || 0) * 1e6) }));
  const mtu = (nic) => number(nic, "mtu", { min: 576, max: 9000, placeholder: "switch's" }, nic.adapter.settings.mtu,
    (value) => ({ mtu: Number(value || 0) }));
  const mirroring = (nic) => el("select", { "data-nic": nic.index, "data-feature": "portMirroring",
    onchange: (event) => patch(nic, { portMirroring: event.target.value }, `port mirroring ${event.target.value}`) },
    ["None", "Source", "Destination"].map((mode) => el("option", { value: mode, text: mode, selected: nic.adapter.settings.portMirroring === mode })));
  const removeAdapter = (nic) => confirm(`Remove network adapter ${nic.index} (${nic.adapter.macAddress}) from ${vm.name}?`) &&
    change(api("DELETE", `${path}/nics/${nic.index}`), `adapter ${nic.index} removed`);
  const nics = el("table", { id: "vm-adapters" },
    el("tr", {}, ["Adapter", "Kind", "Switch", "MAC", "MAC spoofing", "DHCP guard", "Router guard", "VLAN (access)", "Bandwidth (Mbps)",
                  "Port mirroring", "MTU", "Other port features", ""].map((h) => el("th", { text: h }))),
    (adapters || []).map((nic) => el("tr", { "data-nic": nic.index }, el("td", { text: nic.index }), el("td", { text: nic.adapter.kind }),
                                       el("td", { text: nic.adapter.switchName }), el("td", { text: nic.adapter.macAddress }),
                                       el("td", {}, toggle(nic, "macAddressSpoofing")), el("td", {}, toggle(nic, "dhcpGuard")),
                                       el("td", {}, toggle(nic, "routerGuard")), el("td", {}, vlan(nic)), el("td", {}, bandwidth(nic)),
                                       el("td", {}, mirroring(nic)), el("td", {}, mtu(nic)),
                                       el("td", { text: portFeatures(nic.adapter.settings) }),
                                       el("td", {}, el("button", { type: "button", "data-action": "remove-adapter", text: "Remove", onclick: () => removeAdapter(nic) })))));
  const switchNames = (switches || []).map((item) => item.name);
  const newAdapter = el("form", { class: "actions", id: "nic-new" },
    el("select", { id: "nic-new-switch" }, switchNames.map((option) => el("option", { value: option, text: option }))),
    el("select", { id: "nic-new-kind" }, ["Synthetic", ...(gen1 ? ["Legacy"] : [])].map((option) => el("option", { value: option, text: option }))),
    el("button", { type: "submit", text: "Add Network Adapter", disabled: switchNames.length === 0 }));
  newAdapter.addEventListener("submit", (event) => {
    event.preventDefault();
    change(api("POST", `${path}/nics`, { switchName: document.getElementById("nic-new-switch").value,
                                         kind: document.getElementById("nic-new-kind").value }), "adapter added");
  });
  const services = el("table", { id: "vm-integration" }, el("tr", {}, ["Service", "Enabled", "Status"].map((h) => el("th", { text: h }))),
    (integration || []).map((service) => el("tr", {},
      el("td", { text: service.displayName }),
      el("td", {}, el("input", { type: "checkbox", checked: service.enabled, onchange: (event) =>
        act(api("PUT", `${path}/integration-services/${service.name}`, { enabled: event.target.checked }), "integration service changed") })),
      el("td", { text: service.primaryStatus ?? "" }))));
  view.append(el("h1", { text: `${vm.name} — ${vm.state}` }), vmActions(vm), el("h2", { text: "Settings" }), form,
              el("h2", { text: "Disks and DVD" }), disks, newDisk, dvd, el("h2", { text: "Network adapters" }), el("div", { class: "scroll" }, nics), newAdapter,
              el("h2", { text: "Integration services" }), services, el("h2", { text: "Performance (last hour)" }), graphs(`${path}/metrics`));
}

/// Line graphs of CPU, memory, disk and network from a metrics endpoint (10 s points).
function graphs(source) {
  const box = el("div", { class: "graphs" });
  const kinds = [["CPU %", (p) => p.cpuPercent], ["Memory MB", (p) => p.memoryBytes / 1048576],
                 ["Disk KB/s (read + write)", (p) => (p.diskReadBytesPerSecond + p.diskWriteBytesPerSecond) / 1024],
                 ["Network KB/s (in + out)", (p) => (p.networkReceiveBytesPerSecond + p.networkTransmitBytesPerSecond) / 1024]];
  const canvases = kinds.map(([title]) => { const canvas = el("canvas", { width: 480, height: 140 }); box.append(el("div", { class: "graph" }, el("div", { text: title }), canvas)); return canvas; });
  const draw = async () => {
    const points = await api("GET", source);
    kinds.forEach(([title, value], index) => {
      const canvas = canvases[index], context = canvas.getContext("2d");
      context.clearRect(0, 0, canvas.width, canvas.height);
      const values = points.map(value);
      const top = Math.max(1, ...values);
      context.fillStyle = "#667"; context.fillText(`max ${top.toFixed(1)}`, 4, 12);
      context.strokeStyle = "#2e7d32"; context.beginPath();
      values.forEach((v, i) => { const x = (i / Math.max(1, values.length - 1)) * canvas.width, y = canvas.height - (v / top) * (canvas.height - 16); i ? context.lineTo(x, y) : context.moveTo(x, y); });
      context.stroke();
    });
  };
  draw().catch(() => {});
  every(10, () => draw().catch(() => {}));
  return box;
}

function socketURL(path) { return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`; }

function consoleView(view, name) {
  const status = el("p", { id: "console-status", text: "connecting…" });
  const screen = el("div", { id: "terminal" });
  view.append(el("h1", { text: `${name} — serial console` }), status, screen);
  const terminal = new window.Terminal({ cols: 100, rows: 30 });
  terminal.open(screen);
  const socket = new WebSocket(socketURL(`/v1/vms/${vmName(name)}/console`));
  socket.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  socket.onopen = () => { status.textContent = "connected"; terminal.focus(); };
  socket.onmessage = (message) => {
    const text = typeof message.data === "string" ? message.data : decoder.decode(new Uint8Array(message.data), { stream: true });
    terminal.write(text);
    window.viridianConsoleText = (window.viridianConsoleText || "") .concat(text).slice(-65536);
  };
  socket.onclose = (closed) => { status.textContent = `closed${closed.reason ? ": " + closed.reason : ""}`; };
  terminal.on("data", (data) => { if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data)); });
  state.closers.push(() => { socket.close(); terminal.destroy(); });
}

async function screenView(view, name) {
  const status = el("p", { id: "screen-status", text: "connecting…" });
  const screen = el("div", { id: "screen" });
  view.append(el("h1", { text: `${name} — screen` }), status, screen);
  const { default: RFB } = await import("/novnc/core/rfb.js");
  const rfb = new RFB(screen, socketURL(`/v1/vms/${vmName(name)}/vnc`));
  rfb.scaleViewport = true;
  rfb.addEventListener("connect", () => { status.textContent = "connected"; });
  rfb.addEventListener("disconnect", (event) => { status.textContent = event.detail.clean ? "disconnected" : "connection lost"; });
  state.closers.push(() => rfb.disconnect());
}

async function switchesView(view) {
  const table = el("table", { id: "switch-list" });
  const name = el("input", { id: "switch-name", placeholder: "Name", required: true });
  const type = el("select", { id: "switch-type" }, ["Private", "Internal", "External"].map((t) => el("option", { value: t, text: t })));
  const adapter = el("input", { id: "switch-adapter", placeholder: "Host adapter (External)" });
  const form = el("form", { class: "actions", id: "switch-new" }, name, type, adapter, el("button", { type: "submit", text: "Create Virtual Switch" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), type: type.value };
    if (adapter.value.trim()) body.adapter = adapter.value.trim();
    act(api("POST", "/v1/switches", body), `switch ${body.name} created`).then(load);
  });
  const load = async () => {
    const switches = await api("GET", "/v1/switches");
    fill(table, el("tr", {}, ["Name", "Type", "Adapter", "Host address", "Connected adapters", "Status", "Notes", ""].map((h) => el("th", { text: h }))),
      switches.map((s) => el("tr", { "data-switch": s.name }, [s.name, s.type, s.adapter ?? "", s.hostAddress ?? "", s.connectedAdapters, s.status, s.notes].map((v) => el("td", { text: v })),
        el("td", {}, el("button", { text: "Remove", "data-action": "remove-switch", onclick: () =>
          confirm(`Remove switch ${s.name}?`) && act(api("DELETE", `/v1/switches/${encodeURIComponent(s.name)}`), `switch ${s.name} removed`).then(load) })))));
  };
  view.append(el("h1", { text: "Virtual Switches" }), form, table);
  state.refresh = load;
  await load();
}

async function jobsView(view) {
  const stateFilter = el("select", { id: "job-state" }, ["", "Queued", "Running", "Completed", "Failed", "Cancelled"].map((s) => el("option", { value: s, text: s || "all states" })));
  const vmFilter = el("input", { id: "job-vm", placeholder: "VM name" });
  const table = el("table", { id: "job-list" });
  view.append(el("h1", { text: "Jobs" }), el("div", { class: "filters" }, stateFilter, vmFilter), table);
  const load = async () => {
    const vm = vmFilter.value.trim().toLowerCase();
    const jobs = (await api("GET", "/v1/jobs")).filter((job) => (!stateFilter.value || job.state === stateFilter.value)
                                                              && (!vm || (job.vm || "").toLowerCase() === vm));
    fill(table, el("tr", {}, ["Started", "VM", "Job", "State", "Progress", "Message"].map((h) => el("th", { text: h }))),
      jobs.map((job) => el("tr", {}, [new Date(job.createdAt).toLocaleString(), job.vm ?? "", job.description, job.state,
                                       `${job.percentComplete}%`, job.error ? job.error.message : (job.statusMessage ?? "")].map((v) => el("td", { text: v })))));
  };
  stateFilter.onchange = load; vmFilter.onchange = load;
  state.refresh = load;
  await load();
}

async function eventsView(view) {
  const level = el("select", { id: "event-level" }, ["", "information", "warning", "error"].map((l) => el("option", { value: l, text: l || "all levels" })));
  const vm = el("input", { id: "event-vm", placeholder: "VM name" });
  const table = el("table", { id: "event-list" });
  const load = async () => {
    const query = new URLSearchParams({ limit: "300" });
    if (level.value) query.set("level", level.value);
    if (vm.value.trim()) query.set("vm", vm.value.trim());
    const events = await api("GET", `/v1/events?${query}`);
    fill(table, el("tr", {}, ["Time", "Level", "Source", "VM", "User", "Message"].map((h) => el("th", { text: h }))),
      events.reverse().map((e) => el("tr", {}, [new Date(e.time).toLocaleString(), e.level, e.source, e.vm ?? "", e.user ?? "", e.message].map((v) => el("td", { text: v })))));
  };
  level.onchange = load; vm.onchange = load;
  view.append(el("h1", { text: "Events" }), el("div", { class: "filters" }, level, vm), table);
  state.refresh = load;
  await load();
}

async function hostView(view) {
  const host = await api("GET", "/v1/host");
  const facts = [["Host", host.hostName], ["Viridian", host.version], ["QEMU", host.qemuVersion], ["Accelerator", `${host.accelerator}: ${host.acceleratorReason}`],
                 ["Processors", host.logicalProcessors], ["Memory", `${host.memoryMiB} MB (${host.availableMemoryMiB ?? "?"} MB available for VMs)`],
                 ["VMs", `${host.virtualMachines} (${host.runningVirtualMachines} running)`], ["Migration listener", host.migrationListener ?? "off"]];
  const recent = await api("GET", "/v1/events?limit=15");
  view.append(el("h1", { text: "Host" }), el("table", { id: "host-facts" }, facts.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v })))),
              el("h2", { text: "Performance (last hour)" }), graphs("/v1/host/metrics"),
              el("h2", { text: "Recent activity" }), el("ul", { id: "recent-activity" }, recent.reverse().map((e) => el("li", { text: `${new Date(e.time).toLocaleTimeString()} ${e.vm ? e.vm + ": " : ""}${e.message}${e.user ? " (" + e.user + ")" : ""}` }))));
}

// A session that survives a reload goes straight to the console.
api("GET", "/web/session").then(signedIn).catch(() => signedOut());
