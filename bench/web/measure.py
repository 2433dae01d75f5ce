#!/usr/bin/python3
"""The web console with a large inventory, on a real viridiand (its own state directory):

- /metrics with VMS VMs (default 1,000): p50 and p99 over REQUESTS scrapes (target p99 < 100 ms),
  next to GET /v1/host through the same HTTPS listener and connection (the listener's own cost);
- the VM list in headless chromium: from navigation to the drawn list of VMS rows, read from the
  page's performance clock (performance.now() when the rows are in the table; target < 1 s), RUNS times.

The VMs are Off and have no disks (made in seconds); the collector samples all of them. Needs the
packages of scripts/install-deps.sh and a build (VIRIDIAND=path, default .build/debug/viridiand).
Run as root: bench/web/measure.py  (VMS=1000 REQUESTS=300 RUNS=5)
"""
import http.client, json, os, shutil, socket, ssl, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
daemon_binary = os.environ.get("VIRIDIAND", f"{root}/.build/debug/viridiand")
vm_count = int(os.environ.get("VMS", "1000"))
requests = int(os.environ.get("REQUESTS", "300"))
runs = int(os.environ.get("RUNS", "5"))
state = tempfile.mkdtemp(prefix="webbench-", dir="/var/tmp")
sock_path = f"{state}/viridiand.sock"
probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()


class UnixHTTP(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sock_path)


def local(method, path, body=None):
    connection = UnixHTTP("localhost")
    connection.request(method, path, body=None if body is None else json.dumps(body), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
    return json.loads(data) if data else None


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


log = open(f"{state}/viridiand.log", "w")
daemon = subprocess.Popen([daemon_binary, "--state-dir", state, "--socket", sock_path, "--web-listen", f"127.0.0.1:{port}",
                           "--accelerator", "tcg"], stdout=log, stderr=log)
try:
    for _ in range(300):
        try:
            local("GET", "/v1/host"); break
        except OSError:
            time.sleep(0.1)
    started = time.time()
    existing = {vm["name"] for vm in local("GET", "/v1/vms")}
    for index in range(vm_count):
        if f"vm{index:04d}" not in existing:
            local("POST", "/v1/vms", {"name": f"vm{index:04d}", "generation": 2, "memoryMiB": 64, "network": "none", "video": False})
    print(f"{vm_count} VMs made in {time.time() - started:.1f} s", flush=True)
    token = local("POST", "/v1/host/tokens", {"name": "bench"})["token"]

    insecure = ssl.create_default_context(); insecure.check_hostname = False; insecure.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=insecure)

    def timed(path):
        start = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse(); body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
        return elapsed, body

    # /metrics renders the collector's latest sample (every 10 s): wait for one that has the VMs.
    deadline = time.time() + 60
    while True:
        _, body = timed("/metrics")
        assigned = sum(1 for line in body.decode().splitlines() if line.startswith("viridian_vm_memory_assigned_bytes{"))
        if assigned == vm_count:
            break
        if time.time() > deadline:
            raise RuntimeError(f"no metrics sample with the {vm_count} VMs within 60 s (has {assigned})")
        time.sleep(0.5)  # polling for the collector's next sample, bounded by the deadline above
    series = sum(1 for line in body.decode().splitlines() if line.startswith("viridian_vm_"))
    for _ in range(20):
        timed("/metrics"); timed("/v1/host")
    metrics, baseline, lists = [], [], []
    for _ in range(requests):
        metrics.append(timed("/metrics")[0]); baseline.append(timed("/v1/host")[0]); lists.append(timed("/web/vms")[0])
    ms = lambda value: f"{value * 1000:.1f} ms"
    print(f"/metrics with {vm_count} VMs ({series} VM series, {len(body) >> 10} KiB): p50 {ms(statistics.median(metrics))}, "
          f"p99 {ms(percentile(metrics, 0.99))} (target p99 < 100 ms); GET /v1/host on the same connection: "
          f"p50 {ms(statistics.median(baseline))}, p99 {ms(percentile(baseline, 0.99))}; "
          f"ratio of medians {statistics.median(metrics) / statistics.median(baseline):.1f}", flush=True)
    print(f"/web/vms (the console's list) with {vm_count} VMs: p50 {ms(statistics.median(lists))}, p99 {ms(percentile(lists, 0.99))}", flush=True)

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors", "--window-size=1400,1000"]:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        url = f"https://127.0.0.1:{port}"
        browser.get(url + "/")
        browser.execute_script("""return fetch('/web/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                  body: JSON.stringify({token: arguments[0]})}).then(r => r.status)""", token)
        drawn = []
        for run in range(runs + 1):
            browser.get("about:blank")
            browser.get(url + "/#/vms")
            WebDriverWait(browser, 60).until(lambda b: b.execute_script("return window.viridianListDrawnAt || null"),
                                             f"the list of {vm_count} VMs was not drawn")
            rows = browser.execute_script("return document.querySelectorAll('#vm-list tbody tr').length")
            if rows != vm_count:
                raise RuntimeError(f"the list shows {rows} rows, not {vm_count}")
            if run:  # the first load warms the daemon's and the browser's caches
                drawn.append(browser.execute_script("return window.viridianListDrawnAt"))
                print(f"  run {run}: drawn at {drawn[-1]:.0f} ms", flush=True)
        print(f"VM list of {vm_count} VMs drawn after navigation: median {statistics.median(drawn):.0f} ms of {runs} "
              f"(min {min(drawn):.0f}, max {max(drawn):.0f}; target < 1000 ms)", flush=True)
    finally:
        browser.quit()
finally:
    daemon.terminate(); daemon.wait()
    shutil.rmtree(state, ignore_errors=True)
