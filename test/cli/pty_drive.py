# Runs a command in a pseudo-terminal, types the given keystrokes (after waiting for each
# expected text to appear), and prints everything the terminal showed. Used by
# zk-cli-interactive.test.ts to exercise readline history and tab completion for real.
import json, os, pty, select, sys, time

def main():
    spec = json.loads(sys.argv[1])
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(spec['argv'][0], spec['argv'])
    seen = b''
    mark = 0  # each expectation must appear after the previous one
    def read_until(text, timeout):
        nonlocal seen, mark
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return False
                if not chunk:
                    return False
                seen += chunk
            if text is not None:
                at = seen.find(text.encode(), mark)
                if at >= 0:
                    mark = at + len(text.encode())
                    return True
        return text is None
    for step in spec['steps']:
        if 'expect' in step and not read_until(step['expect'], step.get('timeout', 10)):
            sys.stdout.write(json.dumps({'ok': False, 'missing': step['expect'], 'screen': seen.decode('utf8', 'replace')}))
            os.kill(pid, 9)
            return
        if 'send' in step:
            os.write(fd, step['send'].encode())
    read_until(None, 1.0)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    sys.stdout.write(json.dumps({'ok': True, 'screen': seen.decode('utf8', 'replace')}))

main()
