#!/usr/bin/python3
"""The web console in a real browser (Debian's chromium, chromium-driver, python3-selenium, headless).

Run by WebConsoleTests (swift test) against a real viridiand with a running test guest; also by
hand: console_test.py --url https://127.0.0.1:8443 --user U --password P --vm NAME --off-vm NAME2
--token TOKEN --disk-dir DIR --artifacts DIR. Every wait has a reason in its failure message; screenshots of
every page go to --artifacts. Exits 0 when every check passed.
"""
import argparse
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.parser import text_string_to_metric_families
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--user", required=True)
parser.add_argument("--password", required=True)
parser.add_argument("--vm", required=True, help="a running VM with a video adapter and a shell on its serial console")
parser.add_argument("--off-vm", required=True, help="an Off VM to start and stop from the page")
parser.add_argument("--token", required=True)
parser.add_argument("--disk-dir", required=True, help="a folder the daemon may make a new disk in")
parser.add_argument("--artifacts", required=True)
parser.add_argument("--timeout", type=float, default=90)
arguments = parser.parse_args()
os.makedirs(arguments.artifacts, exist_ok=True)
insecure = ssl.create_default_context()
insecure.check_hostname = False
insecure.verify_mode = ssl.CERT_NONE


def step(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def request(method, path, body=None, headers=None):
    """(status, body) of a request to the web listener, without the browser."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json"} if data else {}
    all_headers.update(headers or {})
    try:
        with urllib.request.urlopen(urllib.request.Request(arguments.url + path, data=data, method=method, headers=all_headers),
                                    context=insecure, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# MARK: Without a browser: tokens, metrics, CSRF

step("/metrics without a token is refused")
status, _ = request("GET", "/metrics")
check(status == 401, f"/metrics without a token answered {status}, not 401")
status, _ = request("GET", "/metrics", headers={"Authorization": "Bearer vrd_not-a-token"})
check(status == 401, f"/metrics with a made-up token answered {status}, not 401")

step("/metrics with the token parses as Prometheus text")
status, text = request("GET", "/metrics", headers={"Authorization": f"Bearer {arguments.token}"})
check(status == 200, f"/metrics with the token answered {status}")
families = {family.name: family for family in text_string_to_metric_families(text)}
with open(os.path.join(arguments.artifacts, "metrics.txt"), "w") as file:
    file.write(text)
cpu = families.get("viridian_vm_cpu_seconds")
check(cpu is not None, f"no viridian_vm_cpu_seconds_total family in: {sorted(families)}")
running = [sample for sample in cpu.samples if sample.labels.get("vm") == arguments.vm]
check(running and running[0].value > 0, f"no CPU seconds for VM {arguments.vm}: {cpu.samples}")
states = {sample.labels["state"]: sample.value for sample in families["viridian_host_vms"].samples}
check(states.get("Running", 0) >= 1, f"viridian_host_vms has no Running VM: {states}")
check("viridian_vm_block_read_bytes" in families, "no block read counter")

step("a wrong password is refused")
status, body = request("POST", "/web/login", {"user": arguments.user, "password": arguments.password + "-wrong"})
check(status == 401, f"a wrong password answered {status}: {body}")

step("a change without the CSRF token is refused")
status, body = request("POST", "/web/login", {"user": arguments.user, "password": arguments.password})
check(status == 200, f"signing in answered {status}: {body}")
# urllib keeps no cookies: send the session cookie by hand, without the CSRF header.
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=insecure), urllib.request.HTTPCookieProcessor())
login = opener.open(urllib.request.Request(arguments.url + "/web/login", method="POST", headers={"Content-Type": "application/json"},
                                           data=json.dumps({"user": arguments.user, "password": arguments.password}).encode()))
csrf = json.loads(login.read())["csrfToken"]
try:
    opener.open(urllib.request.Request(arguments.url + f"/v1/vms/{arguments.off_vm}/start", method="POST"))
    raise AssertionError("a start without the CSRF token was accepted")
except urllib.error.HTTPError as error:
    check(error.code == 403, f"a start without the CSRF token answered {error.code}, not 403")
with opener.open(urllib.request.Request(arguments.url + "/web/session")) as response:
    check(json.loads(response.read())["csrfToken"] == csrf, "the session's CSRF token changed")

# MARK: In the browser

options = webdriver.ChromeOptions()
for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
             "--window-size=1400,1000", "--disable-gpu"]:
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(browser, arguments.timeout)


def until(condition, message):
    """Waits for `condition`; `message` (or what it returns, when it is a function, read at the failure) says why it failed."""
    try:
        return wait.until(condition)
    except Exception as error:
        shoot("failure")
        if callable(message):
            message = message()
        raise AssertionError(f"{message} (waited {arguments.timeout:.0f} s): {type(error).__name__}") from None


def shoot(name):
    browser.save_screenshot(os.path.join(arguments.artifacts, f"{name}.png"))


def centred(element):
    """`element`, scrolled to the middle of the window, clear of the message line at the page's foot."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    return element


def press(element):
    centred(element).click()


def page_message():
    """What the page's message box says (the API's refusal when an action failed)."""
    boxes = browser.find_elements(By.ID, "message")
    return boxes[0].text if boxes else ""


def api(path):
    status, body = request("GET", path, headers={"Authorization": f"Bearer {arguments.token}"})
    check(status == 200, f"GET {path} answered {status}: {body}")
    return json.loads(body)


def state_of(name):
    cells = browser.find_elements(By.CSS_SELECTOR, f'#vm-list tr[data-vm="{name}"] td.state')
    return cells[0].text if cells else None


try:
    step("the login page")
    browser.get(arguments.url + "/")
    until(conditions.visibility_of_element_located((By.ID, "login-user")), "the login form did not appear")
    shoot("login")
    browser.find_element(By.ID, "login-user").send_keys(arguments.user)
    browser.find_element(By.ID, "login-password").send_keys(arguments.password + "-wrong")
    browser.find_element(By.ID, "login-submit").click()
    until(lambda b: b.find_element(By.ID, "login-error").text.strip() != "", "a wrong password showed no error")
    shoot("login-refused")
    password = browser.find_element(By.ID, "login-password")
    password.clear()
    password.send_keys(arguments.password)
    browser.find_element(By.ID, "login-submit").click()

    step("the VM list shows the running guest")
    until(lambda b: state_of(arguments.vm) == "Running", f"the VM list did not show {arguments.vm} Running")
    shoot("vm-list")

    step("start and stop a VM from the page, without a reload")
    browser.execute_script("window.viridianNoReload = true")
    browser.find_element(By.CSS_SELECTOR, f'#vm-list tr[data-vm="{arguments.off_vm}"]').click()
    until(conditions.element_to_be_clickable((By.CSS_SELECTOR, f'#vm-actions [data-vm="{arguments.off_vm}"] button[data-action="start"]')),
          f"no Start button for {arguments.off_vm}").click()
    until(lambda b: state_of(arguments.off_vm) == "Running", f"{arguments.off_vm} did not turn Running in the list")
    shoot("vm-started")
    browser.execute_script("window.confirm = () => true")
    until(conditions.element_to_be_clickable((By.CSS_SELECTOR, f'#vm-actions [data-vm="{arguments.off_vm}"] button[data-action="turn-off"]')),
          f"no Turn Off button for {arguments.off_vm}").click()
    until(lambda b: state_of(arguments.off_vm) == "Off", f"{arguments.off_vm} did not turn Off in the list")
    check(browser.execute_script("return window.viridianNoReload === true"), "the page reloaded")
    until(lambda b: b.find_elements(By.CSS_SELECTOR, "#task-list li") and not b.find_elements(
              By.CSS_SELECTOR, '#task-list li[data-state="Running"], #task-list li[data-state="Queued"]'),
          "a finished start or turn-off still shows as running under Recent tasks")
    drawn = browser.execute_script("return window.viridianListDrawnAt")
    step(f"the list was drawn {drawn:.0f} ms after the page's navigation")

    step("the VM's settings page")
    browser.get(arguments.url + f"/#/vm/{arguments.vm}")
    until(conditions.visibility_of_element_located((By.ID, "vm-settings")), "the settings page did not appear")
    shoot("vm-settings")

    step("a port feature changed on the settings page reaches the adapter")
    guard = until(conditions.element_to_be_clickable((By.CSS_SELECTOR, '#vm-adapters input[data-nic="0"][data-feature="dhcpGuard"]')),
                  "no DHCP guard box for adapter 0")
    check(not guard.is_selected(), "DHCP guard was already on")
    guard.click()

    def dhcp_guard_on(_):
        status, body = request("GET", f"/v1/vms/{arguments.vm}/nics", headers={"Authorization": f"Bearer {arguments.token}"})
        return status == 200 and json.loads(body)[0]["adapter"]["settings"]["dhcpGuard"] is True
    until(dhcp_guard_on, "the adapter's DHCP guard did not turn on through the page")

    step("a new hard drive made and attached on the Off VM's settings page, then removed")
    browser.get(arguments.url + f"/#/vm/{arguments.off_vm}")
    new_disk = os.path.join(arguments.disk_dir, "web-added.vhdx")
    path_box = until(conditions.visibility_of_element_located((By.ID, "disk-new-path")), "the Add Hard Drive form did not appear")
    drives_before = api(f"/v1/vms/{arguments.off_vm}")["drives"]
    path_box.send_keys(new_disk + ".missing")
    press(browser.find_element(By.CSS_SELECTOR, "#disk-new button[type=submit]"))
    until(lambda b: "no file at" in page_message() and b.find_element(By.ID, "message").get_attribute("class") == "error",
          lambda: f"attaching a missing file showed no error; it said: {page_message()!r}")
    check(api(f"/v1/vms/{arguments.off_vm}")["drives"] == drives_before, "a refused attach changed the VM's drives")
    path_box.clear()
    path_box.send_keys(new_disk)
    browser.find_element(By.ID, "disk-new-size").send_keys("1")
    press(browser.find_element(By.CSS_SELECTOR, "#disk-new button[type=submit]"))
    attached = lambda: [drive for drive in api(f"/v1/vms/{arguments.off_vm}")["drives"] if drive.get("path") == new_disk]
    until(lambda _: attached(), lambda: f"the new disk was not attached through the page; it said: {page_message()!r}")
    check(api(f"/v1/vhds?path={urllib.parse.quote(new_disk)}")["sizeBytes"] == 1 << 30, "the new disk is not 1 GiB")
    place = f'{attached()[0]["controllerType"]} {attached()[0]["controllerNumber"]}:{attached()[0]["location"]}'
    row = until(conditions.presence_of_element_located((By.CSS_SELECTOR, f'#vm-disks tr[data-location="{place}"] button[data-action="remove-drive"]')),
                f"the page did not list the new disk at {place}")
    shoot("vm-disk-added")
    browser.execute_script("window.confirm = () => true")
    press(row)
    until(lambda _: not attached(), lambda: f"the disk was not removed through the page; it said: {page_message()!r}")
    check(os.path.exists(new_disk), "removing the drive deleted its file")

    step("a network adapter added on the Off VM's settings page, its bandwidth and mirroring set, then removed")
    adapters = lambda: api(f"/v1/vms/{arguments.off_vm}/nics")
    before = len(adapters())
    press(until(conditions.element_to_be_clickable((By.CSS_SELECTOR, "#nic-new button[type=submit]")), "the Add Network Adapter form did not appear"))
    until(lambda _: len(adapters()) == before + 1, lambda: f"no adapter was added through the page; it said: {page_message()!r}")
    index = adapters()[-1]["index"]
    box = until(conditions.presence_of_element_located((By.CSS_SELECTOR, f'#vm-adapters input[data-nic="{index}"][data-feature="maximumBandwidth"]')),
                f"the page did not list adapter {index}")
    centred(box).send_keys("250" + Keys.TAB)
    until(lambda _: adapters()[-1]["adapter"]["settings"].get("maximumBandwidth") == 250_000_000,
          lambda: f"the bandwidth cap did not reach the adapter; it said: {page_message()!r}")
    mirroring = browser.find_element(By.CSS_SELECTOR, f'#vm-adapters select[data-nic="{index}"][data-feature="portMirroring"]')
    Select(centred(mirroring)).select_by_value("Destination")
    until(lambda _: adapters()[-1]["adapter"]["settings"]["portMirroring"] == "Destination",
          lambda: f"port mirroring did not reach the adapter; it said: {page_message()!r}")
    shoot("vm-adapter-added")
    press(browser.find_element(By.CSS_SELECTOR, f'#vm-adapters tr[data-nic="{index}"] button[data-action="remove-adapter"]'))
    until(lambda _: len(adapters()) == before, lambda: f"the adapter was not removed through the page; it said: {page_message()!r}")

    step("the serial console: the guest's output, and a command typed")
    browser.get(arguments.url + f"/#/console/{arguments.vm}")
    until(lambda b: b.find_element(By.ID, "console-status").text == "connected", "the serial console did not connect")
    terminal = browser.find_element(By.CSS_SELECTOR, "#terminal textarea")
    terminal.send_keys("\n")
    until(lambda b: "#" in (b.execute_script("return window.viridianConsoleText || ''")), "no shell prompt came from the guest")
    terminal.send_keys("echo web-console-$((6*7))\n")
    until(lambda b: "web-console-42" in (b.execute_script("return window.viridianConsoleText || ''")),
          "the typed command's output did not come back")
    shoot("serial-console")

    step("the graphical console receives a frame")
    browser.get(arguments.url + f"/#/screen/{arguments.vm}")
    until(lambda b: b.find_element(By.ID, "screen-status").text == "connected", "the graphical console did not connect")
    until(lambda b: b.execute_script("""
        const canvas = document.querySelector('#screen canvas');
        if (!canvas || canvas.width < 100) return false;
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) if (pixels[i] || pixels[i + 1] || pixels[i + 2]) return true;
        return false;"""), "no frame with a lit pixel arrived on the graphical console")
    shoot("graphical-console")

    step("a private switch made and removed on the switches page")
    browser.get(arguments.url + "/#/switches")
    until(conditions.visibility_of_element_located((By.ID, "switch-name")), "the switch form did not appear").send_keys("web-private")
    browser.find_element(By.CSS_SELECTOR, "#switch-new button[type=submit]").click()
    until(conditions.presence_of_element_located((By.CSS_SELECTOR, '#switch-list tr[data-switch="web-private"]')), "the new switch is not listed")
    shoot("switches")
    browser.execute_script("window.confirm = () => true")
    browser.find_element(By.CSS_SELECTOR, '#switch-list tr[data-switch="web-private"] button[data-action="remove-switch"]').click()
    until(lambda b: not b.find_elements(By.CSS_SELECTOR, '#switch-list tr[data-switch="web-private"]'), "the removed switch is still listed")

    for page in ["jobs", "events", "host"]:
        step(f"the {page} page")
        browser.get(arguments.url + f"/#/{page}")
        until(conditions.presence_of_element_located((By.CSS_SELECTOR, "main h1")), f"the {page} page did not draw")
        time.sleep(0.5)  # not a wait for an event: lets the page's second request finish before the screenshot
        shoot(page)
finally:
    with open(os.path.join(arguments.artifacts, "browser-console.log"), "w") as file:
        for entry in browser.get_log("browser"):
            file.write(f"{entry['level']} {entry['message']}\n")
    browser.quit()
step("all checks passed")
