#!/usr/bin/env python3
# The engine's saved-state transports, side by side in one run: a booted test guest (512 MiB, 200 MiB
# of memory filled from /dev/urandom) saved and restored by bare qemu-system-x86_64 through
# exec:cat (Viridian before QEMU 8.2), file: (Viridian on 8.2+), file: + mapped-ram, and
# file: + mapped-ram + multifd (2 channels), and exec:openssl (a shielded VM's encrypted state,
# the exact pipeline Viridian runs). Needs QEMU >= 9.0, openssl and the cached test guest
# (`viridian image test-guest`); RUNS=3 by default, MODES=file:,exec:openssl picks modes.
# Prints each run and the medians.
import socket, json, time, subprocess, os, glob, statistics, sys, tempfile
cache = sorted(glob.glob('/var/cache/viridian/test-guest/r*-*'))[-1]
m = json.load(open(cache + '/manifest.json'))
runs = int(os.environ.get('RUNS', '3'))
work = tempfile.mkdtemp(prefix='savebench-', dir='/var/tmp')
key = f'{work}/shield.key'
with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as k: k.write(os.urandom(32).hex())
openssl = f"openssl enc -aes-256-ctr -pbkdf2 -pass 'file:{key}'"

class QMP:
    def __init__(self, path):
        for _ in range(200):
            try:
                self.s = socket.socket(socket.AF_UNIX); self.s.connect(path); break
            except OSError: time.sleep(0.05)
        self.f = self.s.makefile('rw'); self.f.readline(); self.cmd('qmp_capabilities')
    def cmd(self, c, **a):
        self.f.write(json.dumps({'execute': c, 'arguments': a}) + '\n'); self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if 'return' in r: return r['return']
            if 'error' in r: raise RuntimeError(c + ': ' + r['error']['desc'])

def launch(tag, incoming=False):
    d = f'{work}/{tag}'; os.makedirs(d, exist_ok=True)
    disk = f'{d}/disk.qcow2'
    if not os.path.exists(disk):
        subprocess.check_call(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', m['disk'], '-F', 'qcow2', disk])
    args = ['qemu-system-x86_64', '-accel', 'tcg,thread=multi', '-M', 'pc-i440fx-10.0', '-m', '512', '-nodefaults',
            '-display', 'none', '-kernel', m['kernel'], '-initrd', m['initrd'], '-append', m['append'],
            '-drive', f'file={disk},format=qcow2,if=virtio', '-daemonize', '-pidfile', f'{d}/pid',
            '-chardev', f'socket,id=qmp,path={d}/qmp,server=on,wait=off', '-mon', 'chardev=qmp,mode=control',
            '-chardev', f'socket,id=con,path={d}/con,server=on,wait=off', '-serial', 'chardev:con']
    if incoming: args += ['-incoming', 'defer']
    for f in ['qmp', 'con']:
        if os.path.exists(f'{d}/{f}'): os.remove(f'{d}/{f}')
    subprocess.check_call(args)
    return d, QMP(f'{d}/qmp')

def console_until(d, send, marker, timeout=180):
    c = socket.socket(socket.AF_UNIX); c.connect(f'{d}/con'); c.settimeout(1)
    if send: c.sendall(send.encode())
    buf = b''; end = time.time() + timeout
    while time.time() < end:
        try:
            chunk = c.recv(65536)
            if chunk: buf += chunk
        except socket.timeout: pass
        if marker.encode() in buf: c.close(); return
    raise RuntimeError(f'no {marker!r} within {timeout}s: {buf[-300:]!r}')

def wait_migration(q, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        r = q.cmd('query-migrate')
        if r.get('status') == 'completed': return r
        if r.get('status') in ('failed', 'cancelled'): raise RuntimeError(str(r))
        time.sleep(0.01)
    raise RuntimeError('migration timeout')

modes = {
    'exec:cat': ([], lambda p: f'exec:cat > {p}', lambda p: f'exec:cat {p}'),
    'file:': ([], lambda p: f'file:{p}', lambda p: f'file:{p}'),
    'file:+mapped-ram': (['mapped-ram'], lambda p: f'file:{p}', lambda p: f'file:{p}'),
    'file:+mapped-ram+multifd2': (['mapped-ram', 'multifd'], lambda p: f'file:{p}', lambda p: f'file:{p}'),
    'exec:openssl': ([], lambda p: f"exec:{openssl} -out '{p}'", lambda p: f"exec:{openssl} -d -in '{p}'"),
}
if os.environ.get('MODES'):
    modes = {k: v for k, v in modes.items() if k in os.environ['MODES'].split(',')}
results = {k: ([], [], []) for k in modes}
for run in range(runs):
    for name, (caps, out, inn) in modes.items():
        tag = f'r{run}-{name.replace(":", "").replace("+", "-")}'
        d, q = launch(tag)
        console_until(d, None, 'VIRIDIAN-GUEST-READY')
        console_until(d, 'dd if=/dev/urandom of=/tmp/fill bs=1M count=200 2>/dev/null; echo FILL-$((1+1))-DONE\n', 'FILL-2-DONE')
        state = f'{d}/state'
        if caps: q.cmd('migrate-set-capabilities', capabilities=[{'capability': c, 'state': True} for c in caps])
        if 'multifd' in caps: q.cmd('migrate-set-parameters', **{'multifd-channels': 2})
        t0 = time.monotonic(); q.cmd('stop'); q.cmd('migrate', uri=out(state)); wait_migration(q)
        os.sync(); save = time.monotonic() - t0
        q.cmd('quit')
        size = os.path.getsize(state); alloc = os.stat(state).st_blocks * 512
        time.sleep(0.5)
        d2, q2 = launch(tag + '-in', incoming=True)
        if caps: q2.cmd('migrate-set-capabilities', capabilities=[{'capability': c, 'state': True} for c in caps])
        if 'multifd' in caps: q2.cmd('migrate-set-parameters', **{'multifd-channels': 2})
        t0 = time.monotonic(); q2.cmd('migrate-incoming', uri=inn(state))
        while q2.cmd('query-status')['status'] == 'inmigrate': time.sleep(0.005)
        restore = time.monotonic() - t0
        q2.cmd('cont')
        console_until(d2, 'ls -l /tmp/fill; echo R-$((2+2))\n', 'R-4')
        q2.cmd('quit')
        results[name][0].append(save); results[name][1].append(restore); results[name][2].append((size, alloc))
        print(f'run {run} {name}: save {save:.3f}s restore {restore:.3f}s file {size>>20} MiB ({alloc>>20} MiB allocated)', flush=True)
        subprocess.call(['rm', '-rf', d, d2])
print('median of', runs)
reference = 'exec:cat' if 'exec:cat' in results else next(iter(results))
base = statistics.median(results[reference][0])
base_restore = statistics.median(results[reference][1])
for name, (s, r, sz) in results.items():
    print(f'{name:28} save {statistics.median(s):.3f}s ({statistics.median(s)/base:.2f}x {reference}) '
          f'restore {statistics.median(r):.3f}s ({statistics.median(r)/base_restore:.2f}x)  file {sz[0][0]>>20} MiB, {sz[0][1]>>20} MiB allocated')
subprocess.call(['rm', '-rf', work])
